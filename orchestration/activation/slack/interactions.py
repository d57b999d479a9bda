"""The work behind the alert buttons, after `POST /slack/interactions` has stored the click and
answered Slack (`apps/api/slack.py`).

A click is a row in `app.slack_interactions`, unique on (trigger_id or action_ts) + action_id, so a
Slack retry stores nothing new. `process(id)` takes the row (status `working`, a lease), does the
action, and answers through the click's `response_url`:
- `claim`: `apps.state.deals.claim_account` as the member whose `slack_user_id` clicked;
- `snooze_1d` / `snooze_7d` / `snooze_30d`: a row in `app.slack_snoozes` until now + n days;
- `view_brief`: a short brief of the account from the marts (nothing written);
- `dismiss`: a row in `app.slack_dismissals`, and the message is replaced by "Dismissed by …".
Writes need a linked, enabled member (role MEMBER or above); anyone else gets a reply that says
so and nothing is written. Snoozes and dismissals are keyed by the click and land in the same
transaction as the row's `done`, so a click processed twice (a crash, a retry) acts once.

`process_pending()` finishes clicks a crash left behind (pending past a grace period, or working
past the lease); Dagster calls it from a sensor.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any, Optional

from sqlalchemy import text

from . import blocks, client

log = logging.getLogger(__name__)

ACTIONS = tuple(blocks.ACCOUNT_ACTIONS)
WRITE_ACTIONS = ("claim", "snooze_1d", "snooze_7d", "snooze_30d", "dismiss")
# a click still pending after this was missed by its background task (the API died): pick it up
PENDING_GRACE = dt.timedelta(seconds=30)
# a click `working` for longer than this belongs to a worker that died
WORK_LEASE = dt.timedelta(minutes=2)
MAX_ATTEMPTS = 5
SYSTEM = "slack-interactions"


class BadInteraction(ValueError):
    """The payload is not a Slack block_actions click we can act on (the API answers 400)."""


@dataclass(frozen=True)
class Click:
    dedup_key: str
    action_id: str
    account_id: Optional[str]
    slack_user_id: Optional[str]
    slack_team_id: Optional[str]
    response_url: Optional[str]


def parse(payload: Any) -> Optional[Click]:
    """The click in a Slack interaction payload; None for payload types we do not act on."""
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise BadInteraction("payload is not a Slack interaction (a JSON object with a type)")
    if payload["type"] != "block_actions":
        return None
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        raise BadInteraction("block_actions payload without actions")
    action = actions[0]
    action_id = action.get("action_id")
    if not isinstance(action_id, str) or not action_id:
        raise BadInteraction("the action has no action_id")
    delivery = payload.get("trigger_id") or action.get("action_ts")
    if not isinstance(delivery, str) or not delivery:
        raise BadInteraction("the payload has neither trigger_id nor action_ts to deduplicate on")
    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    team = payload.get("team") if isinstance(payload.get("team"), dict) else {}
    value = action.get("value")
    response_url = payload.get("response_url")
    return Click(dedup_key=f"{delivery}:{action_id}", action_id=action_id,
                 account_id=value if isinstance(value, str) and value else None,
                 slack_user_id=user.get("id"), slack_team_id=team.get("id"),
                 response_url=response_url if isinstance(response_url, str) and response_url.startswith(("https://", "http://")) else None)


def _engine():
    from apps import state

    return state.engine()


def store(payload: dict, click: Click) -> Optional[int]:
    """Keep the click (before Slack gets its 200). Its id, or None when it is a redelivery."""
    from apps.state import Actor, command

    with command(Actor.system(SYSTEM), "MEMBER", "slack.interaction.receive", "slack_interaction") as (conn, audit):
        new_id = conn.execute(text("""
            insert into app.slack_interactions (dedup_key, action_id, account_id, slack_user_id, slack_team_id,
                                                response_url, payload)
            values (:dedup_key, :action_id, :account_id, :user, :team, :response_url, cast(:payload as jsonb))
            on conflict (dedup_key) do nothing returning interaction_id"""),
            {"dedup_key": click.dedup_key, "action_id": click.action_id, "account_id": click.account_id,
             "user": click.slack_user_id, "team": click.slack_team_id, "response_url": click.response_url,
             "payload": json.dumps(payload)}).scalar()
        audit.entity_id = new_id
        audit.after = {"action_id": click.action_id, "account_id": click.account_id, "slack_user_id": click.slack_user_id}
        audit.detail = None if new_id else f"redelivery of {click.dedup_key}: not stored again"
    return new_id


# -- doing the work ---------------------------------------------------------------------------------


def _take(interaction_id: int) -> Optional[dict]:
    """Lease the row if it is pending (or its lease ran out); None if someone else has it or it is finished."""
    from apps.state import Actor, command

    with command(Actor.system(SYSTEM), "MEMBER", "slack.interaction.take", "slack_interaction", interaction_id) as (conn, audit):
        row = conn.execute(text("""
            update app.slack_interactions set status = 'working', started_at = now(), attempts = attempts + 1
            where interaction_id = :id
              and (status = 'pending' or (status = 'working' and started_at < now() - make_interval(secs => :lease)))
            returning *"""), {"id": interaction_id, "lease": WORK_LEASE.total_seconds()}).first()
        audit.detail = "taken" if row else "not available (finished, or another worker has it)"
    return None if row is None else dict(row._mapping)


def _finish(conn, interaction_id: int, status: str, reply: Optional[str], error: Optional[str] = None) -> None:
    conn.execute(text("""update app.slack_interactions set status = :status, reply = :reply, error = :error, done_at = now()
                         where interaction_id = :id"""),
                 {"id": interaction_id, "status": status, "reply": reply, "error": error})


def _finish_alone(interaction_id: int, status: str, reply: Optional[str], error: Optional[str] = None) -> None:
    from apps.state import Actor, command

    with command(Actor.system(SYSTEM), "MEMBER", f"slack.interaction.{status}", "slack_interaction",
                 interaction_id) as (conn, audit):
        _finish(conn, interaction_id, status, reply, error)
        audit.after, audit.detail = {"status": status}, error


def _member(conn, slack_user_id: Optional[str]) -> Optional[dict]:
    if not slack_user_id:
        return None
    row = conn.execute(text("""select email, role, display_name from app.members
                               where slack_user_id = :id and disabled_at is null"""), {"id": slack_user_id}).first()
    return None if row is None else dict(row._mapping)


def _account(conn, account_id: Optional[str]) -> Optional[dict]:
    if not account_id:
        return None
    row = conn.execute(text("""select a.account_id, coalesce(a.name, a.domain, a.account_id) as name, a.domain
                               from marts.dim_accounts a where a.account_id = :id"""), {"id": account_id}).first()
    return None if row is None else dict(row._mapping)


def brief(conn, account_id: str) -> Optional[str]:
    """A few lines on an account from the marts: score, tier, top reasons, people, last activity."""
    row = conn.execute(text("""
        select a.account_id, coalesce(a.name, a.domain, a.account_id) as name, a.domain, a.industry, a.size_band,
               s.score, s.tier, s.trend, s.factors, s.count_signals_30d, s.count_signals_window,
               (select count(*) from marts.dim_people p
                 where p.account_id = a.account_id and not coalesce(p.is_anonymous, false)) as people,
               (select max(f.occurred_at) from marts.fct_signals f where f.account_id = a.account_id) as last_at,
               (select f.signal_type from marts.fct_signals f where f.account_id = a.account_id
                 order by f.occurred_at desc limit 1) as last_type
        from marts.dim_accounts a left join marts.account_scores_current s on s.account_id = a.account_id
        where a.account_id = :id"""), {"id": account_id}).first()
    if row is None:
        return None
    factors = row.factors if not isinstance(row.factors, str) else json.loads(row.factors)
    top = sorted(factors or [], key=lambda f: float(f.get("points") or 0), reverse=True)[:3]
    lines = [f"*{blocks.escape(row.name)}* ({blocks.escape(row.domain or '—')}) · "
             f"{blocks.escape(row.industry or 'industry unknown')} · {blocks.escape(row.size_band or 'size unknown')}"]
    if row.score is not None:
        lines.append(f"PQA {row.score}/100 {blocks.TIER_BADGES.get(row.tier, blocks.escape(row.tier))} · "
                     f"{blocks.TRENDS.get(row.trend or '', blocks.escape(row.trend or '—'))} · "
                     + (f"{row.count_signals_30d:,} signals in 30 days" if row.count_signals_30d is not None
                        else f"{row.count_signals_window or 0:,} signals in the scoring window"))
    else:
        lines.append("Not scored yet")
    lines += [f"{n}. {blocks.escape(f.get('description') or f.get('name'))}" for n, f in enumerate(top, start=1)]
    last = (f"{row.last_at.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M UTC} ({blocks.escape(row.last_type)})"
            if row.last_at else "none")
    lines.append(f"People: {row.people:,} · last activity: {last}")
    return "\n".join(lines)


def _send_reply(row: dict, body: dict) -> Optional[str]:
    """Answer through the click's response_url; the error text if that failed (the action stands)."""
    if not row.get("response_url"):
        return "no response_url in the payload"
    try:
        status = client.reply(row["response_url"], body)
    except Exception as error:  # noqa: BLE001 - a lost reply must not undo the action
        return f"reply failed: {type(error).__name__}: {error}"
    return None if status < 300 else f"reply answered HTTP {status}"


