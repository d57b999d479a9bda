"""`deliver(alert, idempotency_key)`: the outbox's Slack handler. Builds an alert's data from the
marts (and `app.*`), routes it, applies snoozes and cool-downs, and posts it exactly once.

Exactly once, even if the process dies between Slack's 200 and our commit:
1. the key is locked (a PostgreSQL advisory lock: two workers with one key take turns);
2. a key recorded `sent` returns what was sent, without posting;
3. a new key is recorded `posting` (with the channel id and the message) *before* the post;
4. the post carries the key in its metadata (`devsignal_alert` / `idempotency_key`);
5. the key is recorded `sent` with Slack's ts.
A key found `posting` is a crashed attempt: its channel's history is searched for the key first,
and the message is posted again only if it is not there. The local sink does the same with its file.

Routing: the account owner's `app.members.slack_channel`, else the CRM's `slack.default_channel`,
else DEVSIGNAL_SLACK_DEFAULT_CHANNEL (an alert's own `channel` wins). Suppression, for account alerts only (`SNOOZABLE`): a snooze in
force -> `{"skipped": "snoozed"}`; an alert of the same type for the same account within its
cool-down -> `{"skipped": "cooldown"}`, except a HOT alert whose account left HOT (a tier change
in `marts.fct_account_tier_changes`) after the last one: down and back up is news.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import quote

from sqlalchemy import text

from orchestration.activation.outbox import PermanentError

from . import blocks, client

ALERT_TYPES = ("hot_account", "new_signup", "deal_stage_changed", "workflow_failed", "weekly_digest", "message")
# alert type -> minimum time between two alerts of that type for one account
COOLDOWNS: dict[str, dt.timedelta] = {
    "hot_account": dt.timedelta(days=7),
    "new_signup": dt.timedelta(hours=1),  # ten teammates signing up in an hour are one alert's worth
}


def _configured_cooldowns() -> dict[str, dt.timedelta]:
    """COOLDOWNS with the HOT window from DEVSIGNAL_SLACK_HOT_COOLDOWN_HOURS (read per call)."""
    from devsignal import settings

    hours = settings.get("DEVSIGNAL_SLACK_HOT_COOLDOWN_HOURS").strip()
    try:
        hot = dt.timedelta(hours=float(hours)) if hours else COOLDOWNS["hot_account"]
    except ValueError:
        raise AlertError(f"DEVSIGNAL_SLACK_HOT_COOLDOWN_HOURS must be a number of hours, got {hours!r}") from None
    return {**COOLDOWNS, "hot_account": hot}


# alerts a snooze silences (automatic noise about an account; a deal move is someone's deliberate act)
SNOOZABLE = ("hot_account", "new_signup")
MAX_KEY_CHARS = 255
# advisory-lock namespace of alert keys (pg_advisory_lock(int, int)); any constant unique to this use
KEY_LOCK_NAMESPACE = 0x736C6B01
# how far before a crashed attempt's start its channel history is searched (clock skew, slow posts)
FIND_MARGIN_SECONDS = 600
SYSTEM = "slack"


class AlertError(PermanentError, ValueError):
    """The alert cannot be sent as asked (bad payload, unknown account): retrying will not help."""


@dataclass
class Built:
    message: dict            # {"text", "blocks"}
    channel: str             # where it goes (name or id)
    account_id: Optional[str]
    tier: Optional[str] = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _engine():
    from apps import state

    return state.engine()


def _setting(name: str) -> str:
    from devsignal import settings

    return settings.get(name)


def app_url(path: str, **query: Any) -> str:
    base = _setting("DEVSIGNAL_APP_URL").rstrip("/")
    args = "&".join(f"{key}={quote(str(value), safe='')}" for key, value in query.items() if value is not None)
    return f"{base}/{path}" + (f"?{args}" if args else "")


# -- routing ----------------------------------------------------------------------------------------


def _member(conn, email: Optional[str]) -> Optional[dict]:
    if not email:
        return None
    row = conn.execute(text("""select email, display_name, slack_user_id, slack_channel from app.members
                               where email = :email and disabled_at is null"""), {"email": email}).first()
    return None if row is None else dict(row._mapping)


def account_owner(conn, account_id: Optional[str]) -> Optional[dict]:
    """The owner member of an account (`app.account_owners`), or None."""
    if not account_id:
        return None
    owner = conn.execute(text("select owner from app.account_owners where account_id = :id"), {"id": account_id}).scalar()
    return _member(conn, owner) or ({"email": owner, "display_name": owner, "slack_channel": None} if owner else None)


def _route(alert: dict, *members: Optional[dict]) -> str:
    if alert.get("channel"):
        return str(alert["channel"])
    for member in members:
        if member and member.get("slack_channel"):
            return member["slack_channel"]
    return default_channel()


def default_channel() -> str:
    """The CRM's `slack.default_channel` (Settings page), else DEVSIGNAL_SLACK_DEFAULT_CHANNEL."""
    from apps.state import members

    return members.get_setting("slack.default_channel") or _setting("DEVSIGNAL_SLACK_DEFAULT_CHANNEL")


