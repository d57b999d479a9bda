"""Workflows as files: every `*.yaml` in a folder (one workflow per file) synced into `app.workflows`.

`sync_yaml()` validates every file first and writes nothing if one is bad (the error names the
file and each problem). Then, by name: a new name is created (`source = 'yaml'`), a changed
definition is updated, a file that is gone disables its workflow (its run history stays). A name
already used by a workflow made in the app is refused rather than taken over. `enabled` in a file
applies when the workflow is created; after that the app's switch decides (so a person can stop a
misbehaving workflow at once without a commit).

`to_yaml(definition)` writes a definition in the same shape, so a workflow built in the app can
be moved into a file.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .definition import WorkflowDefinitionError, validate

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"
SYNC_ACTOR = "workflow-yaml-sync"


class WorkflowFileError(ValueError):
    """A YAML file that cannot be synced (unreadable, not one mapping, invalid, or a name clash)."""


def load_file(path: Path) -> dict:
    """The validated definition in one YAML file."""
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise WorkflowFileError(f"{path.name}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise WorkflowFileError(f"{path.name}: expected one workflow (a mapping), got {type(document).__name__}")
    try:
        return validate(document)
    except WorkflowDefinitionError as error:
        raise WorkflowFileError(f"{path.name}: {error}") from error


def load_folder(folder: Path) -> dict[str, tuple[Path, dict]]:
    """name -> (file, definition) for every `*.yaml` in `folder`; every problem raised at once."""
    found: dict[str, tuple[Path, dict]] = {}
    problems: list[str] = []
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            definition = load_file(path)
        except WorkflowFileError as error:
            problems.append(str(error))
            continue
        if definition["name"] in found:
            problems.append(f"{path.name}: the name {definition['name']!r} is also used by {found[definition['name']][0].name}")
            continue
        found[definition["name"]] = (path, definition)
    if problems:
        raise WorkflowFileError("; ".join(problems))
    return found


def _comparable(definition: dict) -> dict:
    return {key: definition[key] for key in ("description", "trigger", "filters", "conditions", "actions")}


def sync_yaml(folder: Path | str | None = None, actor=None) -> dict[str, list[str]]:
    """Bring `app.workflows` in line with the folder's files; returns the names per outcome."""
    from sqlalchemy import text

    from apps.state import Actor, engine, row_dict
    from apps.state import workflows as workflow_state

    folder = Path(folder) if folder is not None else DEFINITIONS_DIR
    actor = actor or Actor.system(SYNC_ACTOR)
    files = load_folder(folder)
    report: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": [], "disabled": []}
    with engine().begin() as connection:
        # one sync at a time (two Dagster code servers starting together)
        connection.execute(text("select pg_advisory_xact_lock(hashtext('workflow-yaml-sync'))"))
        stored = {row.name: row_dict(row) for row in connection.execute(text("select * from app.workflows"))}
        clashes = [f"{path.name}: the name {name!r} belongs to a workflow made in the app; rename one of them"
                   for name, (path, _) in files.items() if name in stored and stored[name]["source"] != "yaml"]
        if clashes:
            raise WorkflowFileError("; ".join(clashes))
        for name, (path, definition) in files.items():
            source_file = path.name
            current = stored.get(name)
            if current is None:
                workflow_state.create_workflow(actor, definition, source="yaml", source_file=source_file,
                                               connection=connection)
                report["created"].append(name)
            elif _comparable(workflow_state.definition_of(current)) != _comparable(definition) \
                    or current["source_file"] != source_file:
                workflow_state.update_workflow(actor, current["workflow_id"], definition, from_yaml=source_file,
                                               connection=connection)
                report["updated"].append(name)
            else:
                report["unchanged"].append(name)
        for name, current in stored.items():
            if current["source"] == "yaml" and name not in files and current["enabled"]:
                workflow_state.set_enabled(actor, current["workflow_id"], False, connection=connection)
                report["disabled"].append(name)
    return report


def to_yaml(definition: dict) -> str:
    """A definition as the YAML a file in the definitions folder holds."""
    definition = validate(definition)
    ordered = {key: definition[key] for key in ("name", "description", "trigger", "filters", "conditions",
                                                "actions", "enabled")
               if definition[key] not in (None, {}, [])  or key in ("name", "trigger", "actions", "enabled")}
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True)
