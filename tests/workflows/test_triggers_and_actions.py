"""Every trigger x every action, end to end on the real database: events read from their tables,
decided by plan(), executed from the outbox, recorded as a run."""

from __future__ import annotations

import logging

import pytest

from apps import state
from apps.state import deals
from apps.state import workflows as workflow_state
from orchestration.activation.workflows import ACTIONS, TRIGGERS, events_since, plan

from .conftest import (ADMIN, MEMBER, add_account, add_person, add_signal, add_tier_change, drain_workflows, outbox_rows,
                       runs, sql)

PARAMS = {
    "create_deal": {"title": "WF {eventId}", "stage": "identified", "amount": 500, "skipIfOpenDeal": False},
    "update_deal_stage": {"stage": "NEGOTIATION"},
    "send_webhook": {"eventType": "test.fired"},
    "send_slack": {"message": "fired on {eventId}", "channel": "#growth"},
    "add_tag": {"tag": "wf-tag"},
    "log": {"message": "seen {eventId}"},
}


def make_events(trigger: str) -> list[dict]:
    """One event of `trigger` on account acme (which has an open deal), read the way a sensor reads it."""
    add_account()
    open_deal = deals.create_deal(MEMBER, title="Acme - open", account_id="acme", amount=1500)
    if trigger == "signal_received":
        add_signal(properties={"plan": "enterprise", "seats": "80"})
    elif trigger == "contact_created":
        add_person()
    elif trigger == "deal_stage_changed":
        deals.move_deal(MEMBER, open_deal["deal_id"], "IDENTIFIED")
    else:
        add_tier_change()
    with state.engine().connect() as connection:
        events, _ = events_since(connection, trigger, None)
    assert len(events) == 1, events
    return events


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("trigger", TRIGGERS)
def test_trigger_runs_action(trigger, action, caplog):
    workflow = workflow_state.create_workflow(ADMIN, {
        "name": f"{trigger} -> {action}", "trigger": trigger,
        "actions": [{"type": action, "params": PARAMS[action]}]})
    [event] = make_events(trigger)
    with state.engine().begin() as connection:
        assert plan(connection, trigger, [event]) == 1
    with caplog.at_level(logging.INFO, logger="orchestration.activation.workflows.actions"):
        drain_workflows()

    [run] = runs()
    assert run["status"] == "SUCCESS", run["error"]
    assert run["event_key"] == f"{trigger}:{event['eventId']}" and run["inputs"] == event
    assert run["outputs"]["0"]["type"] == action and run["duration_ms"] >= 0 and run["finished_at"] is not None
    result = run["outputs"]["0"]["result"]
    actor = f"system:workflow:{workflow['name']}"
    if action == "create_deal":
        [deal] = sql("select * from app.deals where title = :t", t=f"WF {event['eventId']}")
        assert (deal["account_id"], deal["stage"], deal["source"], deal["created_by"]) == ("acme", "IDENTIFIED",
                                                                                         "workflow", actor)
        assert result == {"dealId": deal["deal_id"], "title": deal["title"], "stage": "IDENTIFIED", "created": True}
    elif action == "update_deal_stage":
        [deal] = sql("select * from app.deals")
        assert deal["stage"] == "NEGOTIATION"
        last = sql("select * from app.deal_stage_history order by change_id desc limit 1")[0]
        assert (last["to_stage"], last["via"], last["changed_by"]) == ("NEGOTIATION", "workflow", actor)
    elif action == "send_webhook":
        [row] = outbox_rows("webhook")
        assert row["payload"]["event_type"] == "test.fired"
        assert row["payload"]["payload"]["event"]["eventId"] == event["eventId"]
        assert row["idempotency_key"] == f"workflow:{workflow['workflow_id']}:{run['event_key']}:0:webhook"
    elif action == "send_slack":
        [row] = outbox_rows("slack")
        assert row["payload"] == {"type": "message", "channel": "#growth", "text": f"fired on {event['eventId']}"}
    elif action == "add_tag":
        assert sql("select account_id, tag, added_by from app.account_tags") == [
            {"account_id": "acme", "tag": "wf-tag", "added_by": actor}]
    else:
        assert f"seen {event['eventId']}" in caplog.text and result["message"] == f"seen {event['eventId']}"
    # every write a workflow made is audited under its own name
    writes = sql("select action from app.audit_log where actor = :a", a=actor)
    assert bool(writes) == (action in ("create_deal", "update_deal_stage", "add_tag"))


def test_a_workflows_own_deal_moves_do_not_trigger_workflows():
    add_account()
    deal = deals.create_deal(MEMBER, title="Loop check", account_id="acme")
    workflow_state.create_workflow(ADMIN, {"name": "move on every move", "trigger": "deal_stage_changed",
                                           "actions": [{"type": "update_deal_stage", "params": {"stage": "ACTIVATED"}}]})
    deals.move_deal(MEMBER, deal["deal_id"], "IDENTIFIED")
    with state.engine().begin() as connection:
        events, cursor = events_since(connection, "deal_stage_changed", None)
        assert plan(connection, "deal_stage_changed", events) == 1
    drain_workflows()
    assert deals.get_deal(deal["deal_id"])["stage"] == "ACTIVATED"
    with state.engine().begin() as connection:
        later, _ = events_since(connection, "deal_stage_changed", cursor)
        # the triggers module's rows carry `via`: plan() drops workflow moves from them too
        assert later == [] and plan(connection, "deal_stage_changed", [
            {"event_id": "999", "deal_id": deal["deal_id"], "from_stage": "IDENTIFIED", "to_stage": "ACTIVATED",
             "via": "workflow"}]) == 0
    assert len(runs()) == 1
