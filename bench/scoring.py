"""The PQA scoring models: a full build against a bare aggregate over the same signals, and an
incremental build after 10,000 new signals against the full build.

- `full`: `dbt run --full-refresh` of the scoring models (v1 and v2 inputs and factors, the daily
  fact, tier changes, current scores), after everything upstream of them is built (not timed;
  `--reuse-upstream` keeps what an earlier run built, for a big world whose upstream takes long). Model
  time = the sum of dbt's per-model execution times (dbt's own start-up is reported apart).
- `baseline`: one SQL statement computing the same per-account, per-day signal counts (a dense
  account × day spine with 30- and 7-day rolling counts) into a temp table, in the same run.
- `incremental`: 10,000 Segment track events copied onto the day after the world's end, the
  signal models rebuilt (timed apart: not scoring), then `dbt run` of the scoring models as of that
  day (incremental: the last `pqa_lookback_days` days plus the new one).
- `write_floor`: a bare copy of the daily fact's rows into a new table with its unique index: what
  writing the scores costs with no computation, the floor under the full build.
Reported as ratios: `full_over_baseline` (aim <= 3) and `incremental_over_full` (aim <= 0.10), with
the PostgreSQL server's peak memory during each build (ServerMemory).
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

SCORING_MODELS = ("int_pqa__signal_days", "int_pqa__account_day_inputs", "int_pqa__v1_factors",
                  "int_pqa__v2_account_day_inputs", "int_pqa__v2_factors", "fct_account_scores_daily",
                  "fct_account_tier_changes", "account_scores_current")
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


class ServerMemory:
    """Peak memory of the PostgreSQL server while a block runs: the largest peak RSS of one backend
    (VmHWM: its sorts, hashes and the shared buffers it touched) and the largest sum of the
    backends' RSS at one sample (every 0.2 s). Linux /proc only; zeros elsewhere."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.peak_backend_mb = 0.0
        self.peak_total_mb = 0.0
        self._stop = None

    def _backends(self) -> list[int]:
        try:
            postmaster = int((self.data_dir / "postmaster.pid").read_text().split()[0])
            children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
        except (OSError, ValueError, IndexError):
            return []
        return [int(pid) for pid in children]

    def _sample(self) -> None:
        total = 0.0
        for pid in self._backends():
            try:
                status = Path(f"/proc/{pid}/status").read_text().splitlines()
            except OSError:
                continue
            fields = {line.split(":")[0]: line.split()[1] for line in status
                      if line.startswith(("VmHWM", "VmRSS"))}
            self.peak_backend_mb = max(self.peak_backend_mb, int(fields.get("VmHWM", 0)) / 1024)
            total += int(fields.get("VmRSS", 0)) / 1024
        self.peak_total_mb = max(self.peak_total_mb, total)

    def __enter__(self):
        import threading

        self._stop = threading.Event()

        def loop():
            while not self._stop.wait(0.2):
                self._sample()

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()


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
                from intermediate.int_accounts__merged as accounts
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


def _write_floor_seconds() -> float:
    """What writing the scores alone costs: a copy of the daily fact's rows into a new table with its
    unique index (no computation at all), rolled back. The full build cannot go below it."""
    from devsignal import db

    with db.connect() as conn, conn.cursor() as cur:
        started = time.perf_counter()
        cur.execute("create table marts.bench_scores_copy as select * from marts.fct_account_scores_daily")
        cur.execute("create unique index on marts.bench_scores_copy (score_date, score_version, account_id)")
        seconds = time.perf_counter() - started
        conn.rollback()
    return seconds


def _ensure_loaded(world_dir: Path) -> None:
    """The raw tables (the `load` benchmark leaves them; otherwise load every source now)."""
    from devsignal import db, demo
    from ingestion import pipelines, sandbox

    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("select to_regclass('raw_segment.tracks') is not null and to_regclass('raw_crm.hubspot_contacts') is not null")
        if cur.fetchone()[0]:
            return
    # the simulated GitHub's hourly budget (5,000 requests) would stall a big world's profile
    # lookups for hours; this load is setup, not what is measured, so the sandbox does not throttle
    with sandbox.serve(world_dir, rate_limit=10**9, secondary_every=0) as server:
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
        synthetic_removed = cur.rowcount
        conn.commit()

    # everything upstream first (not timed): staging, identity, signals, CRM, accounts. dim_accounts
    # reads the current scores, so it (and what reads it) is built after them, also not timed.
    if not getattr(args, "reuse_upstream", False):
        _dbt(["seed"], vars_, work_dir)
        _dbt(["run", "--exclude", *(f"{model}+" for model in SCORING_MODELS)], vars_, work_dir)
    elif synthetic_removed:  # the synthetic signals of an earlier run are gone from raw: from these too
        _dbt(["run", "--select", *SIGNAL_MODELS], vars_, work_dir)

    data_dir = Path(db.connection().host)  # the embedded server's socket folder is its data directory
    with ServerMemory(data_dir) as full_memory:
        wall, results, _ = _dbt(["run", "--full-refresh", "--select", *SCORING_MODELS], vars_, work_dir)
    full = _model_seconds(results)
    full_seconds = sum(full.values())
    baseline_seconds, baseline_rows = _baseline_seconds(end)
    write_floor_seconds = _write_floor_seconds()
    _dbt(["run", "--select", "int_accounts__owners", "dim_accounts"], vars_, work_dir)

    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("select count(*), count(distinct account_id), count(distinct score_date) from marts.fct_account_scores_daily")
        score_rows, accounts, days = cur.fetchone()
        cur.execute("select count(*) from intermediate.int_signals__attributed")
        [signals] = cur.fetchone()
        next_day = end + dt.timedelta(days=1)
        added = add_segment_signals(conn, 10_000, next_day, next_day)
    upstream_wall, upstream_results, _ = _dbt(["run", "--select", *SIGNAL_MODELS], vars_, work_dir)
    vars_next = {**vars_, "score_as_of": next_day.isoformat()}
    with ServerMemory(data_dir) as incremental_memory:
        incremental_wall, results, _ = _dbt(["run", "--select", *SCORING_MODELS], vars_next, work_dir)
    incremental = _model_seconds(results)
    incremental_seconds = sum(incremental.values())

    return {
        "accounts": accounts, "days": days, "score_rows": score_rows, "baseline_rows": baseline_rows,
        "full_model_seconds": round(full_seconds, 2), "full_wall_seconds": round(wall, 2),
        "full_models": full,
        "baseline_seconds": round(baseline_seconds, 3),
        "full_over_baseline": round(full_seconds / baseline_seconds, 1) if baseline_seconds else None,
        "write_floor_seconds": round(write_floor_seconds, 2),
        "write_floor_over_baseline": round(write_floor_seconds / baseline_seconds, 1) if baseline_seconds else None,
        "signals_added": added,
        "signal_models_seconds": round(sum(_model_seconds(upstream_results).values()), 2),
        "incremental_model_seconds": round(incremental_seconds, 2), "incremental_wall_seconds": round(incremental_wall, 2),
        "incremental_models": incremental,
        "incremental_over_full": round(incremental_seconds / full_seconds, 3) if full_seconds else None,
        "signals": signals,
        "full_peak_backend_mb": round(full_memory.peak_backend_mb),
        "full_peak_server_mb": round(full_memory.peak_total_mb),
        "incremental_peak_backend_mb": round(incremental_memory.peak_backend_mb),
    }