def _who(member: Optional[dict]) -> Optional[str]:
    return None if member is None else (member.get("display_name") or member.get("email"))


# -- the data of each alert ---------------------------------------------------------------------------


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)


def _evidence(conn, signal_ids: list) -> list[dict]:
    if not signal_ids:
        return []
    rows = conn.execute(text("""
        select s.signal_id, s.signal_type, s.occurred_at,
               coalesce(p.display_name, p.full_name, p.primary_email, p.github_login, s.person_id, 'someone') as who
        from marts.fct_signals s left join marts.dim_people p on p.person_id = s.person_id
        where s.signal_id = any(:ids) order by s.occurred_at desc"""), {"ids": [str(i) for i in signal_ids]}).all()
    return [{"signal_type": r.signal_type, "who": r.who, "occurred_at": _iso(r.occurred_at)} for r in rows]


# factors whose evidence is the account's signals (the others explain themselves: people, size)
SIGNAL_FACTORS = ("feature_breadth", "usage_velocity", "engagement_recency")


def hot_account_data(conn, alert: dict) -> tuple[dict, Built]:
    account_id = _required(alert, "account_id")
    row = conn.execute(text("""select account_id, name, domain, score, tier, trend, count_signals_30d,
                                      count_signals_window, factors, evidence_signal_ids, score_date, reason
                               from marts.account_scores_current where account_id = :id"""), {"id": account_id}).first()
    if row is None:
        raise AlertError(f"account {account_id!r} has no score in marts.account_scores_current")
    factors = sorted(_jsonb(row.factors) or [], key=lambda f: float(f.get("points") or 0), reverse=True)[:3]
    evidence = _evidence(conn, _jsonb(row.evidence_signal_ids) or [])
    reasons, evidence_used = [], False
    for factor in factors:
        reason = {"text": factor.get("description") or factor.get("name"), "points": float(factor.get("points") or 0),
                  "max_points": float(factor.get("max_points") or 0), "evidence": []}
        if factor.get("name") in SIGNAL_FACTORS and evidence and not evidence_used:
            reason["evidence"] = evidence if factor.get("name") != "engagement_recency" else evidence[:1]
            evidence_used = True
        reasons.append(reason)
    owner = account_owner(conn, account_id)
    data = {"account_id": account_id, "name": row.name or row.domain, "score": row.score, "tier": row.tier,
            "trend": row.trend, "owner": _who(owner), "summary": row.reason,
            # v1 scores count 30 days; v2 scores count their own (decayed) window instead
            **({"signals_label": "Signals (30d)", "signals": row.count_signals_30d} if row.count_signals_30d is not None
               else {"signals_label": "Signals (scoring window)", "signals": row.count_signals_window}),
            "reasons": reasons, "account_url": app_url("account_360", account_id=account_id),
            "as_of": _iso(row.score_date)}
    return data, Built(blocks.hot_account(data), _route(alert, owner), account_id, row.tier)


