"""Workflow reads: definitions with their run counts, and run history (app.workflows and
app.workflow_runs; runs are written by Dagster's activation, never by the app)."""

from __future__ import annotations

import pandas as pd

from . import query

WORKFLOW_COLUMNS = ["workflow_id", "name", "trigger", "enabled", "source", "runs", "succeeded", "failed", "skipped",
                    "last_run_at", "updated_at"]
RUN_COLUMNS = ["run_id", "status", "event_key", "started_at", "duration_ms", "error", "inputs", "outputs"]


def workflows() -> pd.DataFrame:
    """Every workflow with its run counts (not cached: enable/disable must show at once)."""
    frame = query("""
        select w.workflow_id, w.name, w.trigger, w.enabled, w.source,
               count(r.run_id) as runs,
               count(r.run_id) filter (where r.status = 'SUCCESS') as succeeded,
               count(r.run_id) filter (where r.status = 'FAILED') as failed,
               count(r.run_id) filter (where r.status = 'SKIPPED') as skipped,
               max(r.started_at) as last_run_at, w.updated_at
        from app.workflows w left join app.workflow_runs r using (workflow_id)
        group by w.workflow_id order by w.name
    """)
    return frame if not frame.empty else pd.DataFrame(columns=WORKFLOW_COLUMNS)


def runs(workflow_id: int, status: tuple[str, ...] = (), limit: int = 100) -> pd.DataFrame:
    frame = query("""
        select run_id, status, event_key, started_at, duration_ms, error, inputs::text as inputs,
               outputs::text as outputs
        from app.workflow_runs
        where workflow_id = :id and (cardinality(cast(:status as text[])) = 0 or status = any(cast(:status as text[])))
        order by started_at desc, run_id desc limit :limit
    """, id=workflow_id, status=list(status), limit=limit)
    return frame if not frame.empty else pd.DataFrame(columns=RUN_COLUMNS)
