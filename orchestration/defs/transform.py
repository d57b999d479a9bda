"""The dbt project as assets; dbt tests become asset checks; sources resolve to the dlt keys."""


import json
import os
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetSpec, Definitions
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from devsignal import db, settings


@cache
def dbt_project() -> DbtProject:
    project_dir = settings.dbt_project_dir()
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    project.prepare_if_dev()
    return project


class LayeredTranslator(DagsterDbtTranslator):
    """Models are keyed `<layer>/<model>` (staging, intermediate, marts; seeds) and grouped by layer."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec  # keyed by meta.dagster.asset_key = raw/<source>/<table>
        layer = "seeds" if props["resource_type"] == "seed" else props["fqn"][1]
        return spec.replace_attributes(key=AssetKey([layer, props["name"]]), group_name=layer)


def vars_args() -> list[str]:
    """`--vars`, scoring as of DEVSIGNAL_SCORE_AS_OF when it is set (the demo world's last day).

    `dbt parse` and `dbt build` must pass the same vars, or dbt cannot parse partially."""
    as_of = os.environ.get("DEVSIGNAL_SCORE_AS_OF", "").strip()
    return ["--vars", json.dumps({"score_as_of": as_of})] if as_of else []


def build_args(fast_path: bool = False) -> list[str]:
    """`dbt build` with the vars. The fast path leaves out the tests (~200 of its ~240 nodes) so an
    event reaches its alert within a minute; the full builds (daily scoring, GitHub, CRM) run them all."""
    return ["build", *vars_args(), *(["--exclude-resource-type", "test", "unit_test"] if fast_path else [])]


def fast_path_target_path() -> Path:
    """One target folder for every fast-path run, so dbt parses partially (fast-path runs go one at
    a time: dagster.yaml limits runs tagged devsignal/dbt); other runs get a folder each."""
    base = Path(os.environ.get("DBT_TARGET_PATH") or settings.dbt_project_dir() / "target")
    if not base.is_absolute():
        base = settings.dbt_project_dir() / base
    return base / "dagster-fast-path"


def defs() -> Definitions:
    project = dbt_project()

    @dbt_assets(manifest=project.manifest_path, project=project, dagster_dbt_translator=LayeredTranslator())
    def devsignal_dbt(context: AssetExecutionContext, dbt: DbtCliResource):
        db.connection()  # starts the embedded server if needed; exports what profiles.yml reads
        fast_path = context.run.tags.get("devsignal/kind") == "fast_path"
        target_path = fast_path_target_path() if fast_path else None
        yield from dbt.cli(build_args(fast_path), context=context, target_path=target_path).stream()

    return Definitions(
        assets=[devsignal_dbt],
        resources={"dbt": DbtCliResource(project_dir=project, profiles_dir=str(project.project_dir),
                                         dbt_executable=str(Path(sys.executable).parent / "dbt"))},
    )
