"""The trigger events: read from the tables that record them, in the shape filters and conditions see.

| trigger              | read from                          | event id         | cursor (keyset)            |
|----------------------|------------------------------------|------------------|----------------------------|
| `signal_received`    | `marts.fct_signals`                | signal_id        | (occurred_at, signal_id)   |
| `contact_created`    | `marts.dim_people` (known people)  | person_id        | (first_seen_at, person_id) |
| `deal_stage_changed` | `app.deal_stage_history`           | change_id        | change_id                  |
| `score_changed`      | `marts.fct_account_tier_changes`   | tier_change_id   | (scored_at, tier_change_id)|

`events_since(connection, trigger, cursor)` returns up to `limit` events after the cursor, oldest
first, and the cursor after the last one (unchanged when there is none): a sensor stores it and
passes the events to `plan()`. A cursor of None starts at the beginning of history;
`latest_cursor()` starts at "now" instead. Reading an event twice is harmless: `plan()` makes one run
per (workflow, event).

Left out on purpose: a deal's first stage (a creation, not a change) and stage changes a workflow
made (the seed does not cascade them, and it would let two workflows loop); anonymous, bot,
internal and test people; tier changes of a score version that is not the current one.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from .definition import TRIGGERS

# a page of signals costs one scan of fct_signals (it has no index on occurred_at): take big pages
DEFAULT_LIMIT = {"signal_received": 5_000, "contact_created": 1_000, "deal_stage_changed": 1_000,
                 "score_changed": 1_000}

_SQL = {
    "signal_received": """
        select s.occurred_at as at, s.signal_id as id,
               jsonb_build_object('eventId', s.signal_id, 'signalId', s.signal_id, 'type', s.signal_type,
                                  'source', s.source, 'sourceEvent', s.source_event, 'accountId', s.account_id,
                                  'accountDomain', s.account_domain, 'actorId', s.person_id,
                                  'properties', coalesce(s.properties, '{}'::jsonb), 'occurredAt', s.occurred_at) as event
        from marts.fct_signals s
        where (s.occurred_at, s.signal_id) > (cast(:at as timestamptz), :id)
        order by s.occurred_at, s.signal_id
        limit :limit""",
    "contact_created": """
        select coalesce(p.first_seen_at, '-infinity') as at, p.person_id as id,
               jsonb_build_object('eventId', p.person_id, 'contactId', p.person_id,
                                  'name', coalesce(p.full_name, p.display_name), 'email', p.primary_email,
                                  'title', p.title, 'githubLogin', p.github_login, 'accountId', p.account_id,
                                  'accountDomain', p.account_domain, 'firstSeenAt', p.first_seen_at) as event
        from marts.dim_people p
        where not p.is_anonymous and not coalesce(p.is_bot or p.is_internal or p.is_test_account, false)
          and (coalesce(p.first_seen_at, '-infinity'), p.person_id) > (cast(:at as timestamptz), :id)
        order by 1, 2
        limit :limit""",
    "deal_stage_changed": """
        select h.changed_at as at, h.change_id as id,
               jsonb_build_object('eventId', h.change_id::text, 'dealId', d.deal_id, 'oldStage', h.from_stage,
                                  'newStage', h.to_stage, 'title', d.title, 'amount', d.amount::float8,
                                  'companyId', d.account_id, 'accountId', d.account_id, 'contactId', d.person_id,
                                  'owner', d.owner, 'changedBy', h.changed_by, 'changedAt', h.changed_at) as event
        from app.deal_stage_history h
        join app.deals d on d.deal_id = h.deal_id and d.deleted_at is null
        where h.change_id > :change_id and h.from_stage is not null and h.via <> 'workflow'
        order by h.change_id
        limit :limit""",
    "score_changed": """
        select t.scored_at as at, t.tier_change_id as id,
               jsonb_build_object('eventId', t.tier_change_id, 'accountId', t.account_id,
                                  'accountName', coalesce(a.name, a.domain, t.account_id), 'accountDomain', a.domain,
                                  'oldTier', t.from_tier, 'newTier', t.to_tier, 'oldScore', t.previous_score,
                                  'newScore', t.score, 'direction', t.direction, 'scoreDate', t.score_date,
                                  'scoreVersion', t.score_version, 'reason', t.reason,
                                  'signalCount', coalesce(d.count_signals_30d, d.count_signals_window),
                                  'userCount', coalesce(d.count_users_30d, d.count_active_people)) as event
        from marts.fct_account_tier_changes t
        left join marts.dim_accounts a on a.account_id = t.account_id
        left join marts.fct_account_scores_daily d on d.account_score_id = t.account_score_id
        where t.score_version in (select distinct score_version from marts.account_scores_current)
          and (t.scored_at, t.tier_change_id) > (cast(:at as timestamptz), :id)
        order by t.scored_at, t.tier_change_id
        limit :limit""",
}

_LATEST = {
    "signal_received": "select occurred_at, signal_id from marts.fct_signals order by 1 desc, 2 desc limit 1",
    "contact_created": """select coalesce(first_seen_at, '-infinity'), person_id from marts.dim_people
                          order by 1 desc, 2 desc limit 1""",
    "deal_stage_changed": "select null, max(change_id) from app.deal_stage_history",
    "score_changed": """select scored_at, tier_change_id from marts.fct_account_tier_changes
                        where score_version in (select distinct score_version from marts.account_scores_current)
                        order by 1 desc, 2 desc limit 1""",
}


def _check_trigger(trigger: str) -> None:
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}; expected one of {', '.join(TRIGGERS)}")


def _parse_cursor(trigger: str, cursor: str | None) -> dict[str, Any]:
    if cursor is None or cursor == "":
        return {"at": "-infinity", "id": "", "change_id": 0}
    try:
        position = json.loads(cursor)
        if trigger == "deal_stage_changed":
            return {"change_id": int(position["id"])}
        return {"at": str(position["at"]), "id": str(position["id"])}
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"bad {trigger} cursor {cursor!r}: expected the JSON events_since returned") from error


def _cursor(trigger: str, at: Any, event_id: Any) -> str:
    if trigger == "deal_stage_changed":
        return json.dumps({"id": int(event_id)})
    return json.dumps({"at": at.isoformat() if hasattr(at, "isoformat") else str(at), "id": str(event_id)})


def events_since(connection, trigger: str, cursor: str | None = None,
                 limit: int | None = None) -> tuple[list[dict], str | None]:
    """Up to `limit` `trigger` events after `cursor`, oldest first, and the cursor to pass next time."""
    _check_trigger(trigger)
    limit = DEFAULT_LIMIT[trigger] if limit is None else limit
    if not 1 <= limit <= 10_000:
        raise ValueError(f"limit must be between 1 and 10000, got {limit}")
    params = {**_parse_cursor(trigger, cursor), "limit": limit}
    rows = connection.execute(text(_SQL[trigger]), params).all()
    if not rows:
        return [], cursor
    return [row.event for row in rows], _cursor(trigger, rows[-1].at, rows[-1].id)


def latest_cursor(connection, trigger: str) -> str | None:
    """The cursor after the newest event now: `events_since` from it sees only what comes later."""
    _check_trigger(trigger)
    row = connection.execute(text(_LATEST[trigger])).first()
    if row is None or row[1] is None:
        return None
    return _cursor(trigger, row[0], row[1])


# ----------------------------------------------------------------------------- other readers' events
# `orchestration.activation.triggers` reads the same tables with its own (snake_case) rows and
# passes them to plan(); this maps them onto the payloads above, so filters see one shape.

def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


_FROM_ROW = {
    "signal_received": lambda r: {
        "eventId": r["event_id"], "signalId": r.get("signal_id", r["event_id"]), "type": r.get("signal_type"),
        "source": r.get("source"), "sourceEvent": r.get("source_event"), "accountId": r.get("account_id"),
        "accountDomain": r.get("account_domain"), "actorId": r.get("person_id"),
        "properties": r.get("properties") or {}, "occurredAt": r.get("occurred_at")},
    "contact_created": lambda r: {
        "eventId": r["event_id"], "contactId": r.get("person_id", r["event_id"]),
        "name": r.get("full_name") or r.get("display_name"), "email": r.get("primary_email"), "title": r.get("title"),
        "githubLogin": r.get("github_login"), "accountId": r.get("account_id"), "accountDomain": r.get("account_domain"),
        "firstSeenAt": r.get("first_seen_at")},
    "deal_stage_changed": lambda r: {
        "eventId": str(r["event_id"]), "dealId": r.get("deal_id"), "oldStage": r.get("from_stage"),
        "newStage": r.get("to_stage"), "title": r.get("title"), "amount": _number(r.get("amount")),
        "companyId": r.get("account_id"), "accountId": r.get("account_id"), "contactId": r.get("person_id"),
        "owner": r.get("owner"), "changedBy": r.get("changed_by"), "changedAt": r.get("changed_at"),
        "via": r.get("via")},
    "score_changed": lambda r: {
        "eventId": r["event_id"], "accountId": r.get("account_id"),
        "accountName": r.get("name") or r.get("domain") or r.get("account_id"), "accountDomain": r.get("domain"),
        "oldTier": r.get("from_tier"), "newTier": r.get("to_tier"), "oldScore": r.get("previous_score"),
        "newScore": r.get("score"), "direction": r.get("direction"), "scoreDate": r.get("score_date"),
        "scoreVersion": r.get("score_version"), "reason": r.get("reason"),
        "signalCount": r.get("count_signals_30d"), "userCount": r.get("count_users_30d")},
}


def as_payload(trigger: str, event: dict) -> dict:
    """The event in this trigger's payload shape: ours as-is, a `triggers` row (`event_id`) mapped."""
    _check_trigger(trigger)
    if "eventId" in event or "event_id" not in event:
        return event
    return _FROM_ROW[trigger](event)