def new_signup_data(conn, alert: dict) -> tuple[dict, Built]:
    person_id = _required(alert, "person_id")
    person = conn.execute(text("""select p.person_id, coalesce(p.display_name, p.full_name) as name, p.primary_email,
                                         p.title, p.account_id, a.name as account_name, p.first_seen_at
                                  from marts.dim_people p left join marts.dim_accounts a on a.account_id = p.account_id
                                  where p.person_id = :id"""), {"id": person_id}).first()
    if person is None:
        raise AlertError(f"person {person_id!r} is not in marts.dim_people")
    signal = None
    if alert.get("signal_id"):
        signal = conn.execute(text("select signal_type, occurred_at from marts.fct_signals where signal_id = :id"),
                              {"id": str(alert["signal_id"])}).first()
    owner = account_owner(conn, person.account_id)
    data = {"person_id": person_id, "name": person.name, "email": person.primary_email, "title": person.title,
            "account_id": person.account_id, "account_name": person.account_name,
            "signal_type": signal.signal_type if signal else "signup",
            "occurred_at": _iso(signal.occurred_at if signal else person.first_seen_at),
            "account_url": app_url("account_360", account_id=person.account_id) if person.account_id else None}
    return data, Built(blocks.new_signup(data), _route(alert, owner), person.account_id)


def deal_stage_changed_data(conn, alert: dict) -> tuple[dict, Built]:
    if alert.get("change_id") is not None:
        change = conn.execute(text("select deal_id, from_stage, to_stage from app.deal_stage_history where change_id = :id"),
                              {"id": int(alert["change_id"])}).first()
        if change is None:
            raise AlertError(f"deal stage change {alert['change_id']!r} does not exist")
        deal_id, from_stage, to_stage = change.deal_id, change.from_stage, change.to_stage
    else:
        deal_id = int(_required(alert, "deal_id"))
        from_stage, to_stage = alert.get("from_stage"), alert.get("to_stage")
    deal = conn.execute(text("""select d.deal_id, d.title, d.account_id, d.amount, d.currency, d.stage, d.owner,
                                       a.name as account_name
                                from app.deals d left join marts.dim_accounts a on a.account_id = d.account_id
                                where d.deal_id = :id"""), {"id": deal_id}).first()
    if deal is None:
        raise AlertError(f"deal {deal_id} does not exist")
    deal_owner = _member(conn, deal.owner)
    data = {"deal_id": deal.deal_id, "title": deal.title, "account_id": deal.account_id,
            "account_name": deal.account_name, "amount": deal.amount, "currency": deal.currency,
            "from_stage": from_stage, "to_stage": to_stage or deal.stage, "owner": _who(deal_owner) or deal.owner,
            "deal_url": app_url("deals", deal_id=deal.deal_id)}
    return data, Built(blocks.deal_stage_changed(data), _route(alert, deal_owner, account_owner(conn, deal.account_id)),
                       deal.account_id)


def workflow_failed_data(conn, alert: dict) -> tuple[dict, Built]:
    if not alert.get("workflow_name") and alert.get("workflow_id") is None:
        raise AlertError("a workflow_failed alert needs workflow_name or workflow_id")
    data = {"workflow_id": alert.get("workflow_id"), "workflow_name": alert.get("workflow_name"),
            "action": alert.get("action"), "error": alert.get("error"),
            "failed_at": alert.get("failed_at") or _iso(_now()),
            "workflow_url": app_url("workflows", workflow_id=alert.get("workflow_id"))}
    return data, Built(blocks.workflow_failed(data), _route(alert), None)


def weekly_digest_data(conn, alert: dict, now: dt.datetime) -> tuple[dict, Built]:
    end = dt.date.fromisoformat(alert["period_end"]) if alert.get("period_end") else now.date()
    start = end - dt.timedelta(days=7)
    bounds = {"start": start, "end": end + dt.timedelta(days=1)}  # [start, end] by day
    top = conn.execute(text("""select account_id, coalesce(name, domain, account_id) as name, tier, score
                               from marts.account_scores_current order by score desc, account_id limit 5""")).all()
    signals = conn.execute(text("""select count(*) from marts.fct_signals
                                   where occurred_at >= :start and occurred_at < :end"""), bounds).scalar()
    contacts = conn.execute(text("""select count(*) from marts.dim_people where not coalesce(is_anonymous, false)
                                    and first_seen_at >= :start and first_seen_at < :end"""), bounds).scalar()
    deals = conn.execute(text("""
        select count(*) filter (where stage = 'CLOSED_WON' and closed_at >= :start and closed_at < :end) as won,
               count(*) filter (where stage = 'CLOSED_LOST' and closed_at >= :start and closed_at < :end) as lost,
               coalesce(sum(amount) filter (where stage not in ('CLOSED_WON', 'CLOSED_LOST')), 0) as pipeline
        from app.deals where deleted_at is null"""), bounds).first()
    data = {"period": f"{start:%b %-d} – {end:%b %-d, %Y}",
            "top_accounts": [dict(r._mapping) for r in top], "new_signals": signals, "new_contacts": contacts,
            "deals_won": deals.won, "deals_lost": deals.lost, "pipeline_value": deals.pipeline,
            "dashboard_url": app_url("")}
    return data, Built(blocks.weekly_digest(data), _route(alert), None)


