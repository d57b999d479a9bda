"""`python -m bench --only crm`: `devsignal import-crm` of a generated 1M-row HubSpot contacts export
(RELIABILITY test 9's hostile file: BOM, Latin-1 lines in UTF-8, quoted newlines, mixed-case duplicate
emails, `=HYPERLINK(...)` cells, bad rows, a cut last line), in a subprocess of its own so its peak
RSS is the loader's, against a raw PostgreSQL COPY of the same rows measured in the same run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROWS = int(os.environ.get("DEVSIGNAL_BENCH_CRM_ROWS", "1000000"))


def _copy_seconds(dataset: str, table: str) -> tuple[float, int]:
    """COPY the rows the loader wrote out to a file and back into an empty twin table: the
    server's own ceiling for the same rows."""
    from devsignal import db

    with db.connect() as conn, conn.cursor() as cur, tempfile.TemporaryFile("w+b") as buffer:
        cur.copy_expert(f'copy (select * from "{dataset}"."{table}") to stdout', buffer)
        rows = cur.rowcount
        buffer.seek(0)
        cur.execute(f'create temp table twin (like "{dataset}"."{table}")')
        started = time.perf_counter()
        cur.copy_expert("copy twin from stdin", buffer)
        conn.commit()
        return time.perf_counter() - started, rows


def _drop(dataset: str) -> None:
    from devsignal import db

    with db.connect() as conn, conn.cursor() as cur:
        for schema in (dataset, f"{dataset}_staging"):
            cur.execute(f'drop schema if exists "{schema}" cascade')
        conn.commit()


def bench_crm(args, world_dir: Path) -> dict:
    from ingestion.sources.crm import testing

    with tempfile.TemporaryDirectory(prefix="devsignal-bench-crm-") as tmp:
        path = Path(tmp) / "hubspot-contacts.csv"
        started = time.perf_counter()
        expected = testing.write_contacts(path, ROWS)
        generate_seconds = time.perf_counter() - started
        file_mb = path.stat().st_size / 1e6
        dataset = f"bench_raw_crm_{uuid.uuid4().hex[:8]}"
        try:
            done = subprocess.run([sys.executable, "-m", testing.__name__, str(path), dataset, str(Path(tmp) / "dlt")],
                                  capture_output=True, text=True, env=os.environ)
            if done.returncode != 0:
                raise RuntimeError(done.stderr[-3000:])
            result = json.loads(done.stdout.strip().splitlines()[-1])
            copy_seconds, copied = _copy_seconds(dataset, result["table"])
        finally:
            _drop(dataset)
    ours = result["seconds"]
    return {
        "rows": ROWS,
        "file_mb": round(file_mb, 1),
        "generate_seconds": round(generate_seconds, 2),
        "rows_loaded": result["new"] + result["updated"],
        "rows_quarantined": result["quarantined"],
        "latin1_lines": result["latin1_lines"],
        "formula_rows": result["formula_rows"],
        "seconds": round(ours, 2),
        "rows_per_second": round(result["rows_read"] / ours) if ours else None,
        "peak_rss_mb": round(result["peak_rss_mb"]),
        "rss_growth_mb": round(result["peak_rss_mb"] - result["base_rss_mb"]),
        "copy_rows": copied,
        "copy_seconds": round(copy_seconds, 2),
        "copy_over_ours": round(copy_seconds / ours, 3) if ours else None,
        "correct": (result["new"] + result["updated"] == expected.loaded
                    and result["quarantined"] == len(expected.quarantine)),
    }

