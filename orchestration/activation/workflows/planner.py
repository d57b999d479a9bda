"""Deciding: which events start which workflows, as one SQL statement. Nothing is executed here.

`plan(connection, trigger, events)` joins the events (a JSON array bound as one parameter) with the
enabled workflows of that trigger. Filters ({path: value}) decide whether a workflow *applies*: all
must be equal or the event is not its business and leaves no trace. Conditions decide whether it
*runs*: if one fails the run is recorded SKIPPED with the conditions that failed. Both compare
with `app.workflow_compare` (migration 0008): nested paths through `#>`, numbers as numbers when
both sides read as numbers ("80" = 80), text otherwise.

Every applying (workflow, event) gets one `app.workflow_runs` row (`ON CONFLICT DO NOTHING` on
(workflow_id, event_key)), and each new runnable one its first action in the outbox, keyed by
(workflow, event, action index). All of it in the caller's transaction: a crash before the commit
leaves nothing, and planning the same events again adds nothing.
"""

from __future__ import annotations

import json

from sqlalchemy import text

from .definition import TRIGGERS
from .events import as_payload

# the events (a JSON array) x the enabled workflows of the trigger whose filters all hold, with the
# conditions that fail (none = it runs)
_APPLYING = """
    with event as (
        select distinct on (item ->> 'eventId') item ->> 'eventId' as event_id, item as data
        from jsonb_array_elements(cast(:events as jsonb)) item
        order by item ->> 'eventId'
    ), applying as (
        select w.workflow_id, w.name, w.actions, :trigger || ':' || e.event_id as event_key, e.data,
               coalesce((select jsonb_agg(c) from jsonb_array_elements(w.conditions) c
                         where not app.workflow_compare(e.data #> string_to_array(c ->> 'field', '.'),
                                                        c ->> 'operator', c -> 'value')),
                        '[]'::jsonb) as failed_conditions
        from event e
        join app.workflows w on w.enabled and w.trigger = :trigger
        where not exists (select 1 from jsonb_each(w.filters) f
                          where not app.workflow_compare(e.data #> string_to_array(f.key, '.'), 'eq', f.value))
    )"""

_DECIDE = text(_APPLYING + """
    insert into app.workflow_runs (workflow_id, event_key, trigger, status, inputs, actions, outputs,
                                   finished_at, duration_ms)
    select workflow_id, event_key, :trigger,
           case when failed_conditions = '[]'::jsonb then 'PENDING' else 'SKIPPED' end,
           data, actions,
           case when failed_conditions = '[]'::jsonb then '{}'::jsonb
                else jsonb_build_object('reason', 'conditions not met', 'failedConditions', failed_conditions) end,
           case when failed_conditions = '[]'::jsonb then null else now() end,
           case when failed_conditions = '[]'::jsonb then null else 0 end
    from applying
    order by event_key, workflow_id
    on conflict (workflow_id, event_key) do nothing
    returning run_id, workflow_id, event_key, status
""")

_EXPLAIN = text(_APPLYING + """
    select workflow_id, name, event_key, failed_conditions from applying order by event_key, workflow_id
""")


def action_key(workflow_id: int, event_key: str, index: int) -> str:
    """The idempotency key of one (event, action): the same event never runs an action twice."""
    return f"workflow:{workflow_id}:{event_key}:{index}"


def _check_events(trigger: str, events: list[dict]) -> None:
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}; expected one of {', '.join(TRIGGERS)}")
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise TypeError(f"events[{index}] must be a dict, got {type(event).__name__}")
        event_id = event.get("eventId")
        if event_id is None or str(event_id).strip() == "":
            raise ValueError(f"events[{index}] has no eventId (every {trigger} event needs its own id)")


def plan(connection, trigger: str, events: list[dict]) -> int:
    """Record a run for each (applying workflow, new event) and queue the first action of the
    runnable ones, in the caller's transaction; returns how many runs were new (any status)."""
    from orchestration.activation import outbox

    events = [as_payload(trigger, event) if isinstance(event, dict) else event for event in events or []]
    _check_events(trigger, events)
    if trigger == "deal_stage_changed":  # a workflow's own moves never trigger workflows (no loops)
        events = [event for event in events if event.get("via") != "workflow"]
    if not events:
        return 0
    runs = connection.execute(_DECIDE, {"trigger": trigger,
                                        "events": json.dumps(events, default=str)}).all()
    for run in runs:
        if run.status == "PENDING":
            outbox.enqueue(connection, "workflow_action", action_key(run.workflow_id, run.event_key, 0),
                           {"run_id": run.run_id, "action_index": 0}, source_event=run.event_key)
    return len(runs)


def explain(connection, trigger: str, events: list[dict]) -> list[dict]:
    """A dry run of plan(): which enabled workflows apply to each event and whether they would run
    (or be SKIPPED, with the failed conditions). Writes nothing: for the CRM's "test with an event"."""
    events = [as_payload(trigger, event) if isinstance(event, dict) else event for event in events or []]
    _check_events(trigger, events)
    if not events:
        return []
    rows = connection.execute(_EXPLAIN, {"trigger": trigger, "events": json.dumps(events, default=str)})
    return [{"workflow_id": row.workflow_id, "workflow": row.name, "event_key": row.event_key,
             "would_run": row.failed_conditions == [], "failed_conditions": row.failed_conditions} for row in rows]
