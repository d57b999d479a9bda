"""The four event triggers: which new events there are (queries), and the outbox rows each one makes.

| trigger           | events                                   | side effects (outbox rows)                          |
|-------------------|------------------------------------------|-----------------------------------------------------|
| `tier_change`     | `marts.fct_account_tier_changes` (live   | workflows `score_changed`; webhook                   |
|                   | score version)                           | `score.changed`; Slack `hot_account` if HOT  |
| `deal_stage`      | `app.deal_stage_history` (not creations) | workflows `deal_stage_changed`; webhook `deal.updated`; Slack |
| `contact_created` | new people in `marts.dim_people`         | workflows `contact_created`; webhook; Slack `new_signup` |
| `signal_received` | new rows in `marts.fct_signals`          | workflows `signal_received`                          |

`act(connection, trigger)` runs in the caller's transaction, serialised per trigger by an advisory
lock: it sets the trigger's baseline on its first run (older events are history and never act),
reads the events after it that no earlier run decided on, and for each one writes its outbox rows
and its `app.activation_events` row together. A crash before the commit leaves nothing; a repeat
after it finds nothing new. Either way every (event, action) is enqueued once.

Freshness gating: a downgrade of an account whose recent signals come from a stale or failed source
is **blocked** (its row says why) instead of alerting "went cold"; it is decided again on the next
evaluation, once the source has caught up and the scores were rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field

from sqlalchemy import text

from . import freshness, outbox

log = logging.getLogger(__name__)

TRIGGERS = ("tier_change", "deal_stage", "contact_created", "signal_received")
# the workflow trigger names of orchestration.activation.workflows.plan()
WORKFLOW_TRIGGER = {"tier_change": "score_changed", "deal_stage": "deal_stage_changed",
                    "contact_created": "contact_created", "signal_received": "signal_received"}
DEFAULT_LIMIT = {"tier_change": 2_000, "deal_stage": 2_000, "contact_created": 5_000, "signal_received": 50_000}
# a downgrade lands in one of these tiers when signals stop arriving
COOLING_TIERS = ("WARM", "COLD", "INACTIVE")
# how far back "the account's recent signals" reach, for freshness gating
RECENT_SIGNALS = "30 days"


@dataclass
class Decision:
    """What one `act()` did for one trigger."""

    trigger: str
    baseline_set: bool = False
    acted: int = 0
    outbox_rows: int = 0
    blocked: dict[str, str] = field(default_factory=dict)   # event_id -> reason
    more: bool = False                                        # the limit was hit: call again
    missing: str | None = None                                # its table does not exist yet

    def describe(self) -> str:
        if self.missing:
            return f"{self.trigger}: {self.missing} does not exist yet (marts not built)"
        text_ = f"{self.trigger}: {self.acted} events acted on, {self.outbox_rows} outbox rows"
        if self.baseline_set:
            text_ += " (baseline set now: earlier events are history)"
        if self.blocked:
            reasons = sorted(set(self.blocked.values()))
            text_ += f"; {len(self.blocked)} blocked ({'; '.join(reasons)[:500]})"
        return text_


EVENT_TABLE = {"tier_change": "marts.fct_account_tier_changes", "deal_stage": "app.deal_stage_history",
               "contact_created": "marts.dim_people", "signal_received": "marts.fct_signals"}


def _check(trigger: str) -> None:
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}; expected one of {', '.join(TRIGGERS)}")


def _lock(connection, trigger: str) -> None:
    key = int.from_bytes(hashlib.sha256(f"devsignal.activation:{trigger}".encode()).digest()[:8], "big", signed=True)
    connection.execute(text("select pg_advisory_xact_lock(:key)"), {"key": key})


# ----------------------------------------------------------------------------- baselines

BASELINE_SQL = {
    # the latest scoring day's changes still act on the first run (a HOT crossing today must alert)
    "tier_change": """select coalesce(cast(max(score_date) - 1 as text), '0001-01-01') from marts.fct_account_tier_changes""",
    "deal_stage": "select coalesce(cast(max(change_id) as text), '0') from app.deal_stage_history",
    "contact_created": """select coalesce(to_char(max(first_seen_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                                 '0001-01-01T00:00:00Z') from marts.dim_people""",
    "signal_received": """select coalesce(to_char(max(occurred_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                                 '0001-01-01T00:00:00Z') from marts.fct_signals""",
}


def baseline(connection, trigger: str) -> tuple[str, bool]:
    """The trigger's baseline, set now if it has none; (baseline, set_now)."""
    _check(trigger)
    row = connection.execute(text("select baseline from app.activation_triggers where trigger = :t"),
                             {"t": trigger}).first()
    if row:
        return row.baseline, False
    value = connection.execute(text(BASELINE_SQL[trigger])).scalar()
    connection.execute(text("insert into app.activation_triggers (trigger, baseline) values (:t, :b)"),
                       {"t": trigger, "b": value})
    return value, True


# ----------------------------------------------------------------------------- the decision queries

PENDING_SQL = {
    "tier_change": """
        select tc.tier_change_id as event_id, tc.account_id, a.domain, a.name, tc.score_version,
               tc.score_date, tc.scored_at, tc.from_tier, tc.to_tier, tc.direction, tc.score,
               tc.previous_score, tc.score_change, tc.reason, tc.factors,
               tc.evidence_signal_ids, tc.evidence_signal_types
        from marts.fct_account_tier_changes tc
        join (select distinct score_version from marts.account_scores_current) live using (score_version)
        left join marts.dim_accounts a on a.account_id = tc.account_id
        where tc.score_date > cast(:baseline as date) and tc.from_tier is not null
          and not exists (select 1 from app.activation_events e
                          where e.trigger = 'tier_change' and e.event_id = tc.tier_change_id and e.status = 'acted')
        order by tc.score_date, tc.tier_change_id
        limit :limit""",
    "deal_stage": """
        select cast(h.change_id as text) as event_id, h.change_id, h.deal_id, d.title, d.account_id, d.person_id,
               d.owner, d.amount, d.currency, h.from_stage, h.to_stage, h.changed_by, h.via, h.changed_at
        from app.deal_stage_history h
        join app.deals d using (deal_id)
        where h.change_id > cast(:baseline as bigint) and h.from_stage is not null
          and not exists (select 1 from app.activation_events e
                          where e.trigger = 'deal_stage' and e.event_id = cast(h.change_id as text)
                            and e.status = 'acted')
        order by h.change_id
        limit :limit""",
    "contact_created": """
        select p.person_id as event_id, p.person_id, p.display_name, p.full_name, p.title, p.primary_email,
               p.github_login, p.account_id, p.account_domain, p.match_rule, p.first_seen_at
        from marts.dim_people p
        where p.first_seen_at > cast(:baseline as timestamptz)
          and not p.is_anonymous and not p.is_bot and not p.is_internal and not p.is_test_account
          and not exists (select 1 from app.activation_events e
                          where e.trigger = 'contact_created' and e.event_id = p.person_id and e.status = 'acted')
        order by p.first_seen_at, p.person_id
        limit :limit""",
    "signal_received": """
        select s.signal_id as event_id, s.signal_id, s.person_id, s.account_id, s.signal_type, s.source,
               s.properties, s.occurred_at
        from marts.fct_signals s
        where s.occurred_at > cast(:baseline as timestamptz)
          and not exists (select 1 from app.activation_events e
                          where e.trigger = 'signal_received' and e.event_id = s.signal_id and e.status = 'acted')
        order by s.occurred_at, s.signal_id
        limit :limit""",
}


def pending(connection, trigger: str, limit: int | None = None) -> list[dict]:
    """Events after the baseline that no run has acted on yet (oldest first)."""
    value, _ = baseline(connection, trigger)
    rows = connection.execute(text(PENDING_SQL[trigger]),
                              {"baseline": value, "limit": limit or DEFAULT_LIMIT[trigger]})
    return [_jsonable(dict(row._mapping)) for row in rows]


def _jsonable(row: dict) -> dict:
    return json.loads(json.dumps(row, default=str))


# ----------------------------------------------------------------------------- freshness gating

def blocked_accounts(connection, account_ids: list[str], stale: dict[str, str]) -> dict[str, str]:
    """account_id -> why its downgrade must not alert: its recent signals come from a stale source."""
    if not stale or not account_ids:
        return {}
    rows = connection.execute(
        text(f"""select account_id, array_agg(distinct source order by source) as sources
                 from marts.fct_signals
                 where account_id = any(:accounts) and source = any(:sources)
                   and occurred_at > (select max(occurred_at) from marts.fct_signals) - interval '{RECENT_SIGNALS}'
                 group by account_id"""),
        {"accounts": account_ids, "sources": list(stale)})
    return {row.account_id: "; ".join(stale[source] for source in row.sources) for row in rows}


# ----------------------------------------------------------------------------- actions


def _actions(trigger: str, event: dict) -> list[tuple[str, str, dict]]:
    """(kind, idempotency key, payload) of every outbox row one event makes (workflows aside)."""
    event_id = event["event_id"]
    if trigger == "tier_change":
        rows = [("webhook", f"webhook:score.changed:{event_id}",
                 {"event_type": "score.changed", "payload": event})]
        if event["to_tier"] == "HOT":
            rows.append(("slack", f"slack:hot_account:{event_id}", {
                "type": "hot_account", "account_id": event["account_id"], "account_name": event["name"],
                "domain": event["domain"], "score": event["score"], "previous_score": event["previous_score"],
                "from_tier": event["from_tier"], "to_tier": event["to_tier"], "reason": event["reason"],
                "factors": event["factors"], "evidence_signal_types": event["evidence_signal_types"],
                "evidence_signal_ids": event["evidence_signal_ids"], "score_date": event["score_date"],
                "tier_change_id": event_id}))
        return rows
    if trigger == "deal_stage":
        return [("webhook", f"webhook:deal.updated:{event_id}",
                 {"event_type": "deal.updated", "payload": event}),
                ("slack", f"slack:deal_stage_changed:{event_id}", {"type": "deal_stage_changed", **event})]
    if trigger == "contact_created":
        return [("webhook", f"webhook:contact.created:{event_id}", {"event_type": "contact.created", "payload": event}),
                ("slack", f"slack:new_signup:{event_id}", {"type": "new_signup", **event})]
    return []  # signal_received: workflows only (a webhook per signal would flood receivers)


def act(connection, trigger: str, limit: int | None = None, stale: dict[str, str] | None = None) -> Decision:
    """Decide on the trigger's pending events and enqueue their side effects, in the caller's transaction."""
    _check(trigger)
    _lock(connection, trigger)
    decision = Decision(trigger)
    if connection.execute(text("select to_regclass(:t)"), {"t": EVENT_TABLE[trigger]}).scalar() is None:
        decision.missing = EVENT_TABLE[trigger]
        return decision
    _, decision.baseline_set = baseline(connection, trigger)
    events = pending(connection, trigger, limit)
    decision.more = len(events) >= (limit or DEFAULT_LIMIT[trigger])
    if not events:
        return decision
    blocked: dict[str, str] = {}
    if trigger == "tier_change":
        stale = freshness.stale_sources(connection) if stale is None else stale
        cooling = [e for e in events if e["direction"] == "DOWNGRADE" and e["to_tier"] in COOLING_TIERS]
        by_account = blocked_accounts(connection, sorted({e["account_id"] for e in cooling}), stale)
        blocked = {e["event_id"]: by_account[e["account_id"]] for e in cooling if e["account_id"] in by_account}
    from orchestration.activation import workflows

    acting = [e for e in events if e["event_id"] not in blocked]
    for event in acting:
        event["event_key"] = f"{trigger}:{event['event_id']}"
    workflow_rows = workflows.plan(connection, WORKFLOW_TRIGGER[trigger], acting) if acting else 0
    rows_by_event = {}
    for event in acting:
        new = sum(outbox.enqueue(connection, kind, key, payload, source_event=event["event_key"])
                  for kind, key, payload in _actions(trigger, event))
        rows_by_event[event["event_id"]] = new
    connection.execute(
        text("""insert into app.activation_events (trigger, event_id, status, reason, outbox_rows)
                select :trigger, e.event_id, e.status, e.reason, e.outbox_rows
                from jsonb_to_recordset(cast(:events as jsonb))
                     as e(event_id text, status text, reason text, outbox_rows int)
                on conflict (trigger, event_id) do update
                set status = excluded.status, reason = excluded.reason,
                    outbox_rows = app.activation_events.outbox_rows + excluded.outbox_rows, decided_at = now()"""),
        {"trigger": trigger, "events": json.dumps(
            [{"event_id": e, "status": "acted", "reason": None, "outbox_rows": n} for e, n in rows_by_event.items()]
            + [{"event_id": e, "status": "blocked", "reason": r, "outbox_rows": 0} for e, r in blocked.items()])})
    decision.acted = len(acting)
    decision.outbox_rows = sum(rows_by_event.values()) + (workflow_rows or 0)
    decision.blocked = blocked
    for event_id, reason in blocked.items():
        log.warning("activation: %s %s blocked: %s", trigger, event_id, reason)
    return decision


def act_all(engine=None, triggers: tuple[str, ...] = TRIGGERS) -> list[Decision]:
    """Every trigger, each in its own transaction, until none has more pending events."""
    if engine is None:
        from devsignal import db

        engine = db.engine()
    from orchestration.activation import workflows

    workflows.sync_yaml()  # the YAML definitions as they are now (writes nothing when unchanged)
    decisions = []
    for trigger in triggers:
        while True:
            with engine.begin() as connection:
                decision = act(connection, trigger)
            decisions.append(decision)
            if not decision.more:
                break
    return decisions
