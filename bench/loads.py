"""`bench_loads`: rows per second of each REST load path and of dlt's loader formats, each against a
raw PostgreSQL COPY of the same rows measured in the same run (ratios, never bare timings).

    from bench.loads import bench_loads
    bench_loads(args, world_dir)     # args: the bench's argparse namespace (only optional knobs read)

Two parts:
- REST paths (through the sandbox serving `world_dir`): npm daily downloads (Arrow -> parquet, a
  long history so the range API is paged), pypistats daily series (dicts -> insert_values), the
  whole GitHub source (dicts, ETags, users after listings). Each is a fresh pipeline and dataset;
  its rows are then COPYed out and back into empty twin tables: `copy_over_ours` = COPY seconds /
  load seconds (1.0 = as fast as COPY; the REST paths spend most of their time on HTTP).
- Loader formats on the same `load_rows` synthetic download rows (9 columns): an Arrow table via the
  parquet format (ADBC), via the csv format (COPY), the same rows as Python dicts via
  insert_values, and the parquet path again with `merge` on a primary key; against a COPY of the
  same rows as CSV into an empty table. DESIGN.md §5 measured ~0.9x (parquet), ~0.2x (csv) and
  ~1/20 (insert_values) of COPY on 1M signal rows.

Optional args attributes: `load_rows` (default 200,000), `npm_history_days` (default 1,825).
Every dataset it creates is dropped at the end.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

DEFAULT_ROWS = 200_000
DEFAULT_NPM_HISTORY_DAYS = 1825


def _pipeline(name: str, dataset: str, pipelines_dir: str):
    import dlt

    from devsignal import db

    return dlt.pipeline(pipeline_name=name, destination=dlt.destinations.postgres(credentials=db.dlt_credentials()),
                        dataset_name=dataset, pipelines_dir=pipelines_dir)


def _drop(datasets: list[str]) -> None:
    from devsignal import db

    conn = db.connect()
    conn.autocommit = True
    with conn.cursor() as cur:
        for name in datasets:
            for schema in (name, f"{name}_staging"):
                cur.execute(f'drop schema if exists "{schema}" cascade')
    conn.close()


def _copy_seconds(schema: str, tables: list[str]) -> tuple[float, int]:
    """COPY the rows of `tables` out to memory and time COPYing them back into empty twins."""
    from devsignal import db

    seconds, rows = 0.0, 0
    with db.connect() as conn, conn.cursor() as cur:
        for table in tables:
            buffer = io.BytesIO()
            cur.copy_expert(f'copy (select * from "{schema}"."{table}") to stdout', buffer)
            rows += cur.rowcount
            buffer.seek(0)
            twin = f"twin_{uuid.uuid4().hex[:8]}"
            cur.execute(f'create temp table "{twin}" (like "{schema}"."{table}")')
            started = time.perf_counter()
            cur.copy_expert(f'copy "{twin}" from stdin', buffer)
            conn.commit()
            seconds += time.perf_counter() - started
            cur.execute(f'drop table "{twin}"')
            conn.commit()
    return seconds, rows


def _ratio(copy_seconds: float, seconds: float) -> float | None:
    return round(copy_seconds / seconds, 3) if seconds else None


# --- REST paths -------------------------------------------------------------------------------------

REST_PATHS = {
    # name: (source, resources, tables whose rows count, extra source arguments)
    "npm_downloads": ("npm", ["downloads"], ["downloads"], "history"),
    "pypi_downloads": ("pypi", ["downloads"], ["downloads"], None),
    "github": ("github", None, ["stargazers", "forks", "issues", "pull_requests", "contributors", "releases",
                                "users", "orgs"], None),
}


def bench_rest(world_dir: Path, history_days: int, datasets: list[str]) -> dict:
    from devsignal import demo
    from ingestion import pipelines, sandbox

    meta = json.loads((Path(world_dir) / "meta.json").read_text())
    end = dt.date.fromisoformat(meta["end_date"])
    results: dict = {}
    saved = dict(os.environ)
    try:
        with sandbox.serve(world_dir, secondary_every=0) as server, tempfile.TemporaryDirectory() as state:
            os.environ.update(demo.sandbox_env(server.url, Path(world_dir)))
            for name, (source, resources, tables, extra) in REST_PATHS.items():
                suffix = uuid.uuid4().hex[:6]
                dataset = f"bench_{name}_{suffix}"
                datasets.append(dataset)
                pipeline = pipelines.make_pipeline(source, pipeline_name=f"bench_{name}_{suffix}",
                                                   dataset_name=dataset, pipelines_dir=state)
                kwargs = {"start_date": (end - dt.timedelta(days=history_days - 1)).isoformat()} if extra else {}
                requests_before = sum(server.stats().get("requests", {}).values())
                started = time.perf_counter()
                summary = pipelines.load(source, pipeline=pipeline, resources=resources, **kwargs)
                seconds = time.perf_counter() - started
                requests = sum(server.stats().get("requests", {}).values()) - requests_before
                rows = sum(summary[t]["loaded"] for t in tables if t in summary)
                copy_seconds, copied = _copy_seconds(dataset, [t for t in tables if summary.get(t, {}).get("total")])
                results[name] = {"rows": rows, "requests": requests, "seconds": round(seconds, 2),
                                 "rows_per_second": round(rows / seconds) if seconds else None,
                                 "copy_seconds": round(copy_seconds, 4),
                                 "copy_rows_per_second": round(copied / copy_seconds) if copy_seconds else None,
                                 "copy_over_ours": _ratio(copy_seconds, seconds)}
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return results


# --- loader formats on the same rows ----------------------------------------------------------------


def synthetic_rows(n: int):
    """`n` download rows, shaped like raw_pypi.file_downloads plus an id and a timestamp."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(7)
    start = dt.date(2025, 1, 1)
    days = np.array([start + dt.timedelta(days=int(d)) for d in rng.integers(0, 365, n)], dtype="datetime64[D]")
    moments = days.astype("datetime64[us]") + rng.integers(0, 86_400_000_000, n).astype("timedelta64[us]")

    def pick(values, size):
        return pa.array(np.array(values, dtype=object)[rng.integers(0, len(values), size)], pa.string())

    return pa.table({
        "id": pa.array([f"row-{i:09d}" for i in range(n)], pa.string()),
        "package": pick(["acme-sdk", "acme-cli", "acme-airflow", "@acme/web"], n),
        "day": pa.array(days, pa.date32()),
        "version": pick([f"1.{m}.{p}" for m in range(8) for p in range(6)], n),
        "installer": pick(["pip", "uv", "poetry", "pdm", "npm", "pnpm", "yarn"], n),
        "country": pick(["US", "DE", "FR", "GB", "IN", "CN", "BR", "JP"], n),
        "downloads": pa.array(rng.integers(1, 5000, n), pa.int64()),
        "at": pa.array(moments, pa.timestamp("us", tz="UTC")),
        "note": pick(["", "ci", "mirror", "cache hit", "first install after upgrade"], n),
    })


