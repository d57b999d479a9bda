"""Workflows: the list with run counts, a workflow's definition (edited as YAML, validated before
it is stored), enable / disable, delete, a new workflow, and the run history. Writes need ADMIN
(apps.state.workflows checks it again); workflows from YAML files are switched on and off here
but edited in their file."""

import streamlit as st
import yaml

from apps.crm import auth
from apps.crm.data import escape_markdown
from apps.crm.data import workflows as data
from apps.state import workflows as commands

actor = auth.require_actor()
is_admin = actor.at_least("ADMIN")
st.title("Workflows")
TEMPLATE = """name: New workflow
description: What it does and why.
trigger: score_changed          # signal_received | contact_created | deal_stage_changed | score_changed
filters:
  newTier: HOT
conditions: []                  # [{field: newScore, operator: gte, value: 80}]
actions:
  - type: log                   # create_deal | update_deal_stage | send_webhook | send_slack | add_tag | log
    params:
      message: "{accountName} turned HOT"
enabled: false
"""


def run(write, success: str) -> None:
    auth.run_write(success, write, bad_input=(yaml.YAMLError,))


def parse(text: str) -> dict:
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise ValueError("the definition is a YAML mapping (name:, trigger:, actions:, ...)")
    return loaded


auth.show_flash()
if not is_admin:
    st.info("Changing workflows needs the ADMIN role (a workflow acts on its own).")

listed = data.workflows()
st.dataframe(listed, hide_index=True, width="stretch",
             column_config={"enabled": st.column_config.CheckboxColumn(), "last_run_at": st.column_config.DatetimeColumn(
                 "last run", format="YYYY-MM-DD HH:mm")})

detail_tab, new_tab = st.tabs(["A workflow", "New workflow"])
with detail_tab:
    if listed.empty:
        st.caption("No workflows yet: write one under New workflow, or put YAML files in "
                   "orchestration/activation/workflows/definitions and sync.")
    else:
        names = dict(zip(listed.workflow_id, listed.name))
        workflow_id = st.selectbox("Workflow", listed.workflow_id, format_func=names.get, key="workflows_choice")
        workflow = commands.get_workflow(int(workflow_id))
        left, middle, right = st.columns(3)
        left.metric("Status", "enabled" if workflow["enabled"] else "disabled")
        if workflow["enabled"]:
            if middle.button("Disable", key="workflows_disable", disabled=not is_admin):
                run(lambda: commands.disable_workflow(actor, int(workflow_id)), "Disabled.")
        elif middle.button("Enable", key="workflows_enable", disabled=not is_admin):
            run(lambda: commands.enable_workflow(actor, int(workflow_id)), "Enabled.")
        if workflow["source"] == "yaml":
            right.caption(f"Defined in {escape_markdown(workflow['source_file'])}: edit that file to change it.")
        elif right.button("Delete (and its run history)", key="workflows_delete", disabled=not is_admin):
            run(lambda: commands.delete_workflow(actor, int(workflow_id)), "Deleted.")

        definition = commands.definition_of(workflow)
        shown = yaml.safe_dump(definition, sort_keys=False, allow_unicode=True)
        edited = st.text_area("Definition (YAML)", value=shown, height=320, key=f"workflows_definition_{workflow_id}",
                              disabled=workflow["source"] == "yaml")
        if workflow["source"] != "yaml" and st.button("Save definition", key="workflows_save", disabled=not is_admin):
            run(lambda: commands.update_workflow(actor, int(workflow_id), parse(edited)), "Saved.")

        st.subheader("Run history")
        status = st.multiselect("Status", ["SUCCESS", "FAILED", "SKIPPED", "PENDING"], key="workflows_run_status")
        history = data.runs(int(workflow_id), tuple(status))
        if history.empty:
            st.caption("No runs yet.")
        else:
            st.dataframe(history, hide_index=True, width="stretch")

with new_tab:
    text = st.text_area("Definition (YAML)", value=TEMPLATE, height=320, key="workflows_new_definition")
    if st.button("Create workflow", key="workflows_create", disabled=not is_admin):
        run(lambda: commands.create_workflow(actor, parse(text)), "Workflow created.")
