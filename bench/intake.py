"""`intake` benchmark: the intake API's sustained events/second and request latency on `/v1/batch`,
against PostgreSQL taking the same events directly, in the same run.

- **ours**: the world's Segment calls (in time order, up to `INTAKE_EVENTS`), in batches of 100 as
  the Segment libraries send them, POSTed by 4 concurrent senders over loopback to a real uvicorn
  process; every batch committed to the inbox before its 200.
- **insert**: the same batches as the same kind of multi-row INSERT … ON CONFLICT DO NOTHING,
  4 connections at once, no HTTP: the database side of our request path alone.
- **copy**: one COPY of the same rows: the server's ceiling.

The API runs on a database of its own (`devsignal_bench_intake`, recreated each run).
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

INTAKE_EVENTS = 200_000
BATCH_CALLS = 100
SENDERS = 4
DATABASE = "devsignal_bench_intake"
WRITE_KEY = "bench-write-key"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _recreate_database(name: str) -> None:
    from devsignal import db

    admin = db.connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"drop database if exists {name} with (force)")
        cur.execute(f"create database {name}")
    admin.close()


def _batches(world_dir: Path, events: int) -> list[list[dict]]:
    from ingestion.sandbox.segment_replay import iter_segment_calls

    calls = itertools.islice(iter_segment_calls(world_dir), events)
    batches: list[list[dict]] = []
    for call in calls:
        if not batches or len(batches[-1]) >= BATCH_CALLS:
            batches.append([])
        batches[-1].append(call)
    return batches


def _start_api(database_url: str, log_path: Path) -> tuple[subprocess.Popen, str]:
    import requests

    from devsignal import settings

    port = _free_port()
    env = {**os.environ, "DEVSIGNAL_DATABASE_URL": database_url, "DEVSIGNAL_SEGMENT_WRITE_KEYS": WRITE_KEY}
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "uvicorn", "apps.api.main:app", "--host", "127.0.0.1",
                                    "--port", str(port), "--log-level", "warning"],
                                   cwd=settings.REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url
        except requests.ConnectionError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the intake API did not start:\n{log_path.read_text()[-3000:]}")


def _send_all(url: str, bodies: list[bytes]) -> tuple[float, list[float]]:
    """POST every body with SENDERS threads; (wall seconds, per-request seconds)."""
    import requests

    work: queue.Queue = queue.Queue()
    for body in bodies:
        work.put(body)
    latencies: list[float] = []
    failures: list[str] = []
    headers = {"Content-Type": "application/json"}

    def sender() -> None:
        http = requests.Session()
        http.auth = (WRITE_KEY, "")
        while True:
            try:
                body = work.get_nowait()
            except queue.Empty:
                return
            started = time.perf_counter()
            response = http.post(f"{url}/v1/batch", data=body, headers=headers, timeout=60)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                failures.append(f"{response.status_code}: {response.text[:300]}")

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} batches failed, e.g. {failures[0]}")
    return seconds, latencies


def _rows(batches: list[list[dict]]) -> list[list]:
    """The inbox rows our API would write for each batch (same checks, ids and timestamps)."""
    from apps.api import intake

    now = dt.datetime.now(dt.timezone.utc)
    prepared = []
    for batch in batches:
        accepted, _ = intake.prepare_calls(batch, call_type=None, batch_sent_at=now.isoformat(), received_at=now)
        prepared.append(accepted)
    return prepared


_INSERT = """
insert into bench_insert (message_id, type, source, payload, received_at, sent_at, original_timestamp, "timestamp",
                          request_id)