COLUMNS_SQL = ("id text not null, package text, day date, version text, installer text, country text, "
               "downloads bigint, at timestamptz, note text")


def _copy_baseline(table, schema: str) -> float:
    """A raw COPY of `table` (CSV in memory) into an empty table: the server's own ceiling."""
    import pyarrow.csv as pacsv

    from devsignal import db

    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
    buffer.seek(0)
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(f'create schema if not exists "{schema}"')
        cur.execute(f'create table "{schema}".copy_baseline ({COLUMNS_SQL})')
        conn.commit()
        started = time.perf_counter()
        cur.copy_expert(f'copy "{schema}".copy_baseline from stdin with (format csv)', buffer)
        conn.commit()
        return time.perf_counter() - started


def bench_formats(n: int, datasets: list[str]) -> dict:
    import dlt

    table = synthetic_rows(n)  # types come from Arrow, or from the Python values (date, int, datetime)
    variants = {
        # name: (what is yielded, loader file format, write disposition)
        "arrow_parquet": ("arrow", "parquet", "append"),
        "arrow_csv": ("arrow", "csv", "append"),
        "dicts_insert_values": ("dicts", "insert_values", "append"),
        "arrow_parquet_merge": ("arrow", "parquet", "merge"),
    }
    results: dict = {}
    with tempfile.TemporaryDirectory() as state:
        baseline_schema = f"bench_copy_{uuid.uuid4().hex[:6]}"
        datasets.append(baseline_schema)
        copy_seconds = _copy_baseline(table, baseline_schema)
        results["copy"] = {"rows": n, "seconds": round(copy_seconds, 3), "rows_per_second": round(n / copy_seconds)}
        for name, (shape, file_format, disposition) in variants.items():
            dataset = f"bench_{name}_{uuid.uuid4().hex[:6]}"
            datasets.append(dataset)
            data = table if shape == "arrow" else table.to_pylist()
            resource = dlt.resource(data, name="rows", write_disposition=disposition,
                                    primary_key="id" if disposition == "merge" else None)
            pipeline = _pipeline(dataset, dataset, state)
            started = time.perf_counter()
            info = pipeline.run(resource, loader_file_format=file_format)
            seconds = time.perf_counter() - started
            info.raise_on_failed_jobs()
            with pipeline.sql_client() as client:
                loaded = client.execute_sql(f'select count(*) from "{dataset}".rows')[0][0]
            assert loaded == n, f"{name}: {loaded} rows loaded of {n}"
            results[name] = {"rows": n, "seconds": round(seconds, 2), "rows_per_second": round(n / seconds),
                             "copy_over_ours": _ratio(copy_seconds, seconds)}
    return results


def bench_loads(args, world_dir: Path) -> dict:
    """REST load paths and loader formats, each as rows/s and as a ratio to COPY of the same rows.
    Flat keys (`<path>_<measure>`), like the other benchmarks, e.g. `npm_downloads_rows_per_second`,
    `arrow_parquet_copy_over_ours`."""
    n = int(getattr(args, "load_rows", None) or DEFAULT_ROWS)
    history = int(getattr(args, "npm_history_days", None) or DEFAULT_NPM_HISTORY_DAYS)
    datasets: list[str] = []
    try:
        measured = {**bench_rest(world_dir, history, datasets), **bench_formats(n, datasets)}
    finally:
        _drop(datasets)
    return {f"{path}_{measure}": value for path, values in measured.items() for measure, value in values.items()}
