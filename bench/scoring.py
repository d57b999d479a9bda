"""The PQA scoring models: a full build against a bare aggregate over the same signals, and an
incremental build after 10,000 new signals against the full build.

- `full`: `dbt run --full-refresh` of the scoring models (v1 and v2 inputs and factors, the daily
  fact, tier changes, current scores), after the rest of the project is built (not timed). Model
  time = the sum of dbt's per-model execution times (dbt's own start-up is reported apart).
- `baseline`: one SQL statement computing the same per-account, per-day signal counts (a dense
  account × day spine with 30- and 7-day rolling counts) into a temp table, in the same run.
- `incremental`: 10,000 Segment track events copied onto the day after the world's end, the
  signal models rebuilt (timed apart: not scoring), then `dbt run` of the scoring models as of that
  day (incremental: the last `pqa_lookback_days` days plus the new one).
Reported as ratios: `full_over_baseline` (aim <= 3) and `incremental_over_full` (aim <= 0.10).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCORING_MODELS = ("int_pqa__account_day_inputs", "int_pqa__v1_factors", "int_pqa__v2_account_day_inputs",
                  "int_pqa__v2_factors", "fct_account_scores_daily", "fct_account_tier_changes",
                  "account_scores_current")
SIGNAL_MODELS = ("stg_segment__tracks", "int_signals__unioned", "int_signals__attributed")


def add_segment_signals(conn, count: int, first_day: dt.date, last_day: dt.date, salt: str = "bench") -> int:
    """Copy `count` identified Segment track events (deterministically chosen) onto the days
    `first_day`..`last_day`, with new message ids: new signals from people the pipeline knows."""
    days = (last_day - first_day).days + 1
    with conn.cursor() as cur:
        cur.execute("select column_name from information_schema.columns "
                    "where table_schema = 'raw_segment' and table_name = 'tracks' order by ordinal_position")
        columns = [name for (name,) in cur.fetchall()]
        chosen = {"message_id": "'synthetic-' || md5(t.message_id || %(salt)s)",
                  "timestamp": ("cast(%(first_day)s as timestamp) at time zone 'UTC' "
                                "+ ((t.n %% %(days)s) * interval '1 day') "
                                "+ ((abs(hashtext(t.message_id)) %% 86000) * interval '1 second')")}
        select = ", ".join(chosen.get(name, f't."{name}"') for name in columns)
        cur.execute(f"""
            insert into raw_segment.tracks ({", ".join(f'"{name}"' for name in columns)})
            select {select}
            from (
                select tracks.*, row_number() over (order by tracks.message_id) as n
                from raw_segment.tracks as tracks
                where tracks.user_id is not null and tracks.message_id not like 'synthetic-%%'
                order by tracks.message_id
                limit %(count)s
            ) as t
        """, {"salt": salt, "first_day": first_day.isoformat(), "days": days, "count": count})
        inserted = cur.rowcount
    conn.commit()
    return inserted


def _dbt(args: list[str], vars_: dict, work_dir: Path) -> tuple[float, list[dict], str]:
    from devsignal import settings

    project = settings.dbt_project_dir()
    command = [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir", str(project),
               "--profiles-dir", str(project), "--target-path", str(work_dir / "target"),
               "--log-path", str(work_dir / "logs"), "--vars", json.dumps(vars_)]
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=os.environ, cwd=project)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{proc.stdout[-3000:]}")
    results = json.loads((work_dir / "target" / "run_results.json").read_text())["results"]
    return seconds, results, proc.stdout


def _model_seconds(results: list[dict]) -> dict[str, float]:
    return {r["unique_id"].split(".")[-1]: round(r.get("execution_time") or 0.0, 2)
            for r in results if r["unique_id"].startswith("model.")}


def _baseline_seconds(as_of: dt.date) -> tuple[float, int]:
    """The bare aggregate: per account and day of the spine, the 30- and 7-day signal counts."""
    from devsignal import db

    with db.connect() as conn, conn.cursor() as cur:
        started = time.perf_counter()
        cur.execute("""
            create temp table bench_scoring_baseline as
            with daily as (
                select account_id, cast(occurred_at at time zone 'UTC' as date) as day, count(*) as signals
                from intermediate.int_signals__attributed
                where account_id is not null and occurred_at < cast(%(as_of)s as date) + 1
                group by 1, 2
            ),
            spine as (
                select accounts.account_id, cast(day as date) as day
                from marts.dim_accounts as accounts
                cross join generate_series((select min(day) from daily), cast(%(as_of)s as date), interval '1 day') as day
            )
            select
                spine.account_id,
                spine.day,
                sum(coalesce(daily.signals, 0)) over (partition by spine.account_id order by spine.day
                                                      rows between 29 preceding and current row) as signals_30d,
                sum(coalesce(daily.signals, 0)) over (partition by spine.account_id order by spine.day
                                                      rows between 6 preceding and current row) as signals_7d
            from spine
            left join daily on spine.account_id = daily.account_id and spine.day = daily.day
        """, {"as_of": as_of.isoformat()})
        rows = cur.rowcount
        seconds = time.perf_counter() - started
        conn.rollback()
    return seconds, rows


def _ensure_loaded(world_dir: Path) -> None:
    """The raw tables (the `load` benchmark leaves them; otherwise load every source now)."""
    from devsignal import db, demo
    from ingestion import pipelines, sandbox

    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("select to_regclass('raw_segment.tracks') is not null and to_regclass('raw_crm.hubspot_contacts') is not null")
        if cur.fetchone()[0]:
            return
    with sandbox.serve(world_dir) as server:
        os.environ.update(demo.sandbox_env(server.url, world_dir))
        for source in ("npm", "pypi", "github", "segment", "crm"):
            pipelines.load(source)


def bench_scoring(args, world_dir: Path) -> dict:
    from devsignal import db

    db.connection()  # exports what profiles.yml reads
    world_dir = Path(world_dir)
    meta = json.loads((world_dir / "meta.json").read_text())
    end = dt.date.fromisoformat(meta["end_date"])
    vars_ = {"score_as_of": end.isoformat(), "internal_domains": [meta["vendor"]["domain"]]}
    _ensure_loaded(world_dir)
    work_dir = Path(tempfile.mkdtemp(prefix="bench-scoring-"))
    with db.connect() as conn, conn.cursor() as cur:  # a rerun starts from the world as loaded
        cur.execute("delete from raw_segment.tracks where message_id like 'synthetic-%'")
        conn.commit()

    # everything else first (not timed): staging, identity, signals, CRM, accounts, dim_accounts
    _dbt(["seed"], vars_, work_dir)
    _dbt(["run", "--exclude", *SCORING_MODELS], vars_, work_dir)

    wall, results, _ = _dbt(["run", "--full-refresh", "--select", *SCORING_MODELS], vars_, work_dir)
    full = _model_seconds(results)
    full_seconds = sum(full.values())
    baseline_seconds, baseline_rows = _baseline_seconds(end)

    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("select count(*), count(distinct account_id), count(distinct score_date) from marts.fct_account_scores_daily")
        score_rows, accounts, days = cur.fetchone()
        next_day = end + dt.timedelta(days=1)
        added = add_segment_signals(conn, 10_000, next_day, next_day)
    upstream_wall, upstream_results, _ = _dbt(["run", "--select", *SIGNAL_MODELS], vars_, work_dir)
    vars_next = {**vars_, "score_as_of": next_day.isoformat()}
    incremental_wall, results, _ = _dbt(["run", "--select", *SCORING_MODELS], vars_next, work_dir)
    incremental = _model_seconds(results)
    incremental_seconds = sum(incremental.values())

    return {
        "accounts": accounts, "days": days, "score_rows": score_rows, "baseline_rows": baseline_rows,
        "full_model_seconds": round(full_seconds, 2), "full_wall_seconds": round(wall, 2),
        "full_models": full,
        "baseline_seconds": round(baseline_seconds, 3),
        "full_over_baseline": round(full_seconds / baseline_seconds, 1) if baseline_seconds else None,
        "signals_added": added,
        "signal_models_seconds": round(sum(_model_seconds(upstream_results).values()), 2),
        "incremental_model_seconds": round(incremental_seconds, 2), "incremental_wall_seconds": round(incremental_wall, 2),
        "incremental_models": incremental,
        "incremental_over_full": round(incremental_seconds / full_seconds, 3) if full_seconds else None,
    }
