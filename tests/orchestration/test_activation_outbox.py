"""The outbox on the real PostgreSQL: one row per key, claim-then-send, retries, crash recovery."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from devsignal import db
from orchestration.activation import outbox

pytestmark = pytest.mark.usefixtures("clean_outbox")


def rows():
    with db.engine().connect() as connection:
        return [dict(r._mapping) for r in connection.execute(text("select * from app.outbox order by outbox_id"))]


def test_enqueue_is_idempotent_per_key():
    with db.engine().begin() as connection:
        assert outbox.enqueue(connection, "slack", "hot:1", {"type": "hot_account", "account_id": "a"}, "tier_change:1")
        assert not outbox.enqueue(connection, "slack", "hot:1", {"type": "hot_account", "account_id": "other"})
    assert [(r["idempotency_key"], r["payload"]["account_id"], r["status"]) for r in rows()] == [("hot:1", "a", "pending")]


def test_enqueue_rejects_bad_rows():
    with db.engine().begin() as connection:
        with pytest.raises(ValueError, match="unknown outbox kind 'email'"):
            outbox.enqueue(connection, "email", "k", {})
        with pytest.raises(ValueError, match="idempotency key"):
            outbox.enqueue(connection, "slack", "", {})
        with pytest.raises(TypeError, match="payload must be a dict"):
            outbox.enqueue(connection, "slack", "k", ["x"])


def test_drain_sends_once_and_records_result():
    sent = []
    outbox.register("slack", lambda payload, key: sent.append((key, payload["account_id"])) or {"ts": "1.0"})
    with db.engine().begin() as connection:
        outbox.enqueue(connection, "slack", "hot:1", {"type": "hot_account", "account_id": "a"})
        outbox.enqueue(connection, "slack", "hot:2", {"type": "hot_account", "account_id": "b"})
    assert outbox.drain()["done"] == 2
    assert outbox.drain()["claimed"] == 0
    assert sent == [("hot:1", "a"), ("hot:2", "b")]
    assert {(r["status"], r["result"]["ts"], r["attempts"]) for r in rows()} == {("done", "1.0", 1)}


def test_failures_back_off_then_fail():
    calls = []

    def flaky(payload, key):
        calls.append(key)
        raise ConnectionError("slack down")

    outbox.register("slack", flaky)
    with db.engine().begin() as connection:
        outbox.enqueue(connection, "slack", "hot:1", {"type": "hot_account"})
    now = datetime.now(timezone.utc)
    summary = outbox.drain(now=now)
    assert summary["retrying"] == 1 and "ConnectionError: slack down" in summary["errors"][0]["error"]
    assert outbox.drain(now=now)["claimed"] == 0          # not due during its backoff
    for attempt in range(2, outbox.MAX_ATTEMPTS + 1):
        now += outbox.BACKOFF_CAP
        outbox.drain(now=now)
    [row] = rows()
    assert (row["status"], row["attempts"], len(calls)) == ("failed", outbox.MAX_ATTEMPTS, outbox.MAX_ATTEMPTS)
    assert row["last_error"] == "ConnectionError: slack down"


def test_permanent_error_fails_at_once():
    def refuse(payload, key):
        raise outbox.PermanentError("no such channel")

    outbox.register("webhook", refuse)
    with db.engine().begin() as connection:
        outbox.enqueue(connection, "webhook", "w:1", {"event_type": "x", "payload": {}})
    assert outbox.drain()["failed"] == 1
    assert rows()[0]["status"] == "failed"


def test_row_left_sending_by_a_crash_is_retried_after_its_lease():
    with db.engine().begin() as connection:
        outbox.enqueue(connection, "slack", "hot:1", {"type": "hot_account"})
    now = datetime.now(timezone.utc)
    [claimed] = outbox.claim(now=now)                       # the process dies right after claiming
    assert rows()[0]["status"] == "sending"
    sent = []
    outbox.register("slack", lambda payload, key: sent.append(key))
    assert outbox.drain(now=now)["claimed"] == 0            # a live sender may still hold it
    assert outbox.drain(now=now + outbox.SEND_LEASE + timedelta(seconds=1))["done"] == 1
    assert sent == ["hot:1"] and rows()[0]["attempts"] == 2


def test_skipped_rows_keep_their_reason_and_never_send():
    sent = []
    outbox.register("slack", lambda payload, key: sent.append(key))
    with db.engine().begin() as connection:
        assert outbox.skip(connection, "slack", "cold:1", {"type": "message"}, "source npm is stale")
        assert not outbox.enqueue(connection, "slack", "cold:1", {"type": "message"})
    assert outbox.drain()["claimed"] == 0 and sent == []
    assert (rows()[0]["status"], rows()[0]["last_error"]) == ("skipped", "source npm is stale")
