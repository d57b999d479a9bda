"""Workflow definitions (`app.workflows`) and account tags: the audited writes.

Definitions need ADMIN (a workflow acts on its own: creates deals, posts to Slack, sends
webhooks; the seed let a VIEWER create one). Every definition is validated first
(`orchestration.activation.workflows.definition.validate`), so what is stored can run.

Workflows from YAML files (`source = 'yaml'`) are owned by their file: the app may switch them on
and off, but their definition changes only by editing the file and syncing (`sync_yaml`).

    from apps.state import Actor, workflows
    wf = workflows.create_workflow(Actor("ana@acme.dev", "ADMIN"), {"name": "HOT -> deal", ...})
    workflows.disable_workflow(actor, wf["workflow_id"])
"""

from __future__ import annotations

import json

from sqlalchemy import text

from . import Actor, NotFound, command, row_dict

DEFINITION_COLUMNS = ("name", "description", "trigger", "filters", "conditions", "actions", "enabled")


def _validate(definition: dict) -> dict:
    from orchestration.activation.workflows.definition import validate

    return validate(definition)


def _workflow(connection, workflow_id: int, *, lock: bool = False) -> dict:
    row = connection.execute(text("select * from app.workflows where workflow_id = :id" + (" for update" if lock else "")),
                             {"id": workflow_id}).first()
    if row is None:
        raise NotFound(f"workflow {workflow_id} does not exist")
    return row_dict(row)


def get_workflow(workflow_id: int | None = None, *, name: str | None = None) -> dict:
    from . import engine

    with engine().connect() as connection:
        if name is not None:
            row = connection.execute(text("select * from app.workflows where name = :name"), {"name": name}).first()
            if row is None:
                raise NotFound(f"no workflow is named {name!r}")
            return row_dict(row)
        return _workflow(connection, workflow_id)


def definition_of(workflow: dict) -> dict:
    """The definition part of a stored workflow (what validate() takes and YAML files hold)."""
    return {key: workflow[key] for key in DEFINITION_COLUMNS}


def _params(definition: dict) -> dict:
    return {"name": definition["name"], "description": definition["description"], "trigger": definition["trigger"],
            "filters": json.dumps(definition["filters"]), "conditions": json.dumps(definition["conditions"]),
            "actions": json.dumps(definition["actions"]), "enabled": definition["enabled"]}


def _name_taken(connection, name: str, except_id: int | None = None) -> dict | None:
    row = connection.execute(text("select workflow_id, source, source_file from app.workflows "
                                  "where name = :name and workflow_id is distinct from :id"),
                             {"name": name, "id": except_id}).first()
    return row_dict(row)


def create_workflow(actor: Actor, definition: dict, *, source: str = "app", source_file: str | None = None,
                    connection=None) -> dict:
    definition = _validate(definition)
    if source not in ("app", "yaml"):
        raise ValueError(f"unknown workflow source {source!r}; expected app or yaml")
    with command(actor, "ADMIN", "workflow.create", "workflow", connection=connection) as (conn, audit):
        # one statement-level lock so two creators of one name get a clear message, not a unique violation
        conn.execute(text("select pg_advisory_xact_lock(hashtext('workflow-name:' || :name))"),
                     {"name": definition["name"]})
        taken = _name_taken(conn, definition["name"])
        if taken:
            raise ValueError(f"a workflow named {definition['name']!r} already exists (id {taken['workflow_id']}, "
                             f"from {taken['source_file'] or 'the app'})")
        row = conn.execute(
            text("""insert into app.workflows (name, description, trigger, filters, conditions, actions, enabled,
                                               source, source_file, created_by)
                    values (:name, :description, :trigger, cast(:filters as jsonb), cast(:conditions as jsonb),
                            cast(:actions as jsonb), :enabled, :source, :source_file, :actor)
                    returning *"""),
            {**_params(definition), "source": source, "source_file": source_file, "actor": actor.email}).first()
        workflow = row_dict(row)
        audit.entity_id, audit.after = workflow["workflow_id"], definition_of(workflow)
    return workflow


