"""One dlt pipeline per source: `raw_<source>` in the DevSignal database, state under
<DEVSIGNAL_HOME>/dlt. Importable without Dagster; Dagster's dlt assets use `make_pipeline` and
`get_source` too.

    from ingestion.pipelines import load
    load("github")                          # settings from the environment
    load("npm", packages=["@acme/sdk"])     # keyword arguments go to the source function

`load` holds a PostgreSQL advisory lock named after the pipeline for the whole run, so two runs
of one pipeline never overlap (dlt#1102, #1619): the second refuses at once with PipelineBusy, or
waits up to `wait_for_lock` seconds. It first finishes the load packages an interrupted run left
behind, then runs the source. An upstream failure is raised as itself (UpstreamError,
SchemaDriftError...), and columns an API added are logged and listed in the summary.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed

logger = logging.getLogger(__name__)

# dlt [load] options: no copies of loaded rows left in the `_staging` dataset or in loaded
# packages on disk (RELIABILITY.md §2); set these variables yourself to override.
LOAD_DEFAULTS = {"LOAD__TRUNCATE_STAGING_DATASET": "true", "LOAD__DELETE_COMPLETED_JOBS": "true"}

LOCK_NAMESPACE = "devsignal.ingestion"

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


class PipelineBusy(RuntimeError):
    """Another run of the same pipeline holds its lock; this one did not start."""


def lock_key(pipeline_name: str) -> int:
    """The advisory-lock key of a pipeline: a stable signed 64-bit hash of its name."""
    digest = hashlib.sha256(f"{LOCK_NAMESPACE}:{pipeline_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _lock_holder(cur, key: int) -> str:
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    cur.execute("""
        select a.pid, a.application_name, to_char(a.backend_start at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS')
        from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where l.locktype = 'advisory' and l.granted and l.classid = %s and l.objid = %s and l.objsubid = 1
    """, (unsigned >> 32, unsigned & 0xFFFFFFFF))
    row = cur.fetchone()
    if row is None:
        return "another session"
    pid, application, since = row
    return f"{application or 'a session'} (server pid {pid}, since {since} UTC)"


@contextlib.contextmanager
def pipeline_lock(pipeline_name: str, wait: float = 0.0) -> Iterator[None]:
    """Hold the PostgreSQL advisory lock of `pipeline_name` (session level, on a connection of its
    own) while the block runs. Another holder: wait up to `wait` seconds, then PipelineBusy. A
    killed process loses its connection, and with it the lock."""
    from devsignal import db

    key = lock_key(pipeline_name)
    conn = db.connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            who = f"devsignal-ingestion {pipeline_name} pid {os.getpid()} on {socket.gethostname()}"
            cur.execute("select set_config('application_name', %s, false)", (who[:63],))
            deadline = time.monotonic() + max(0.0, wait)
            announced = False
            while True:
                cur.execute("select pg_try_advisory_lock(%s)", (key,))
                if cur.fetchone()[0]:
                    break
                holder = _lock_holder(cur, key)
                if time.monotonic() >= deadline:
                    waited = f" after waiting {wait:g}s" if wait > 0 else ""
                    raise PipelineBusy(
                        f"pipeline {pipeline_name!r} is already running: {holder} holds its lock{waited}. "
                        f"This run did not start, so the two cannot race over the same load packages and "
                        f"cursors. Run it again when that one has finished (or wait for it: --wait SECONDS).")
                if not announced:
                    logger.warning("pipeline %r is running in %s: waiting up to %gs for it to finish",
                                   pipeline_name, holder, wait)
                    announced = True
                time.sleep(min(0.5, max(0.05, deadline - time.monotonic())))
        try:
            yield
        finally:
            with conn.cursor() as cur:
                cur.execute("select pg_advisory_unlock(%s)", (key,))
    finally:
        conn.close()


def _readable_error(error: BaseException) -> Optional[BaseException]:
    """The error a person can act on inside dlt's wrapping: a setting or input to fix
    (SourceInputError), an upstream failure (UpstreamError and kin), or a schema-contract
    violation (turned into a SchemaDriftError that says what happened)."""
    from dlt.common.schema.exceptions import DataValidationError

    from ingestion.sources._common import SchemaDriftError, SourceInputError, UpstreamError

    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, (SourceInputError, UpstreamError)):
            return error
        if isinstance(error, DataValidationError):
            column = (error.column_name or "?").split("__v_")[0]  # dlt names the variant it refused
            item = error.data_item if isinstance(error.data_item, dict) else {}
            value = item.get(error.column_name, item.get(column))
            frozen = ((error.table_schema or {}).get("columns", {}).get(column, {}) or {}).get("data_type")
            shown = f" ({type(value).__name__} {value!r})" if value is not None else ""
            return SchemaDriftError(
                f"{error.schema_name}: `{error.table_name}.{column}` received a value{shown} that does not fit its "
                f"frozen type{f' {frozen}' if frozen else ''} (schema contract {error.schema_entity}: "
                f"{error.contract_mode}). The upstream API changed a field's type: nothing of this run was "
                f"loaded and no variant column was added. Adapt the connector once you know what the new "
                f"values mean.")
        error = getattr(error, "exception", None) or error.__cause__ or error.__context__
    return None


def _data_columns(pipeline: dlt.Pipeline, schema_name: str) -> dict[str, set[str]]:
    """{table: its columns} of the pipeline's stored schema (dlt's own tables and columns left out)."""
    try:
        schema = pipeline.schemas[schema_name] if schema_name in pipeline.schemas else None
    except Exception:  # no schema stored yet
        schema = None
    if schema is None:
        return {}
    return {name: {c for c in table.get("columns", {}) if not c.startswith("_dlt")}
            for name, table in schema.tables.items() if not name.startswith("_dlt")}


def _abort_unnormalizable(pipeline: dlt.Pipeline) -> bool:
    """After a failed normalize (e.g. a value breaking a frozen column type, which dlt checks only
    then), the extracted package would stay pending and fail again on every run, and the local
    state would keep the cursors its extract advanced. Abort it: dlt deletes the pending packages
    and rewinds the local state and schemas to where they started, so the next run extracts the
    same data again."""
    try:
        plan = pipeline.abort_packages()
    except Exception:  # pragma: no cover - leave the package for a person to inspect
        logger.exception("%s: could not abort the package that failed to normalize", pipeline.pipeline_name)
        return False
    if plan is not None:
        logger.warning("%s: aborted the load package(s) that failed to normalize; cursors rewound to %s",
                       pipeline.pipeline_name, plan.get("restore_from_load_id"))
    return True


def _normalized_rows(pipeline: dlt.Pipeline) -> dict[str, int]:
    rows: dict[str, int] = {}
    normalize_info = pipeline.last_trace.last_normalize_info if pipeline.last_trace else None
    if normalize_info is not None:
        for table, count in normalize_info.row_counts.items():
            if not table.startswith("_dlt"):
                rows[table] = rows.get(table, 0) + int(count)
    return rows


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
    wait_for_lock: float = 0.0,
    pipeline_name: Optional[str] = None,
    dataset_name: Optional[str] = None,
    **overrides: Any,
) -> dict[str, dict[str, Any]]:
    """Run `source_name` once, holding the pipeline's advisory lock (`wait_for_lock` seconds to
    wait for another run of it; 0 = refuse at once with PipelineBusy). Keyword arguments go to the
    source function (e.g. `packages=`, `repos=`, `base_url=`); `resources` picks some resources;
    `refresh="drop_sources"` starts over (drops the tables and the state). `pipeline_name` and
    `dataset_name` run it side by side with the default pipeline (a pipeline object passed as
    `pipeline` wins over both).

    Load packages an interrupted run left behind are loaded first (dlt resumes them without
    re-running their completed jobs), then the source runs.

    Returns {table: {"loaded": rows this run, "total": rows now}} for every data table of the
    source (not dlt's own `_dlt_*` tables), plus "new_columns": [...] for a table that existed
    and got columns the upstream added in this run (also logged as a warning).
    A setting or input to fix (SourceInputError) and an upstream failure (UpstreamError,
    UpstreamAuthError, SchemaDriftError) are raised as themselves."""
    for name, value in LOAD_DEFAULTS.items():
        os.environ.setdefault(name, value)
    source = get_source(source_name, **overrides)
    lock_name = pipeline.pipeline_name if pipeline is not None else (pipeline_name or source_name)
    with pipeline_lock(lock_name, wait=wait_for_lock):
        # the pipeline is opened only under the lock: its working folder, state and schemas are read
        # after the previous run of it has finished, never while it runs
        if pipeline is None:
            pipeline = make_pipeline(source_name, pipeline_name=pipeline_name, dataset_name=dataset_name)
        return _run_locked(pipeline, source, resources, refresh)


def _run_locked(pipeline: dlt.Pipeline, source, resources: Optional[Sequence[str]],
                refresh: Optional[str]) -> dict[str, dict[str, Any]]:
    from ingestion.sources._common import UpstreamError

    if resources:
        source = source.with_resources(*resources)
    if refresh == "drop_sources":
        _drop_dependent_views(pipeline.dataset_name)
    columns_before = {} if refresh else _data_columns(pipeline, source.schema.name)
    loaded: dict[str, int] = {}
    try:
        if pipeline.has_pending_data:
            logger.warning("%s: finishing the load package(s) an interrupted run left behind first",
                           pipeline.pipeline_name)
            info = pipeline.run()  # normalizes and loads what is pending, extracts nothing
            if info is not None:
                info.raise_on_failed_jobs()
            loaded = _normalized_rows(pipeline)
        info = pipeline.run(source, refresh=refresh)
    except PipelineStepFailed as failed:
        rolled_back = failed.step == "normalize" and _abort_unnormalizable(pipeline)
        # a setting, an input file or an upstream to fix: say that, not dlt's wrapping of it
        cause = _readable_error(failed)
        if cause is not None:
            if isinstance(cause, UpstreamError) and (failed.step == "extract" or rolled_back):
                cause.add_note(f"{pipeline.dataset_name}: nothing extracted in this run was loaded and no cursor "
                               f"moved; run it again once the upstream recovers.")
            raise cause from failed
        raise
    info.raise_on_failed_jobs()
    for table, rows in _normalized_rows(pipeline).items():
        loaded[table] = loaded.get(table, 0) + rows
    schema = pipeline.schemas.get(source.schema.name) or source.schema
    tables = sorted(set(loaded) | {t for t in schema.data_table_names() if not t.startswith("_dlt")})
    totals = table_counts(pipeline, tables)
    summary: dict[str, dict[str, Any]] = {
        table: {"loaded": loaded.get(table, 0), "total": totals.get(table, 0)} for table in tables}
    columns_after = _data_columns(pipeline, source.schema.name)
    for table, before in columns_before.items():
        added = sorted(columns_after.get(table, set()) - before)
        if added and table in summary:
            summary[table]["new_columns"] = added
            logger.warning("%s.%s: %d new column(s) from upstream: %s. They are loaded; check what they "
                           "mean before relying on them.", pipeline.dataset_name, table, len(added),
                           ", ".join(added))
    return summary


def run_timed(source_name: str, **kwargs: Any) -> tuple[dict[str, dict[str, Any]], float]:
    started = time.perf_counter()
    summary = load(source_name, **kwargs)
    return summary, time.perf_counter() - started
