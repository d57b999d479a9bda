"""One dlt pipeline per source: `raw_<source>` in the DevSignal database, state under
<DEVSIGNAL_HOME>/dlt. Importable without Dagster; Dagster's dlt assets use `make_pipeline` and
`get_source` too.

    from ingestion.pipelines import load
    load("github")                          # settings from the environment
    load("npm", packages=["@acme/sdk"])     # keyword arguments go to the source function
"""

from __future__ import annotations

import importlib
import logging
import time
from pathlib import Path
from typing import Any, Optional, Sequence

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed

logger = logging.getLogger(__name__)

SOURCES: dict[str, str] = {
    "npm": "ingestion.sources.npm:npm_source",
    "pypi": "ingestion.sources.pypi:pypi_source",
    "github": "ingestion.sources.github:github_source",
    "segment": "ingestion.sources.segment:segment_source",
    "crm": "ingestion.sources.crm:crm_source",
}


def source_function(source_name: str):
    try:
        module_name, attr = SOURCES[source_name].split(":")
    except KeyError:
        raise ValueError(f"unknown source {source_name!r}; known: {', '.join(SOURCES)}") from None
    return getattr(importlib.import_module(module_name), attr)


def get_source(source_name: str, **overrides: Any):
    """The dlt source object, built now (settings are read at this moment)."""
    return source_function(source_name)(**overrides)


def state_dir() -> Path:
    """Where dlt keeps pipeline working folders: <DEVSIGNAL_HOME>/dlt."""
    from devsignal import settings

    return settings.home() / "dlt"


def make_pipeline(
    source_name: str,
    *,
    pipeline_name: Optional[str] = None,
    dataset_name: Optional[str] = None,
    dev_mode: bool = False,
    pipelines_dir: Optional[str | Path] = None,
) -> dlt.Pipeline:
    """The pipeline `source_name` -> dataset `raw_<source_name>` (the names are overridable for
    tests and side-by-side runs)."""
    from devsignal import db

    source_function(source_name)  # unknown names fail here, not deep inside dlt
    return dlt.pipeline(
        pipeline_name=pipeline_name or source_name,
        destination=dlt.destinations.postgres(credentials=db.dlt_credentials()),
        dataset_name=dataset_name or f"raw_{source_name}",
        pipelines_dir=str(pipelines_dir or state_dir()),
        dev_mode=dev_mode,
    )


def table_counts(pipeline: dlt.Pipeline, tables: Sequence[str]) -> dict[str, int]:
    """Rows now in each of `tables` (0 for a table not created yet)."""
    counts: dict[str, int] = {}
    with pipeline.sql_client() as client:
        existing = {row[0] for row in client.execute_sql(
            "select table_name from information_schema.tables where table_schema = %s",
            client.dataset_name)}
        for table in tables:
            if table in existing:
                rows = client.execute_sql(f"select count(*) from {client.make_qualified_table_name(table)}")
                counts[table] = int(rows[0][0])
            else:
                counts[table] = 0
    return counts


def _input_error(error: BaseException):
    from ingestion.sources._common import SourceInputError

    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, SourceInputError):
            return error
        error = getattr(error, "exception", None) or error.__cause__ or error.__context__
    return None


def _drop_dependent_views(dataset: str) -> list[str]:
    """Views built on a dataset's tables (dbt's staging) block dropping them: drop those views first.
    The next `dbt build` recreates them."""
    from devsignal import db

    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("""
            select distinct view.oid::regclass::text
            from pg_depend dep
            join pg_rewrite rule on rule.oid = dep.objid
            join pg_class view on view.oid = rule.ev_class
            join pg_class tbl on tbl.oid = dep.refobjid
            join pg_namespace ns on ns.oid = tbl.relnamespace
            where ns.nspname = %s and view.oid <> tbl.oid and view.relkind in ('v', 'm')
        """, (dataset,))
        views = [row[0] for row in cur.fetchall()]
        for view in views:
            cur.execute(f"drop view if exists {view} cascade")
    if views:
        logger.warning("dropped %d dependent view(s) of %s (dbt build recreates them): %s",
                       len(views), dataset, ", ".join(views))
    return views


def load(
    source_name: str,
    *,
    pipeline: Optional[dlt.Pipeline] = None,
    resources: Optional[Sequence[str]] = None,
    refresh: Optional[str] = None,
    **overrides: Any,
) -> dict[str, dict[str, int]]:
    """Run `source_name` once. Keyword arguments go to the source function (e.g. `packages=`,
    `repos=`, `base_url=`); `resources` picks some resources; `refresh="drop_sources"` starts
    over (drops the tables and the state). Returns {table: {"loaded": rows this run, "total":
    rows now}} for every data table of the source (not dlt's own `_dlt_*` tables).
    A setting or input to fix (ingestion.sources._common.SourceInputError, e.g. an unknown CRM
    export) is raised as itself."""
    source = get_source(source_name, **overrides)
    pipeline = pipeline or make_pipeline(source_name)
    if resources:
        source = source.with_resources(*resources)
    if refresh == "drop_sources":
        _drop_dependent_views(pipeline.dataset_name)
    try:
        info = pipeline.run(source, refresh=refresh)
    except PipelineStepFailed as failed:
        # a setting or input file to fix: say that, not dlt's wrapping of it
        cause = _input_error(failed)
        if cause is not None:
            raise cause from failed
        raise
    info.raise_on_failed_jobs()
    loaded: dict[str, int] = {}
    normalize_info = pipeline.last_trace.last_normalize_info if pipeline.last_trace else None
    if normalize_info is not None:
        for table, rows in normalize_info.row_counts.items():
            if not table.startswith("_dlt"):
                loaded[table] = loaded.get(table, 0) + int(rows)
    schema = pipeline.schemas.get(source.schema.name) or source.schema
    tables = sorted(set(loaded) | {t for t in schema.data_table_names() if not t.startswith("_dlt")})
    totals = table_counts(pipeline, tables)
    return {table: {"loaded": loaded.get(table, 0), "total": totals.get(table, 0)} for table in tables}


def run_timed(source_name: str, **kwargs: Any) -> tuple[dict[str, dict[str, int]], float]:
    started = time.perf_counter()
    summary = load(source_name, **kwargs)
    return summary, time.perf_counter() - started