def message_data(alert: dict) -> tuple[dict, Built]:
    body = _required(alert, "text")
    channel = _route(alert)  # its own channel, else the default
    return {"channel": channel, "text": body}, Built(blocks.plain_message(str(body)), channel, alert.get("account_id"))


def build(conn, alert: dict, now: dt.datetime) -> tuple[dict, Built]:
    """(the alert's data, its message and channel): everything but the sending."""
    kind = alert.get("type")
    if kind == "hot_account":
        return hot_account_data(conn, alert)
    if kind == "new_signup":
        return new_signup_data(conn, alert)
    if kind == "deal_stage_changed":
        return deal_stage_changed_data(conn, alert)
    if kind == "workflow_failed":
        return workflow_failed_data(conn, alert)
    if kind == "weekly_digest":
        return weekly_digest_data(conn, alert, now)
    if kind == "message":
        return message_data(alert)
    raise AlertError(f"unknown Slack alert type {kind!r}; expected one of {', '.join(ALERT_TYPES)}")


def _required(alert: dict, field: str) -> Any:
    value = alert.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise AlertError(f"a {alert.get('type')} alert needs {field!r}")
    return value


def _jsonb(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


# -- snoozes and cool-downs ---------------------------------------------------------------------------


def snoozed_until(conn, account_id: str, now: dt.datetime) -> Optional[dt.datetime]:
    """When the account's snooze in force ends (None = not snoozed at `now`)."""
    return conn.execute(text("select max(until) from app.slack_snoozes where account_id = :id and until > :now"),
                        {"id": account_id, "now": now}).scalar()


def _in_cooldown(conn, kind: str, account_id: str, now: dt.datetime, window: dt.timedelta) -> bool:
    last = conn.execute(text("""select started_at from app.slack_alerts_sent
                                where account_id = :id and alert_type = :kind and started_at <= :now
                                order by started_at desc limit 1"""), {"id": account_id, "kind": kind, "now": now}).first()
    if last is None or now - last.started_at >= window:
        return False
    if kind == "hot_account":
        left_hot = conn.execute(text("""select 1 from marts.fct_account_tier_changes
                                        where account_id = :id and from_tier = 'HOT' and to_tier <> 'HOT'
                                          and scored_at > :since limit 1"""), {"id": account_id, "since": last.started_at}).first()
        return left_hot is None
    return True


def suppressed(conn, alert: dict, built: Built, now: dt.datetime,
               cooldowns: Optional[dict[str, dt.timedelta]] = None) -> Optional[str]:
    kind = alert["type"]
    if kind not in SNOOZABLE or not built.account_id:
        return None
    if conn.execute(text("select 1 from app.account_suppressions where account_id = :id"),
                    {"id": built.account_id}).first():
        return "deleted"  # deleted in the CRM: nobody wants to hear about it
    if snoozed_until(conn, built.account_id, now):
        return "snoozed"
    window = (_configured_cooldowns() if cooldowns is None else cooldowns).get(kind)
    if window and _in_cooldown(conn, kind, built.account_id, now, window):
        return "cooldown"
    return None


# -- exactly-once delivery --------------------------------------------------------------------------------


def _record(conn, key: str) -> Optional[dict]:
    row = conn.execute(text("select * from app.slack_alerts_sent where idempotency_key = :key"), {"key": key}).first()
    return None if row is None else dict(row._mapping)


def _mark_posting(key: str, alert: dict, built: Built, channel_id: str, transport: str, now: dt.datetime) -> None:
    from apps.state import Actor, command

    with command(Actor.system(SYSTEM), "MEMBER", "slack.alert.posting", "slack_alert", key) as (conn, audit):
        conn.execute(text("""insert into app.slack_alerts_sent
                                 (idempotency_key, alert_type, account_id, channel, transport, status, tier, message, started_at)
                             values (:key, :kind, :account, :channel, :transport, 'posting', :tier, cast(:message as jsonb), :now)"""),
                     {"key": key, "kind": alert["type"], "account": built.account_id, "channel": channel_id,
                      "transport": transport, "tier": built.tier, "message": json.dumps(built.message, default=str),
                      "now": now})
        audit.after = {"type": alert["type"], "account_id": built.account_id, "channel": channel_id, "transport": transport}


def _mark_sent(key: str, ts: str, found_in_history: bool) -> None:
    from apps.state import Actor, command

    with command(Actor.system(SYSTEM), "MEMBER", "slack.alert.sent", "slack_alert", key) as (conn, audit):
        conn.execute(text("""update app.slack_alerts_sent set status = 'sent', ts = :ts, sent_at = now()
                             where idempotency_key = :key"""), {"key": key, "ts": ts})
        audit.after = {"ts": ts}
        if found_in_history:
            audit.detail = "found in the channel after a crashed attempt; not posted again"


class _KeyLock:
    """A session advisory lock on the key, on a connection of its own for the whole delivery."""

    def __init__(self, key: str):
        self.key = key

    def __enter__(self):
        self.conn = _engine().connect()
        self.conn.execute(text("select pg_advisory_lock(:ns, hashtext(:key))"), {"ns": KEY_LOCK_NAMESPACE, "key": self.key})
        self.conn.commit()
        return self.conn

    def __exit__(self, *exc):
        try:
            self.conn.rollback()
            self.conn.execute(text("select pg_advisory_unlock(:ns, hashtext(:key))"), {"ns": KEY_LOCK_NAMESPACE, "key": self.key})
            self.conn.commit()
        finally:
            self.conn.close()


def deliver(alert: dict, idempotency_key: str, *, now: Optional[dt.datetime] = None,
            cooldowns: Optional[dict[str, dt.timedelta]] = None) -> dict:
    """Send `alert` once per `idempotency_key`: `{"channel", "ts"}`, or `{"skipped": "deleted" | "snoozed" | "cooldown"}`.
    `now` is the clock for snoozes and cool-downs (tests); `cooldowns` replaces COOLDOWNS."""
    if not isinstance(alert, dict) or alert.get("type") not in ALERT_TYPES:
        kind = alert.get("type") if isinstance(alert, dict) else type(alert).__name__
        raise AlertError(f"unknown Slack alert type {kind!r}; expected one of {', '.join(ALERT_TYPES)}")
    if not isinstance(idempotency_key, str) or not idempotency_key.strip() or len(idempotency_key) > MAX_KEY_CHARS:
        raise AlertError(f"an idempotency key is a non-empty string of at most {MAX_KEY_CHARS} characters")
    now = now or _now()
    out = client.transport()
    with _KeyLock(idempotency_key) as conn:
        record = _record(conn, idempotency_key)
        if record and record["status"] == "sent":
            return {"channel": record["channel"], "ts": record["ts"]}
        if record is None:
            _, built = build(conn, alert, now)
            conn.rollback()  # end the read transaction: the lock is held by the session, not by it
            skip = suppressed(conn, alert, built, now, cooldowns)
            conn.rollback()
            if skip:
                return {"skipped": skip}
            channel_id = out.channel_id(built.channel)
            message = built.message
            _mark_posting(idempotency_key, alert, built, channel_id, out.kind, now)
        else:  # 'posting': an earlier attempt died after recording it, maybe after Slack took the message
            conn.rollback()
            if record["transport"] != out.kind:  # the token changed in between: check where it was going
                if record["transport"] != "sink":
                    raise AlertError(f"alert {idempotency_key!r} was being posted to Slack when its process stopped; "
                                     "DEVSIGNAL_SLACK_BOT_TOKEN is now unset, so whether it arrived cannot be checked")
                out = client.SinkTransport(client.sink_path())
            channel_id, message = record["channel"], record["message"]
            oldest = min(record["started_at"].timestamp(), _now().timestamp()) - FIND_MARGIN_SECONDS
            found = out.find(channel_id, idempotency_key, oldest)
            if found:
                _mark_sent(idempotency_key, found, found_in_history=True)
                return {"channel": channel_id, "ts": found}
        ts = out.post(channel_id, message, idempotency_key)
        _mark_sent(idempotency_key, ts, found_in_history=False)
        return {"channel": channel_id, "ts": ts}
