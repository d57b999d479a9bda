"""Decisions and run records: nested filters, typed conditions, SKIPPED / FAILED / SUCCESS with
inputs, outputs, error and duration, one failure alert, and planning twice acting once."""

from __future__ import annotations

from apps import state
from apps.state import deals
from apps.state import workflows as workflow_state
from orchestration.activation.workflows import action_key, events_since, execute_action, plan

from .conftest import ADMIN, MEMBER, add_account, add_signal, drain_workflows, outbox_rows, runs, sql


def plan_signals() -> int:
    with state.engine().begin() as connection:
        events, _ = events_since(connection, "signal_received", None)
        return plan(connection, "signal_received", events)


def test_filters_reach_nested_fields_and_conditions_compare_typed_values():
    add_account()
    add_signal("enterprise-80", properties={"plan": "enterprise", "seats": "80"})
    add_signal("enterprise-12", properties={"plan": "enterprise", "seats": 12}, occurred_at="2026-11-20T11:00:00Z")
    add_signal("free", properties={"plan": "free", "seats": "500"}, occurred_at="2026-11-20T12:00:00Z")
    add_signal("pageview", signal_type="page_view", properties={"plan": "enterprise"},
               occurred_at="2026-11-20T13:00:00Z")
    workflow_state.create_workflow(ADMIN, {
        "name": "big enterprise signups", "trigger": "signal_received",
        "filters": {"type": "signup", "properties.plan": "enterprise"},
        "conditions": [{"field": "properties.seats", "operator": "gte", "value": 50}],
        "actions": [{"type": "add_tag", "params": {"tag": "big-enterprise"}}]})
    assert plan_signals() == 2   # the free plan and the page view are not this workflow's business
    drain_workflows()
    by_event = {run["event_key"]: run for run in runs()}
    assert set(by_event) == {"signal_received:enterprise-80", "signal_received:enterprise-12"}
    ran, skipped = by_event["signal_received:enterprise-80"], by_event["signal_received:enterprise-12"]
    assert ran["status"] == "SUCCESS"          # "80" (text) >= 50 (number)
    assert skipped["status"] == "SKIPPED" and skipped["duration_ms"] == 0 and skipped["finished_at"] is not None
    assert skipped["outputs"] == {"reason": "conditions not met", "failedConditions": [
        {"field": "properties.seats", "operator": "gte", "value": 50}]}
    assert skipped["inputs"]["properties"] == {"plan": "enterprise", "seats": 12}
    assert sql("select account_id, tag from app.account_tags") == [{"account_id": "acme", "tag": "big-enterprise"}]
    assert [row["source_event"] for row in outbox_rows("workflow_action")] == ["signal_received:enterprise-80"]


def test_a_failing_action_fails_the_run_stops_the_rest_and_alerts_once():
    add_account()
    add_signal()
    workflow = workflow_state.create_workflow(ADMIN, {
        "name": "move a deal that is gone", "trigger": "signal_received",
        "actions": [{"type": "log", "params": {"message": "first"}},
                    {"type": "update_deal_stage", "params": {"dealId": 999999, "stage": "ACTIVATED"}},
                    {"type": "create_deal", "params": {"title": "never"}}]})
    plan_signals()
    drain_workflows()
    [run] = runs()
    assert run["status"] == "FAILED"
    assert run["error"] == "actions[1] (update_deal_stage): deal 999999 does not exist"
    assert list(run["outputs"]) == ["0"] and run["outputs"]["0"]["result"]["message"] == "first"
    assert run["duration_ms"] >= 0 and run["finished_at"] is not None
    assert sql("select count(*) as n from app.deals")[0]["n"] == 0   # the action after the failure never ran
    [alert] = outbox_rows("slack")
    assert alert["idempotency_key"] == f"workflow_failed:{run['run_id']}"
    assert alert["payload"] == {"type": "workflow_failed", "workflow": workflow["name"],
                                "workflow_name": workflow["name"], "workflow_id": workflow["workflow_id"],
                                "action": "update_deal_stage", "error": run["error"], "run_id": run["run_id"],
                                "event_key": run["event_key"]}
    # the failed action delivered again (a crash before the outbox marked it): nothing new
    again = execute_action({"run_id": run["run_id"], "action_index": 1}, action_key(workflow["workflow_id"],
                                                                                    run["event_key"], 1))
    assert again["status"] == "already done"
    assert len(outbox_rows("slack")) == 1 and runs()[0]["status"] == "FAILED"


def test_update_deal_stage_without_a_deal_id_moves_the_accounts_open_deal_or_fails_clearly():
    add_account()
    add_signal("s1")
    workflow_state.create_workflow(ADMIN, {"name": "activate", "trigger": "signal_received",
                                           "actions": [{"type": "update_deal_stage", "params": {"stage": "ACTIVATED"}}]})
    plan_signals()
    drain_workflows()
    assert runs()[0]["error"] == ("actions[0] (update_deal_stage): no deal to move: params.dealId is not set, "
                                  "the event has no dealId, and account 'acme' has no open deal")
    deal = deals.create_deal(MEMBER, title="Acme", account_id="acme")
    add_signal("s2", occurred_at="2026-11-21T10:00:00Z")
    plan_signals()
    drain_workflows()
    assert runs()[1]["status"] == "SUCCESS" and deals.get_deal(deal["deal_id"])["stage"] == "ACTIVATED"


