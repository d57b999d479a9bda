"""Definitions: bad ones are refused with messages that say what and where; the commands need
ADMIN, are audited, and leave YAML-owned workflows to their files."""

from __future__ import annotations

import pytest

from apps.state import NotFound, PermissionDenied
from apps.state import workflows as workflow_state
from orchestration.activation.workflows import WorkflowDefinitionError, validate

from .conftest import ADMIN, MEMBER, sql

GOOD = {"name": "HOT -> deal", "trigger": "score_changed", "filters": {"newTier": "HOT"},
        "conditions": [{"field": "newScore", "operator": "gte", "value": "80"}],
        "actions": [{"type": "create_deal", "params": {"title": "{accountName} - hot", "stage": "activated"}},
                    {"type": "send_slack", "params": {"message": "{accountName} is HOT"}}]}


def problems_of(definition: dict) -> str:
    with pytest.raises(WorkflowDefinitionError) as raised:
        validate(definition)
    return str(raised.value)


def test_a_good_definition_is_normalised():
    normal = validate(GOOD)
    assert normal["actions"][0]["params"]["stage"] == "ACTIVATED"
    assert normal["enabled"] is True and normal["description"] is None


def test_the_seed_shape_trigger_event_and_filters_is_accepted():
    normal = validate({"name": "seed", "trigger": {"event": "signal_received", "filters": {"type": "signup"}},
                       "actions": [{"type": "log", "params": {}}]})
    assert normal["trigger"] == "signal_received" and normal["filters"] == {"type": "signup"}


@pytest.mark.parametrize("change, message", [
    ({"trigger": "score_change"}, "unknown trigger 'score_change' (did you mean 'score_changed'?)"),
    ({"trigger": None}, "trigger is required"),
    ({"actions": []}, "actions: at least one action is required"),
    ({"actions": [{"type": "send_email", "params": {}}]}, "actions[0]: unknown action type 'send_email'"),
    ({"conditions": [{"field": "newScore", "operator": "greater", "value": 1}]},
     "conditions[0]: unknown operator 'greater'"),
    ({"conditions": [{"field": "newTier", "operator": "in", "value": "HOT"}]}, "`in` needs a non-empty list value"),
    ({"conditions": [{"field": "newTier", "operator": "gt", "value": [1]}]}, "`gt` compares with a number or a text"),
    ({"conditions": [{"field": "tier", "operator": "eq", "value": "HOT"}]},
     "score_changed events have no field 'tier'"),
    ({"filters": {"newTier.level": "HOT"}}, "'newTier' is a plain value in score_changed events"),
    ({"filters": {"new tier": "HOT"}}, "is not a field path"),
    ({"actions": [{"type": "update_deal_stage", "params": {}}]}, "actions[0] (update_deal_stage): param 'stage' is required"),
    ({"actions": [{"type": "update_deal_stage", "params": {"stage": "WON"}}]},
     "actions[0] (update_deal_stage): stage 'WON' is an unknown deal stage"),
    ({"actions": [{"type": "add_tag", "params": {"tagName": "hot"}}]},
     "unknown param 'tagName' (did you mean 'tag'?)"),
    ({"actions": [{"type": "send_webhook", "params": {"url": "http://169.254.169.254/"}}]},
     "send_webhook takes no url"),
    ({"actions": [{"type": "create_deal", "params": {"amount": "lots"}}]}, "amount must be a number"),
    ({"actions": [{"type": "create_deal", "params": {"amount": -5}}]}, "amount must be a number of 0 or more"),
    ({"actions": [{"type": "send_slack", "params": {"message": "{acountName} is hot"}}]},
     "refers to {acountName}, which score_changed events do not have (did you mean 'accountName'?)"),
    ({"actions": [{"type": "log", "params": {"level": "loud"}}]}, "level must be one of debug, info, warning, error"),
    ({"name": ""}, "name is required"),
    ({"enabled": "yes"}, "enabled must be true or false"),
    ({"trigers": "x"}, "unknown key 'trigers'"),
])
def test_bad_definitions_are_refused_with_a_specific_message(change, message):
    assert message in problems_of({**GOOD, **change})


def test_every_problem_is_reported_at_once():
    text = problems_of({"name": "many", "trigger": "score_changed",
                        "actions": [{"type": "add_tag", "params": {}}, {"type": "nope"}]})
    assert "actions[0] (add_tag): param 'tag' is required" in text and "actions[1]: unknown action type 'nope'" in text


def test_definitions_need_an_admin_and_the_refusal_is_audited():
    with pytest.raises(PermissionDenied, match="workflow.create needs role ADMIN"):
        workflow_state.create_workflow(MEMBER, GOOD)
    assert sql("select count(*) as n from app.workflows")[0]["n"] == 0
    refused = sql("select * from app.audit_log where outcome = 'refused'")
    assert [(row["actor"], row["action"]) for row in refused] == [(MEMBER.email, "workflow.create")]


def test_create_update_disable_delete_are_audited():
    workflow = workflow_state.create_workflow(ADMIN, GOOD)
    assert workflow["source"] == "app" and workflow["created_by"] == ADMIN.email
    with pytest.raises(ValueError, match="a workflow named 'HOT -> deal' already exists"):
        workflow_state.create_workflow(ADMIN, GOOD)
    changed = workflow_state.update_workflow(ADMIN, workflow["workflow_id"], {**GOOD, "filters": {"newTier": "WARM"}})
    assert changed["filters"] == {"newTier": "WARM"}
    assert workflow_state.disable_workflow(ADMIN, workflow["workflow_id"])["enabled"] is False
    workflow_state.delete_workflow(ADMIN, workflow["workflow_id"])
    with pytest.raises(NotFound):
        workflow_state.get_workflow(workflow["workflow_id"])
    actions = sql("select action, before, after from app.audit_log where entity_type = 'workflow' order by audit_id")
    assert [row["action"] for row in actions] == ["workflow.create", "workflow.update", "workflow.disable",
                                                  "workflow.delete"]
    assert actions[1]["before"]["filters"] == {"newTier": "HOT"} and actions[1]["after"]["filters"] == {"newTier": "WARM"}


def test_an_invalid_update_changes_nothing():
    workflow = workflow_state.create_workflow(ADMIN, GOOD)
    with pytest.raises(WorkflowDefinitionError, match="param 'stage' is required"):
        workflow_state.update_workflow(ADMIN, workflow["workflow_id"],
                                       {**GOOD, "actions": [{"type": "update_deal_stage", "params": {}}]})
    assert workflow_state.get_workflow(workflow["workflow_id"])["actions"] == workflow["actions"]


def test_a_yaml_workflow_can_be_switched_off_in_the_app_but_not_edited_or_deleted():
    workflow = workflow_state.create_workflow(ADMIN, GOOD, source="yaml", source_file="hot.yaml")
    with pytest.raises(ValueError, match="is defined in hot.yaml: edit that file"):
        workflow_state.update_workflow(ADMIN, workflow["workflow_id"], GOOD)
    with pytest.raises(ValueError, match="is defined in hot.yaml: delete that file"):
        workflow_state.delete_workflow(ADMIN, workflow["workflow_id"])
    assert workflow_state.disable_workflow(ADMIN, workflow["workflow_id"])["enabled"] is False
