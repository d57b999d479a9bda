"""Workflows as YAML files (sync round trip) and the trigger readers (shapes, cursors, paging)."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from apps import state
from apps.state import deals
from apps.state import workflows as workflow_state
from orchestration.activation.workflows import (DEFINITIONS_DIR, WorkflowFileError, events_since, latest_cursor,
                                                load_file, plan, sync_yaml, to_yaml)
from orchestration.activation.workflows.events import as_payload

from .conftest import (ADMIN, MEMBER, add_account, add_person, add_signal, add_tier_change, drain_workflows,
                       outbox_rows, runs, sql)


@pytest.fixture
def folder(tmp_path):
    for path in DEFINITIONS_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def stored() -> dict[str, dict]:
    return {row["name"]: row for row in sql("select * from app.workflows")}


def test_yaml_sync_round_trip(folder):
    shipped = {load_file(path)["name"]: load_file(path) for path in folder.glob("*.yaml")}
    assert len(shipped) == 3
    report = sync_yaml(folder)
    assert sorted(report["created"]) == sorted(shipped) and not report["updated"]
    for name, definition in shipped.items():
        assert workflow_state.definition_of(stored()[name]) == definition
        assert stored()[name]["source"] == "yaml"
    assert sync_yaml(folder) == {"created": [], "updated": [], "unchanged": sorted(shipped), "disabled": []}

    # edit a file -> updated; the app's on/off switch survives the sync
    hot = folder / "hot_account_deal.yaml"
    document = yaml.safe_load(hot.read_text())
    document["filters"] = {"newTier": "WARM"}
    hot.write_text(yaml.safe_dump(document))
    workflow_state.disable_workflow(ADMIN, stored()[document["name"]]["workflow_id"])
    assert sync_yaml(folder)["updated"] == [document["name"]]
    assert stored()[document["name"]]["filters"] == {"newTier": "WARM"}
    assert stored()[document["name"]]["enabled"] is False

    # a file removed -> its workflow is disabled, its history kept
    (folder / "enterprise_signup_tag.yaml").unlink()
    assert sync_yaml(folder)["disabled"] == ["Enterprise signup -> tag"]
    assert stored()["Enterprise signup -> tag"]["enabled"] is False

    # an app workflow exported to YAML and loaded back is the same definition
    made = workflow_state.create_workflow(ADMIN, {
        "name": "made in the app", "trigger": "contact_created", "filters": {"accountDomain": "acme.dev"},
        "conditions": [{"field": "title", "operator": "contains", "value": "cto"}],
        "actions": [{"type": "send_slack", "params": {"message": "new contact {name}", "channel": "#sales"}}]})
    exported = folder / "exported.yaml"
    exported.write_text(to_yaml(workflow_state.definition_of(made)))
    assert load_file(exported) == workflow_state.definition_of(made)


def test_a_bad_file_is_named_and_nothing_is_written(folder):
    (folder / "broken.yaml").write_text(yaml.safe_dump({
        "name": "broken", "trigger": "signal_received",
        "actions": [{"type": "add_tag", "params": {"tagName": "x"}}]}))
    (folder / "not_yaml.yaml").write_text("name: [unclosed")
    with pytest.raises(WorkflowFileError) as raised:
        sync_yaml(folder)
    assert "broken.yaml: workflow 'broken' is not valid: actions[0] (add_tag): unknown param 'tagName'" in str(raised.value)
    assert "not_yaml.yaml: not valid YAML" in str(raised.value)
    assert stored() == {}


def test_a_file_may_not_take_over_a_workflow_made_in_the_app(folder):
    workflow_state.create_workflow(ADMIN, {"name": "HOT account -> deal + Slack", "trigger": "score_changed",
                                           "actions": [{"type": "log", "params": {}}]})
    with pytest.raises(WorkflowFileError, match="hot_account_deal.yaml: the name 'HOT account -> deal \\+ Slack' "
                                                "belongs to a workflow made in the app"):
        sync_yaml(folder)
    assert list(stored()) == ["HOT account -> deal + Slack"]


def test_the_shipped_workflows_act_on_a_hot_account_and_an_enterprise_signup():
    sync_yaml()
    add_account()
    add_tier_change("t1", to_tier="HOT")
    add_tier_change("t2", account_id="other", to_tier="COLD", from_tier="WARM", score=20, previous_score=50,
                    scored_at="2026-11-21T00:00:00Z")
    add_signal("s-ent", properties={"plan": "enterprise"})
    add_signal("s-free", properties={"plan": "free"}, occurred_at="2026-11-21T00:00:00Z")
    with state.engine().begin() as connection:
        for trigger in ("score_changed", "signal_received"):
            events, _ = events_since(connection, trigger, None)
            plan(connection, trigger, events)
    drain_workflows()
    assert [(run["name"], run["event_key"], run["status"]) for run in runs()] == [
        ("HOT account -> deal + Slack", "score_changed:t1", "SUCCESS"),
        ("Enterprise signup -> tag", "signal_received:s-ent", "SUCCESS")]
    [deal] = sql("select * from app.deals")
    assert (deal["title"], deal["stage"], deal["account_id"]) == ("Acme - PQA hot", "ACTIVATED", "acme")
    [slack] = outbox_rows("slack")
    assert slack["payload"]["text"] == "Acme (acme.dev) is HOT (score 61 -> 82) and has an open deal in the pipeline."
    assert sql("select account_id, tag from app.account_tags") == [{"account_id": "acme", "tag": "enterprise-signup"}]


def test_qualified_deal_webhook_runs_on_big_deals_and_skips_small_ones():
    sync_yaml()
    big = deals.create_deal(MEMBER, title="Big", account_id="acme", amount=5000)
    small = deals.create_deal(MEMBER, title="Small", account_id="beta", amount=200)
    deals.move_deal(MEMBER, big["deal_id"], "SALES_QUALIFIED")
    deals.move_deal(MEMBER, small["deal_id"], "SALES_QUALIFIED")
    with state.engine().begin() as connection:
        events, _ = events_since(connection, "deal_stage_changed", None)
        assert plan(connection, "deal_stage_changed", events) == 2
    drain_workflows()
    assert {run["inputs"]["title"]: run["status"] for run in runs()} == {"Big": "SUCCESS", "Small": "SKIPPED"}
    [webhook] = outbox_rows("webhook")
    assert webhook["payload"]["event_type"] == "deal.qualified"
    assert webhook["payload"]["payload"]["event"]["amount"] == 5000.0


def test_events_since_pages_with_a_cursor_in_order():
    add_account()
    for index in range(5):
        add_signal(f"s{index}", occurred_at=f"2026-11-2{index}T10:00:00Z")
    seen, cursor = [], None
    with state.engine().connect() as connection:
        for _ in range(4):
            events, cursor = events_since(connection, "signal_received", cursor, limit=2)
            seen += [event["signalId"] for event in events]
        assert events == [] and json.loads(cursor)["id"] == "s4"
        assert latest_cursor(connection, "signal_received") == cursor
    assert seen == ["s0", "s1", "s2", "s3", "s4"]


def test_event_shapes_and_what_is_left_out():
    add_account()
    add_person("p-known")
    add_person("p-anon", is_anonymous=True, email=None)
    add_tier_change("t-old", version="v1")          # not the live score version
    add_tier_change("t-live")
    deal = deals.create_deal(MEMBER, title="Shape", account_id="acme", person_id="p-known", amount=42)
    deals.move_deal(MEMBER, deal["deal_id"], "TEAM_ADOPTION")
    with state.engine().connect() as connection:
        [contact], _ = events_since(connection, "contact_created", None)
        [tier], _ = events_since(connection, "score_changed", None)
        [stage], _ = events_since(connection, "deal_stage_changed", None)   # the creation is not a change
    assert contact["contactId"] == "p-known" and contact["email"] == "dev@acme.dev"
    assert {key: tier[key] for key in ("eventId", "accountName", "oldTier", "newTier", "oldScore", "newScore",
                                       "signalCount", "userCount")} == {
        "eventId": "t-live", "accountName": "Acme", "oldTier": "WARM", "newTier": "HOT", "oldScore": 61,
        "newScore": 82, "signalCount": 40, "userCount": 3}
    assert {key: stage[key] for key in ("dealId", "oldStage", "newStage", "title", "amount", "companyId",
                                        "contactId")} == {
        "dealId": deal["deal_id"], "oldStage": "ANONYMOUS_USAGE", "newStage": "TEAM_ADOPTION", "title": "Shape",
        "amount": 42.0, "companyId": "acme", "contactId": "p-known"}


def test_rows_from_the_activation_triggers_module_are_mapped_to_the_same_payload():
    row = {"event_id": "t9", "account_id": "acme", "domain": "acme.dev", "name": "Acme", "from_tier": "WARM",
           "to_tier": "HOT", "score": 90, "previous_score": 60, "direction": "UPGRADE", "score_date": "2026-11-20",
           "score_version": "v2", "reason": "r", "event_key": "tier_change:t9"}
    payload = as_payload("score_changed", row)
    assert {key: payload[key] for key in ("eventId", "accountName", "newTier", "newScore")} == {
        "eventId": "t9", "accountName": "Acme", "newTier": "HOT", "newScore": 90}
    workflow_state.create_workflow(ADMIN, {"name": "hot", "trigger": "score_changed", "filters": {"newTier": "HOT"},
                                           "actions": [{"type": "log", "params": {}}]})
    with state.engine().begin() as connection:
        assert plan(connection, "score_changed", [row]) == 1
    assert runs()[0]["event_key"] == "score_changed:t9"


def test_bad_calls_are_refused_clearly():
    with state.engine().connect() as connection:
        with pytest.raises(ValueError, match="unknown trigger 'tier_change'"):
            events_since(connection, "tier_change")
        with pytest.raises(ValueError, match="bad signal_received cursor 'yesterday'"):
            events_since(connection, "signal_received", "yesterday")
        with pytest.raises(ValueError, match=r"events\[0\] has no eventId"):
            plan(connection, "signal_received", [{"type": "signup"}])