select m, t, 'bench', p::jsonb, r::timestamptz, s::timestamptz, o::timestamptz, c::timestamptz, 'bench'
from unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[]) as u(m, t, p, r, s, o, c)
on conflict (message_id) do nothing
"""


def _insert_baseline(connect, prepared: list[list]) -> float:
    """The same batches as multi-row INSERTs from SENDERS connections at once; wall seconds."""
    work: queue.Queue = queue.Queue()
    for batch in prepared:
        work.put(sorted(batch, key=lambda call: call.message_id))

    def inserter() -> None:
        conn = connect()
        with conn.cursor() as cur:
            while True:
                try:
                    batch = work.get_nowait()
                except queue.Empty:
                    break
                cur.execute(_INSERT, ([c.message_id for c in batch], [c.type for c in batch],
                                      [c.payload for c in batch], [c.received_at.isoformat() for c in batch],
                                      [c.sent_at.isoformat() if c.sent_at else None for c in batch],
                                      [c.original_timestamp.isoformat() for c in batch],
                                      [c.timestamp.isoformat() for c in batch]))
                conn.commit()
        conn.close()

    threads = [threading.Thread(target=inserter) for _ in range(SENDERS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def _copy_baseline(conn, prepared: list[list]) -> tuple[float, int]:
    """Every distinct row in one COPY into an empty twin of the inbox; (seconds, rows). COPY has
    no ON CONFLICT, so the world's redelivered messageIds are dropped first."""
    buffer = io.StringIO()
    escape = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
    unique = {c.message_id: c for batch in prepared for c in batch}
    for c in unique.values():
        sent = c.sent_at.isoformat() if c.sent_at else "\\N"
        buffer.write("\t".join((c.message_id.translate(escape), c.type, "bench", c.payload.translate(escape),
                                c.received_at.isoformat(), sent, c.original_timestamp.isoformat(),
                                c.timestamp.isoformat(), "bench")) + "\n")
    buffer.seek(0)
    with conn.cursor() as cur:
        started = time.perf_counter()
        cur.copy_expert('copy bench_copy (message_id, type, source, payload, received_at, sent_at, '
                        'original_timestamp, "timestamp", request_id) from stdin', buffer)
        conn.commit()
        return time.perf_counter() - started, len(unique)


def bench_intake(args, world_dir: Path) -> dict:
    import psycopg2

    from devsignal import db

    events = getattr(args, "intake_events", None) or INTAKE_EVENTS
    batches = _batches(world_dir, events)
    events = sum(len(batch) for batch in batches)
    sent_at = dt.datetime.now(dt.timezone.utc).isoformat()
    bodies = [json.dumps({"batch": batch, "sentAt": sent_at}, separators=(",", ":")).encode() for batch in batches]

    params = db.connection()
    _recreate_database(DATABASE)
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / "devsignal-bench-intake.log"
    process, url = _start_api(params.url(DATABASE), log_path)  # it migrates the new database
    try:
        seconds, latencies = _send_all(url, bodies)
    finally:
        process.terminate()
        process.wait(timeout=30)

    def connect():
        return psycopg2.connect(host=params.host, port=params.port, user=params.user, password=params.password,
                                dbname=DATABASE)

    conn = connect()
    with conn.cursor() as cur:
        cur.execute("select count(*) from intake.inbox")
        stored = cur.fetchone()[0]
        for twin in ("bench_insert", "bench_copy"):
            cur.execute(f"create table {twin} (like intake.inbox including all)")
    conn.commit()
    prepared = _rows(batches)
    insert_seconds = _insert_baseline(connect, prepared)
    copy_seconds, copied = _copy_baseline(conn, prepared)
    conn.close()
    _drop = db.connect("postgres")
    _drop.autocommit = True
    with _drop.cursor() as cur:
        cur.execute(f"drop database if exists {DATABASE} with (force)")
    _drop.close()

    latencies.sort()
    ours = events / seconds
    return {
        "events": events, "batches": len(batches), "stored": stored, "seconds": round(seconds, 2),
        "events_per_second": round(ours),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
        "insert_events_per_second": round(events / insert_seconds),
        "copy_events_per_second": round(copied / copy_seconds),
        "ours_over_insert": round(ours / (events / insert_seconds), 3),
        "ours_over_copy": round(ours / (copied / copy_seconds), 3),
    }
