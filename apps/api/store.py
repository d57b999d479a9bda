"""The intake's database side: a small connection pool and the one statement that stores a request.

Every accepted request is one transaction: its calls go into `intake.inbox` (ON CONFLICT on
message_id DO NOTHING, so a redelivery is stored once) and its rejects into `intake.quarantine`,
in a single multi-row INSERT each, committed before the API answers 2xx.

The Segment source reads the inbox by id. Ids are handed out when a row is inserted but become
visible when its transaction commits, which can be in another order; so writers hold a shared
advisory lock while they insert and the reader takes it exclusively for an instant
(`inbox_high_water`): every id at or below the maximum it then sees is committed, and later
inserts get higher ids. Without that barrier the reader could pass over a slow transaction's row.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import datetime as dt
from dataclasses import dataclass
from typing import Optional

from .config import CONNECT_TIMEOUT_SECONDS, POOL_SIZE, POOL_TIMEOUT_SECONDS
from .intake import Accepted, Rejected

log = logging.getLogger("apps.api")

# pg_advisory lock key of the inbox's write barrier ("devsinbx")
INBOX_LOCK = 0x64657673_696E6278

_engine = None
_engine_lock = threading.Lock()
_schema_ready = False
_schema_lock = threading.Lock()


class DatabaseUnavailable(RuntimeError):
    """PostgreSQL could not store the request: answer 503 so the client sends it again."""


def engine():
    """The API's own small pool on the devsignal database (built on first use)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            import sqlalchemy

            from devsignal import db

            _engine = sqlalchemy.create_engine(
                db.connection().sqlalchemy_url(), pool_size=POOL_SIZE, max_overflow=0,
                pool_timeout=POOL_TIMEOUT_SECONDS, pool_pre_ping=True,
                connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS, "application_name": "devsignal-intake"})
        return _engine


def dispose() -> None:
    global _engine
    with _engine_lock:
        if _engine is not None:
            _engine.dispose()
            _engine = None


def ensure_schema() -> None:
    """Migrate `intake` and `app` once per process (lazily: the database may be down at startup)."""
    global _schema_ready
    if _schema_ready:
        return
    with _schema_lock:
        if not _schema_ready:
            from apps import migrations

            migrations.upgrade()
            _schema_ready = True


def run(work, *args):
    """Run `work(cursor, *args)` in one transaction on a pooled connection; any database
    failure becomes DatabaseUnavailable (the connection is dropped, not reused)."""
    try:
        ensure_schema()
        connection = engine().raw_connection()
    except Exception as error:  # server down, pool exhausted, migration blocked
        raise DatabaseUnavailable(f"{type(error).__name__}: {error}") from error
    try:
        with connection.cursor() as cursor:
            result = work(cursor, *args)
        connection.commit()
        return result
    except Exception as error:
        import psycopg2

        if isinstance(error, psycopg2.Error):
            connection.invalidate()  # its state is unknown after a failed statement or a cut
            raise DatabaseUnavailable(f"{type(error).__name__}: {error}") from error
        connection.rollback()
        raise
    finally:
        connection.close()


@dataclass
class Stored:
    stored: int  # new rows in the inbox
    duplicates: int  # calls whose messageId was already there
    quarantined: int  # rejects (new or already in the quarantine)


_STORE_SQL = """
select pg_advisory_xact_lock_shared(%(lock)s);
with stored as (
    insert into intake.inbox (message_id, type, source, write_key_id, payload, received_at, sent_at,
                              original_timestamp, "timestamp", request_id)
    select m, t, %(source)s, %(key)s, p::jsonb, r::timestamptz, s::timestamptz, o::timestamptz, c::timestamptz,
           %(request)s
    from unnest(%(ids)s::text[], %(types)s::text[], %(payloads)s::text[], %(received)s::text[],
                %(sent)s::text[], %(original)s::text[], %(corrected)s::text[]) as u(m, t, p, r, s, o, c)
    on conflict (message_id) do nothing
    returning 1
), quarantined as (
    insert into intake.quarantine (received_at, source, write_key_id, request_id, position, message_id,
                                   reason, payload, payload_hash)
    select %(now)s::timestamptz, %(source)s, %(key)s, %(request)s, q, m, w, p, h
    from unnest(%(q_positions)s::int[], %(q_ids)s::text[], %(q_reasons)s::text[], %(q_payloads)s::text[],
                %(q_hashes)s::text[]) as u(q, m, w, p, h)
    on conflict (payload_hash) do nothing
    returning 1
)
select (select count(*) from stored), (select count(*) from quarantined);
"""


def _iso(moment: Optional[dt.datetime]) -> Optional[str]:
    return moment.isoformat() if moment is not None else None


def quarantine_hash(source: str, reject: Rejected) -> str:
    return hashlib.sha256(f"{source}\n{reject.reason}\n{reject.payload}".encode()).hexdigest()


def store_calls(source: str, write_key_id: Optional[str], request_id: str,
                accepted: list[Accepted], rejected: list[Rejected]) -> Stored:
    """One transaction: the accepted calls into the inbox, the rejects into the quarantine."""
    # a fixed order: two requests sharing messageIds then wait on each other instead of deadlocking
    accepted = sorted(accepted, key=lambda call: call.message_id)
    hashes = [quarantine_hash(source, reject) for reject in rejected]
    params = {
        "lock": INBOX_LOCK, "source": source, "key": write_key_id, "request": request_id,
        "now": dt.datetime.now(dt.timezone.utc).isoformat(),
        "ids": [c.message_id for c in accepted], "types": [c.type for c in accepted],
        "payloads": [c.payload for c in accepted], "received": [_iso(c.received_at) for c in accepted],
        "sent": [_iso(c.sent_at) for c in accepted], "original": [_iso(c.original_timestamp) for c in accepted],
        "corrected": [_iso(c.timestamp) for c in accepted],
        "q_positions": [r.position for r in rejected], "q_ids": [r.message_id for r in rejected],
        "q_reasons": [r.reason for r in rejected], "q_payloads": [r.payload for r in rejected],
        "q_hashes": hashes,
    }

    def work(cursor):
        cursor.execute(_STORE_SQL, params)
        return cursor.fetchone()

    stored, _ = run(work)
    return Stored(stored=stored, duplicates=len(accepted) - stored, quarantined=len(rejected))


def inbox_high_water(cursor) -> int:
    """The highest inbox id below which every row is committed (see the module docstring).
    Run it in a transaction of its own: the lock is held until that transaction ends."""
    cursor.execute("select pg_advisory_xact_lock(%s)", (INBOX_LOCK,))
    cursor.execute("select coalesce(max(id), 0) from intake.inbox")
    return int(cursor.fetchone()[0])


def recent_signals(limit: int, after_id: int) -> list[dict]:
    """Custom signals received after `after_id`, oldest first (for `GET /v1/signals`)."""
    def work(cursor):
        cursor.execute("""
            select id, message_id, payload, "timestamp", received_at, write_key_id
            from intake.inbox where source = 'signals' and id > %s order by id limit %s
        """, (after_id, limit))
        return cursor.fetchall()

    rows = run(work)
    return [{"id": id_, "messageId": message_id, "event": payload.get("event"), "userId": payload.get("userId"),
             "anonymousId": payload.get("anonymousId"), "accountId": (payload.get("context") or {}).get("groupId"),
             "properties": payload.get("properties"), "timestamp": timestamp.isoformat(),
             "receivedAt": received_at.isoformat(), "keyId": key_id}
            for id_, message_id, payload, timestamp, received_at, key_id in rows]