def update_workflow(actor: Actor, workflow_id: int, definition: dict, *, from_yaml: str | None = None,
                    connection=None) -> dict:
    """Replace a workflow's definition (not its `enabled`: see enable/disable). `from_yaml` = the
    file a YAML sync writes from; without it, a YAML workflow is refused."""
    definition = _validate(definition)
    with command(actor, "ADMIN", "workflow.update", "workflow", workflow_id, connection=connection) as (conn, audit):
        before = _workflow(conn, workflow_id, lock=True)
        if before["source"] == "yaml" and from_yaml is None:
            raise ValueError(f"workflow {before['name']!r} is defined in {before['source_file']}: edit that file "
                             f"(the app may only enable or disable it)")
        taken = _name_taken(conn, definition["name"], workflow_id)
        if taken:
            raise ValueError(f"a workflow named {definition['name']!r} already exists (id {taken['workflow_id']})")
        definition["enabled"] = before["enabled"]
        row = conn.execute(
            text("""update app.workflows set name = :name, description = :description, trigger = :trigger,
                           filters = cast(:filters as jsonb), conditions = cast(:conditions as jsonb),
                           actions = cast(:actions as jsonb), source_file = coalesce(:source_file, source_file),
                           updated_at = now()
                    where workflow_id = :id returning *"""),
            {**_params(definition), "id": workflow_id, "source_file": from_yaml}).first()
        workflow = row_dict(row)
        audit.before, audit.after = definition_of(before), definition_of(workflow)
    return workflow


def set_enabled(actor: Actor, workflow_id: int, enabled: bool, *, connection=None) -> dict:
    action = "workflow.enable" if enabled else "workflow.disable"
    with command(actor, "ADMIN", action, "workflow", workflow_id, connection=connection) as (conn, audit):
        before = _workflow(conn, workflow_id, lock=True)
        audit.before, audit.after = {"enabled": before["enabled"]}, {"enabled": enabled}
        row = conn.execute(text("update app.workflows set enabled = :enabled, updated_at = now() "
                                "where workflow_id = :id returning *"), {"enabled": enabled, "id": workflow_id}).first()
        return row_dict(row)


def enable_workflow(actor: Actor, workflow_id: int, *, connection=None) -> dict:
    return set_enabled(actor, workflow_id, True, connection=connection)


def disable_workflow(actor: Actor, workflow_id: int, *, connection=None) -> dict:
    return set_enabled(actor, workflow_id, False, connection=connection)


def delete_workflow(actor: Actor, workflow_id: int, *, connection=None) -> None:
    """Delete a workflow and its run history (disable it instead to keep the history)."""
    with command(actor, "ADMIN", "workflow.delete", "workflow", workflow_id, connection=connection) as (conn, audit):
        before = _workflow(conn, workflow_id, lock=True)
        if before["source"] == "yaml":
            raise ValueError(f"workflow {before['name']!r} is defined in {before['source_file']}: delete that file "
                             f"and sync (or disable it here)")
        audit.before = definition_of(before)
        conn.execute(text("delete from app.workflows where workflow_id = :id"), {"id": workflow_id})


def tag_account(actor: Actor, account_id: str, tag: str, *, connection=None) -> dict:
    """Put `tag` on one account (`app.account_tags`) in the caller's transaction when given one (the
    CRM's bulk `accounts.tag_accounts` opens its own); returns {"tag": <as stored>, "added": bool}."""
    from .accounts import check_tag  # the CRM's tag rule: one spelling per tag

    tag = check_tag(tag)
    if not (account_id or "").strip():
        raise ValueError("a tag needs an account id")
    with command(actor, "MEMBER", "account.tag", "account", account_id, connection=connection) as (conn, audit):
        added = conn.execute(text("""insert into app.account_tags (account_id, tag, added_by) values (:id, :tag, :actor)
                                     on conflict (account_id, tag) do nothing returning tag"""),
                             {"id": account_id, "tag": tag, "actor": actor.email}).first() is not None
        audit.after = {"tag": tag}
        audit.detail = None if added else "already tagged"
        return {"tag": tag, "added": added}