def _ephemeral(message: str) -> dict:
    return {"response_type": "ephemeral", "replace_original": False, "text": message}


def process(interaction_id: int, *, now: Optional[dt.datetime] = None) -> Optional[str]:
    """Do one click's action and answer it. Returns the final status, or None if not ours to do."""
    row = _take(interaction_id)
    if row is None:
        return None
    try:
        status, reply_body = _act(row, now or dt.datetime.now(dt.timezone.utc))
    except Exception as error:  # noqa: BLE001 - recorded; process_pending tries again
        log.exception("slack interaction %s failed", interaction_id)
        final = "failed" if row["attempts"] >= MAX_ATTEMPTS else "pending"
        _finish_alone(interaction_id, final, None, f"{type(error).__name__}: {error}")
        return final
    if reply_body is not None:
        problem = _send_reply(row, reply_body)
        if problem:
            log.warning("slack interaction %s: %s", interaction_id, problem)
            with _engine().begin() as conn:  # bookkeeping on our own row; the action is already audited
                conn.execute(text("update app.slack_interactions set error = :e where interaction_id = :id"),
                             {"e": problem, "id": interaction_id})
    return status


def _act(row: dict, now: dt.datetime) -> tuple[str, Optional[dict]]:
    """Do the action. (status, reply body); `done`/`refused` is committed here, with the action."""
    from apps.state import Actor, PermissionDenied, command
    from apps.state import deals

    iid, action_id = row["interaction_id"], row["action_id"]
    with _engine().connect() as conn:
        member = _member(conn, row["slack_user_id"])
        account = _account(conn, row["account_id"])
        brief_text = brief(conn, row["account_id"]) if action_id == "view_brief" and account else None

    def refuse(message: str, error: str) -> tuple[str, dict]:
        _finish_alone(iid, "refused", message, error)
        return "refused", _ephemeral(message)

    if action_id not in ACTIONS:
        _finish_alone(iid, "refused", None, f"unknown action_id {action_id!r}")
        return "refused", None
    if account is None:
        return refuse(f"I can't find the account {blocks.escape(row['account_id'] or '(none)')} any more.",
                      "unknown account")
    if action_id == "view_brief":
        _finish_alone(iid, "done", brief_text)
        return "done", _ephemeral(brief_text)
    if member is None:
        return refuse("Your Slack user isn't linked to a DevSignal member, so I changed nothing. "
                      "Ask an admin to set your Slack user id in DevSignal's settings.",
                      f"unknown Slack user {row['slack_user_id']}")
    actor = Actor(member["email"], member["role"])
    name = blocks.escape(account["name"])
    try:
        if action_id == "claim":
            deal = deals.claim_account(actor, account["account_id"], account["name"], via="slack")
            message = (f"You own *{name}* now; deal “{blocks.escape(deal['title'])}” (#{deal['deal_id']}) "
                       f"is at {deal['stage'].replace('_', ' ').title()}.")
            _finish_alone(iid, "done", message)
            return "done", _ephemeral(message)
        if action_id in blocks.SNOOZE_DAYS:
            days = blocks.SNOOZE_DAYS[action_id]
            until = now + dt.timedelta(days=days)
            message = (f"Snoozed *{name}* for {days} day{'s' if days > 1 else ''}: no alerts until "
                       f"{until.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M UTC}.")
            with command(actor, "MEMBER", "account.snooze", "account", account["account_id"]) as (conn, audit):
                conn.execute(text("""insert into app.slack_snoozes (account_id, until, snoozed_by, interaction_id)
                                     values (:account, :until, :by, :iid) on conflict (interaction_id) do nothing"""),
                             {"account": account["account_id"], "until": until, "by": actor.email, "iid": iid})
                _finish(conn, iid, "done", message)
                audit.after = {"until": until.isoformat(), "interaction_id": iid}
            return "done", _ephemeral(message)
        # dismiss
        container = (row["payload"] or {}).get("container") or {}
        message = f"Dismissed by {blocks.escape(member['display_name'] or member['email'])}"
        with command(actor, "MEMBER", "slack.dismiss", "account", account["account_id"]) as (conn, audit):
            conn.execute(text("""insert into app.slack_dismissals (interaction_id, account_id, channel, message_ts, dismissed_by)
                                 values (:iid, :account, :channel, :ts, :by) on conflict (interaction_id) do nothing"""),
                         {"iid": iid, "account": account["account_id"], "channel": container.get("channel_id"),
                          "ts": container.get("message_ts"), "by": actor.email})
            _finish(conn, iid, "done", message)
            audit.after = {"interaction_id": iid}
        return "done", {"replace_original": True, "text": f"✅ {message}"}
    except PermissionDenied:
        return refuse(f"Your DevSignal role ({actor.role}) can't do that; it needs MEMBER or above.",
                      f"{actor.email} is {actor.role}")


def process_pending(*, limit: int = 100, now: Optional[dt.datetime] = None) -> int:
    """Finish clicks left pending (past PENDING_GRACE) or working (past WORK_LEASE) by a crash.
    Returns how many were processed."""
    with _engine().connect() as conn:
        ids = conn.execute(text("""
            select interaction_id from app.slack_interactions
            where (status = 'pending' and received_at < now() - make_interval(secs => :grace))
               or (status = 'working' and started_at < now() - make_interval(secs => :lease))
            order by interaction_id limit :limit"""),
            {"grace": PENDING_GRACE.total_seconds(), "lease": WORK_LEASE.total_seconds(), "limit": limit}).scalars().all()
    return sum(1 for iid in ids if process(iid, now=now) is not None)