def test_planning_the_same_events_twice_acts_once():
    add_account()
    add_signal("s1")
    add_signal("s2", occurred_at="2026-11-21T10:00:00Z")
    workflow_state.create_workflow(ADMIN, {
        "name": "deal + slack", "trigger": "signal_received",
        "actions": [{"type": "create_deal", "params": {"title": "Deal {signalId}", "skipIfOpenDeal": False}},
                    {"type": "send_slack", "params": {"message": "deal for {signalId}"}}]})
    assert plan_signals() == 2
    assert plan_signals() == 0                       # the same events again: no new run, no new row
    assert len(outbox_rows("workflow_action")) == 2
    drain_workflows()
    assert plan_signals() == 0                       # and after acting too
    drain_workflows()
    keys = [row["idempotency_key"] for row in outbox_rows()]
    assert len(keys) == len(set(keys)) == 6          # 2 events x (2 actions + 1 Slack message)
    assert sorted(row["title"] for row in sql("select title from app.deals")) == ["Deal s1", "Deal s2"]
    assert [run["status"] for run in runs()] == ["SUCCESS", "SUCCESS"]
    # one event planned in the same batch twice is still one run
    with state.engine().begin() as connection:
        events, _ = events_since(connection, "signal_received", None)
        sql("truncate app.workflow_runs, app.outbox")
        assert plan(connection, "signal_received", [events[0], events[0]]) == 1


def test_an_action_delivered_twice_happens_once():
    add_account()
    add_signal()
    workflow = workflow_state.create_workflow(ADMIN, {
        "name": "one deal", "trigger": "signal_received",
        "actions": [{"type": "create_deal", "params": {"skipIfOpenDeal": False}}]})
    plan_signals()
    [row] = outbox_rows("workflow_action")
    first = execute_action(row["payload"], row["idempotency_key"])
    second = execute_action(row["payload"], row["idempotency_key"])
    assert first["status"] == "done" and second["status"] == "already done"
    assert second["output"]["result"] == first["result"]
    assert sql("select count(*) as n from app.deals")[0]["n"] == 1
    assert row["idempotency_key"] == f"workflow:{workflow['workflow_id']}:signal_received:s1:0"


def test_a_disabled_workflow_plans_nothing_and_edits_do_not_change_planned_runs():
    add_account()
    add_signal("s1")
    workflow = workflow_state.create_workflow(ADMIN, {"name": "tagger", "trigger": "signal_received",
                                                      "actions": [{"type": "add_tag", "params": {"tag": "first"}}]})
    plan_signals()
    # edited after planning: the planned run keeps the actions it was planned with
    workflow_state.update_workflow(ADMIN, workflow["workflow_id"], {
        "name": "tagger", "trigger": "signal_received", "actions": [{"type": "add_tag", "params": {"tag": "second"}}]})
    drain_workflows()
    assert sql("select tag from app.account_tags") == [{"tag": "first"}]
    workflow_state.disable_workflow(ADMIN, workflow["workflow_id"])
    add_signal("s2", occurred_at="2026-11-21T10:00:00Z")
    assert plan_signals() == 0


def test_create_deal_skips_an_account_that_already_has_an_open_deal():
    add_account()
    existing = deals.create_deal(MEMBER, title="Acme - existing", account_id="acme")
    add_signal()
    workflow_state.create_workflow(ADMIN, {"name": "deal once", "trigger": "signal_received",
                                           "actions": [{"type": "create_deal", "params": {}}]})
    plan_signals()
    drain_workflows()
    [run] = runs()
    assert run["status"] == "SUCCESS" and run["outputs"]["0"]["result"]["created"] is False
    assert run["outputs"]["0"]["result"]["dealId"] == existing["deal_id"]
    assert sql("select count(*) as n from app.deals")[0]["n"] == 1


def test_explain_is_a_dry_run_of_the_same_decision():
    from orchestration.activation.workflows import explain

    add_account()
    add_signal("s1", properties={"plan": "enterprise", "seats": "80"})
    add_signal("s2", properties={"plan": "enterprise", "seats": "5"}, occurred_at="2026-11-21T10:00:00Z")
    add_signal("s3", properties={"plan": "free"}, occurred_at="2026-11-22T10:00:00Z")
    workflow_state.create_workflow(ADMIN, {
        "name": "big", "trigger": "signal_received", "filters": {"properties.plan": "enterprise"},
        "conditions": [{"field": "properties.seats", "operator": "gt", "value": 10}],
        "actions": [{"type": "log", "params": {}}]})
    with state.engine().begin() as connection:
        events, _ = events_since(connection, "signal_received", None)
        verdicts = explain(connection, "signal_received", events)
    assert [(v["event_key"], v["would_run"]) for v in verdicts] == [("signal_received:s1", True),
                                                                   ("signal_received:s2", False)]
    assert verdicts[1]["failed_conditions"] == [{"field": "properties.seats", "operator": "gt", "value": 10}]
    assert runs() == [] and outbox_rows() == []
    assert plan_signals() == 2
    assert {run["event_key"]: run["status"] for run in runs()} == {"signal_received:s1": "PENDING",
                                                                  "signal_received:s2": "SKIPPED"}


def test_a_bad_or_orphaned_action_row_is_refused_or_ignored():
    import pytest

    from orchestration.activation import outbox

    with pytest.raises(outbox.PermanentError, match="needs run_id and action_index"):
        execute_action({"run": 1}, "workflow:1:x:0")
    add_account()
    add_signal()
    workflow = workflow_state.create_workflow(ADMIN, {"name": "deleted later", "trigger": "signal_received",
                                                      "actions": [{"type": "create_deal", "params": {}}]})
    plan_signals()
    [row] = outbox_rows("workflow_action")
    workflow_state.delete_workflow(ADMIN, workflow["workflow_id"])   # its runs go with it
    assert execute_action(row["payload"], row["idempotency_key"])["status"] == "gone"
    assert sql("select count(*) as n from app.deals")[0]["n"] == 0
