"""Workflows: the list and run history from app.workflows / app.workflow_runs, disable from the
page, an invalid edit refused with the validator's reasons, and a MEMBER refused."""

import json

from sqlalchemy import text

from apps.state import workflows
from devsignal import db

from test_pages_b_setup import actor, page, pages_b_database, pages_b_session  # noqa: F401 (fixtures)

DEFINITION = {"name": "Page test: HOT -> log", "description": "logs", "trigger": "score_changed",
              "filters": {"newTier": "HOT"}, "conditions": [], "actions": [{"type": "log", "params": {}}],
              "enabled": True}


def test_list_history_disable_and_validation(pages_b_database):
    workflow = workflows.create_workflow(actor("ADMIN"), DEFINITION)
    with db.engine().begin() as connection:
        for number, status in enumerate(["SUCCESS", "FAILED", "SKIPPED"]):
            connection.execute(text("""insert into app.workflow_runs (workflow_id, event_key, trigger, status, inputs,
                                                                      actions, error, duration_ms)
                                       values (:id, :key, 'score_changed', :status, cast(:inputs as jsonb),
                                               '[]'::jsonb, :error, 12)"""),
                               {"id": workflow["workflow_id"], "key": f"score_changed:{number}", "status": status,
                                "inputs": json.dumps({"newTier": "HOT"}),
                                "error": "boom" if status == "FAILED" else None})
    at = page("workflows", role="ADMIN").run()
    assert not at.exception
    listed = at.dataframe[0].value
    row = listed[listed.name == DEFINITION["name"]].iloc[0]
    assert (row.runs, row.succeeded, row.failed, row.skipped, bool(row.enabled)) == (3, 1, 1, 1, True)
    at.selectbox(key="workflows_choice").set_value(workflow["workflow_id"]).run()
    history = at.dataframe[1].value
    assert sorted(history.status) == ["FAILED", "SKIPPED", "SUCCESS"]
    at.multiselect(key="workflows_run_status").set_value(["FAILED"]).run()
    assert list(at.dataframe[1].value.error) == ["boom"]

    at.button(key="workflows_disable").click().run()
    assert not at.exception
    assert workflows.get_workflow(workflow["workflow_id"])["enabled"] is False

    at.text_area(key=f"workflows_definition_{workflow['workflow_id']}").input(
        "name: 'Page test: HOT -> log'\ntrigger: score_changed\nactions:\n  - type: explode\n").run()
    at.button(key="workflows_save").click().run()
    assert not at.exception
    assert any("explode" in e.value for e in at.error)
    assert workflows.get_workflow(workflow["workflow_id"])["actions"] == [{"type": "log", "params": {}}]


def test_member_sees_and_is_refused(pages_b_database):
    at = page("workflows", role="MEMBER").run()
    assert not at.exception
    assert at.button(key="workflows_create").disabled
    assert any("needs the ADMIN role" in i.value for i in at.info)
