"""Segment source, inbox path: intake.inbox rows land in the archive's tables and columns,
incrementally by inbox id, once per messageId whichever path a call came by; a slow writer's row
is never skipped. Runs on a database of its own (`devsignal_inbox_test`)."""

from __future__ import annotations

import gzip
import json
import threading
import time
import uuid

import pytest

from devsignal import db
from ingestion.pipelines import load, make_pipeline

DATABASE = "devsignal_inbox_test"


@pytest.fixture(scope="module")
def inbox_database():
    from apps import migrations

    params = db.connection()
    admin = db.connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"drop database if exists {DATABASE} with (force)")
        cur.execute(f"create database {DATABASE}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEVSIGNAL_DATABASE_URL", params.url(DATABASE))
        patch.delenv("DEVSIGNAL_SEGMENT_ARCHIVE_DIR", raising=False)
        db.connection.cache_clear()
        migrations.upgrade()
        yield
        db.connection.cache_clear()
    with admin.cursor() as cur:
        cur.execute(f"drop database if exists {DATABASE} with (force)")
    admin.close()


def run_sql(query: str, *args):
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(query, args or None)
        return cur.fetchall() if cur.description else None


def put(message_id: str, kind: str, payload: dict, connection=None) -> None:
    """An inbox row as the API writes it (original timestamp 10 s before the corrected one)."""
    query = """
        insert into intake.inbox (message_id, type, source, payload, received_at, sent_at, original_timestamp,
                                  "timestamp", request_id)
        values (%s, %s, 'segment_api', %s, '2026-03-01T10:00:05Z', '2026-03-01T10:00:20Z',
                '2026-03-01T10:00:10Z', '2026-03-01T09:59:55Z', 'test')
    """
    if connection is None:
        run_sql(query, message_id, kind, json.dumps(payload))
    else:
        with connection.cursor() as cur:
            cur.execute(query, (message_id, kind, json.dumps(payload)))


def new_pipeline(tmp_path):
    suffix = uuid.uuid4().hex[:8]
    return make_pipeline("segment", pipeline_name=f"test_inbox_{suffix}", dataset_name=f"raw_segment_{suffix}",
                         pipelines_dir=tmp_path / "dlt")


def rows(pipeline, query: str):
    return run_sql(query.replace("{ds}", f'"{pipeline.dataset_name}"'))


def test_inbox_and_archive_load_into_the_same_tables_once(inbox_database, tmp_path):
    run_sql("truncate intake.inbox restart identity")
    archive = tmp_path / "archive" / "2026" / "03" / "01" / "1.json.gz"
    archive.parent.mkdir(parents=True)
    with gzip.open(archive, "wt") as handle:
        for line in ({"messageId": "m1", "type": "identify", "userId": "u1", "timestamp": "2026-03-01T08:00:00Z",
                      "traits": {"email": "a@acme.io"}},
                     {"messageId": "m2", "type": "track", "userId": "u1", "event": "API Call",
                      "timestamp": "2026-03-01T08:00:00Z", "properties": {"n": 1}}):
            handle.write(json.dumps(line) + "\n")
    put("m2", "track", {"type": "track", "userId": "u1", "event": "API Call", "properties": {"n": 1}})  # both paths
    put("m3", "track", {"type": "track", "userId": "u2", "event": "Signed Up", "properties": {"n": 2}})
    # RudderStack's identify: traits only in context.traits
    put("m4", "identify", {"type": "identify", "userId": "u2", "context": {"traits": {"email": "b@acme.io"}}})

    pipeline = new_pipeline(tmp_path)
    first = load("segment", pipeline=pipeline, archive_dir=str(tmp_path / "archive"))
    assert first["tracks"]["total"] == 2 and first["identifies"]["total"] == 2
    assert rows(pipeline, "select message_id, traits__email from {ds}.identifies order by 1") == [
        ("m1", "a@acme.io"), ("m4", "b@acme.io")]
    # the archive's columns, plus Segment's receipt fields; `timestamp` is the corrected time
    timestamp, original, sent, received = rows(
        pipeline, "select timestamp, original_timestamp, sent_at, received_at from {ds}.tracks where message_id = 'm3'")[0]
    assert [t.isoformat() for t in (timestamp, original, sent, received)] == [
        "2026-03-01T09:59:55+00:00", "2026-03-01T10:00:10+00:00", "2026-03-01T10:00:20+00:00",
        "2026-03-01T10:00:05+00:00"]

    assert all(s["loaded"] == 0 for s in load("segment", pipeline=pipeline).values())  # nothing new
    put("m5", "track", {"type": "track", "userId": "u2", "event": "API Call", "properties": {"n": "lots"}})
    put("m6", "page", {"type": "page", "userId": "u2", "name": "Docs", "properties": {"path": "/docs"}})
    third = load("segment", pipeline=pipeline)  # the archive setting is unset now: the inbox alone
    assert third["pages"] == {"loaded": 1, "total": 1} and third["tracks"]["loaded"] == 0
    # a value that does not fit its frozen column type: quarantined with the inbox id as its line
    assert rows(pipeline, "select file, line, reason from {ds}._quarantine") == [
        ("intake.inbox", 4, "column properties__n (double): not a number: 'lots'")]
    state = pipeline.state["sources"]["segment"]["resources"]
    assert state["inbox"]["last_id"] == 5 and list(state["archive"]["files"]) == ["2026/03/01/1.json.gz"]


def test_a_slow_writer_is_not_skipped(inbox_database):
    """A row whose transaction commits after a later id's must still be read: the reader waits
    at the writers' barrier instead of moving its cursor past it."""
    from dlt.common.schema import Schema

    from apps.api.store import INBOX_LOCK
    from ingestion.sources.segment.helpers import ArchiveReader
    from ingestion.sources.segment.inbox import read_inbox

    run_sql("truncate intake.inbox restart identity")
    slow = db.connect()
    with slow.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock_shared(%s)", (INBOX_LOCK,))
    put("slow", "track", {"type": "track", "userId": "u", "event": "E"}, connection=slow)  # id 1, not committed
    put("fast", "track", {"type": "track", "userId": "u", "event": "E"})  # id 2, committed

    state: dict = {}
    archive_reader = ArchiveReader(Schema("segment"), 100)
    reader_ready: list = []

    def read_all():
        list(read_inbox(archive_reader, state))
        reader_ready.extend(archive_reader.finish())

    thread = threading.Thread(target=read_all)
    started = time.monotonic()
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive(), "the reader should wait for the open insert"
    slow.commit()
    slow.close()
    thread.join(timeout=30)
    assert time.monotonic() - started >= 0.5
    ids = sorted(id_ for _, batch in reader_ready for id_ in batch.column("message_id").to_pylist())
    assert ids == ["fast", "slow"] and state["last_id"] == 2
