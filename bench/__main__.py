"""`make bench` / `python -m bench`: speed and memory as ratios against baselines from the same run.

These machines are shared and noisy, so no benchmark reports a bare time as its result: each one
measures a baseline next to it (a raw PostgreSQL COPY of the same rows, a bare aggregate over the
same signals) and reports the ratio. Results go to `bench/results/latest.json` and a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - started, value


def bench_world(args, world_dir: Path) -> dict:
    from ingestion import world

    seconds, summary = _timed(world.generate, world_dir, seed=args.seed, companies=args.companies,
                              people=args.people, days=args.days)
    signals = getattr(summary, "signals", None) or getattr(summary, "total_signals", 0)
    return {"seconds": round(seconds, 2), "signals": signals,
            "signals_per_second": round(signals / seconds) if seconds else None,
            "peak_rss_mb": round(_peak_rss_mb())}


def _copy_baseline_seconds(schema: str) -> tuple[float, int]:
    """COPY every row our loader wrote to a schema out to files and back into empty twins:
    the server's own ceiling for the same data."""
    from devsignal import db

    seconds, rows = 0.0, 0
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("select table_name from information_schema.tables where table_schema = %s "
                    "and table_type = 'BASE TABLE' and table_name not like '\\_dlt%%'", (schema,))
        for (table,) in cur.fetchall():
            with tempfile.TemporaryFile("w+b") as buffer:
                cur.copy_expert(f'copy (select * from {schema}."{table}") to stdout', buffer)
                rows += cur.rowcount
                buffer.seek(0)
                cur.execute(f'create temp table "twin_{table}" (like {schema}."{table}")')
                started = time.perf_counter()
                cur.copy_expert(f'copy "twin_{table}" from stdin', buffer)
                conn.commit()
                seconds += time.perf_counter() - started
    return seconds, rows


def bench_load(args, world_dir: Path) -> dict:
    """Every source through the sandbox; Segment (the high-volume source, read from gzipped JSON
    lines, parsed, typed and merged on messageId) against a COPY of the rows it wrote."""
    from devsignal import demo
    from ingestion import pipelines, sandbox

    results = {}
    with sandbox.serve(world_dir) as server:
        os.environ.update(demo.sandbox_env(server.url, world_dir))
        for source in ("npm", "pypi", "github", "segment", "crm"):
            seconds, _ = _timed(pipelines.load, source, refresh="drop_sources")  # a full load, not a no-op
            results[f"{source}_seconds"] = round(seconds, 2)
    copy_seconds, rows = _copy_baseline_seconds("raw_segment")
    ours = results["segment_seconds"]
    results.update({"segment_rows": rows, "copy_seconds": round(copy_seconds, 3),
                    "segment_rows_per_second": round(rows / ours) if ours else None,
                    "copy_over_ours": round(copy_seconds / ours, 3) if ours else None})
    return results


def bench_dbt(args, world_dir: Path) -> dict:
    """`dbt build` against a bare aggregate over the same signals (the cost of the modelling)."""
    import subprocess

    from devsignal import db, settings

    project = settings.dbt_project_dir()
    dbt = str(Path(sys.executable).parent / "dbt")
    meta = json.loads((world_dir / "meta.json").read_text())
    command = [dbt, "build", "--project-dir", str(project), "--profiles-dir", str(project), "--quiet",
               "--vars", json.dumps({"score_as_of": meta["end_date"]})]
    seconds, result = _timed(subprocess.run, command, capture_output=True, text=True, env=os.environ)
    if result.returncode != 0:
        raise RuntimeError(result.stdout[-3000:])
    with db.connect() as conn, conn.cursor() as cur:
        started = time.perf_counter()
        cur.execute("""
            select date_trunc('day', timestamp::timestamptz), count(*), count(distinct coalesce(user_id, anonymous_id))
            from raw_segment.tracks group by 1
        """)
        cur.fetchall()
        aggregate = time.perf_counter() - started
    return {"dbt_build_seconds": round(seconds, 2), "aggregate_seconds": round(aggregate, 3),
            "dbt_over_aggregate": round(seconds / aggregate, 1) if aggregate else None}


# name -> "module:function"; each takes (args, world_dir) and returns {measure: value}
BENCHMARKS = {
    "world": "bench.__main__:bench_world",
    "load": "bench.__main__:bench_load",
    "dbt": "bench.__main__:bench_dbt",
    "loads": "bench.loads:bench_loads",
    "crm": "bench.crm:bench_crm",
    "intake": "bench.intake:bench_intake",
    "identity": "bench.identity:bench_identity",
    "scoring": "bench.scoring:bench_scoring",
    "crm_queries": "bench.crm_queries:bench_crm_queries",
    "activation": "bench.activation:bench_activation",
}


def _benchmark(name: str):
    import importlib

    module, function = BENCHMARKS[name].split(":")
    return getattr(importlib.import_module(module), function)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--people", type=int, default=10000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--crm-accounts", type=int, default=10_000, help="crm_queries: accounts in its SQL-made world")
    parser.add_argument("--crm-signals", type=int, default=10_000_000, help="crm_queries: signals in its SQL-made world")
    parser.add_argument("--activation-accounts", type=int, default=100, help="activation: accounts made to cross into HOT")
    parser.add_argument("--activation-rate", type=int, default=1000, help="activation: background events per second")
    parser.add_argument("--activation-seconds", type=int, default=600, help="activation: how long the stream runs at most")
    parser.add_argument("--only", nargs="*", choices=list(BENCHMARKS), default=list(BENCHMARKS))
    parser.add_argument("--skip", nargs="*", choices=list(BENCHMARKS), default=[])
    parser.add_argument("--reuse-upstream", action="store_true",
                        help="scoring: keep the models upstream of the scores as an earlier run built them")
    args = parser.parse_args()

    # a state folder of its own: the bench never touches the demo's database
    os.environ.setdefault("DEVSIGNAL_HOME", str(BENCH_DIR / "results" / "state"))
    from devsignal import db, settings
    from devsignal.console import console, table

    db.connection()
    world_dir = settings.world_dir()
    results: dict[str, dict] = {}
    wanted = [name for name in BENCHMARKS if name in args.only and name not in args.skip]
    if "world" not in wanted and not (world_dir / "meta.json").exists():
        wanted.insert(0, "world")  # every other benchmark needs a world
    for name in wanted:
        console.print(f"› {name} …")
        results[name] = _benchmark(name)(args, world_dir)
    report = {
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "world": {"companies": args.companies, "people": args.people, "days": args.days, "seed": args.seed},
        "results": results,
        "peak_rss_mb": round(_peak_rss_mb()),
    }
    out = BENCH_DIR / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(report, indent=2))
    table("Benchmarks", ["benchmark", "measure", "value"],
          [[bench, key, value] for bench, values in results.items() for key, value in values.items()],
          justify_right={"value"})
    console.print(f"written to {out / 'latest.json'}")


if __name__ == "__main__":
    main()
