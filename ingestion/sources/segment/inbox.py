"""Reading the intake API's inbox (`intake.inbox`): the calls received since the last run, in id
order, shaped like Segment archive lines so they land in the same tables and columns.

The cursor (`last_id` in the resource state) moves with the load package: dlt commits it to the
destination only when the package has loaded, so a run that dies re-reads from the old cursor,
and the merge on message_id makes the re-read harmless. Ids are read only up to the inbox's
high-water mark (see `apps.api.store.inbox_high_water`), below which no transaction is still
writing: a slow insert can never be skipped.
"""

from __future__ import annotations

import logging
from typing import Iterator

from .helpers import ArchiveReader, _loads, paused_gc
from . import settings as seg_settings

log = logging.getLogger("ingestion.sources.segment")

INBOX_ORIGIN = "intake.inbox"  # `file` of a quarantined inbox row; `line` is its inbox id

_ISO = """'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'"""
_READ = f"""
    select id, message_id, type, payload::text,
           to_char("timestamp" at time zone 'UTC', {_ISO}),
           to_char(original_timestamp at time zone 'UTC', {_ISO}),
           to_char(sent_at at time zone 'UTC', {_ISO}),
           to_char(received_at at time zone 'UTC', {_ISO})
    from intake.inbox
    where id > %s and id <= %s
    order by id
    limit %s
"""


def inbox_call(message_id: str, kind: str, payload: str, timestamp: str, original: str, sent_at,
               received_at: str) -> dict:
    """The stored call with the fields Segment adds on receipt: the corrected `timestamp`, the
    sender's `originalTimestamp`, `sentAt`, `receivedAt` (as in Segment's own archive)."""
    call = _loads(payload)
    context = call.get("context")
    if kind == "identify" and "traits" not in call and isinstance(context, dict) and isinstance(context.get("traits"), dict):
        # RudderStack libraries send identify traits only in context.traits; Segment's shape
        # (and dbt's staging) has them at the top
        call["traits"] = context["traits"]
    call["messageId"] = message_id
    call["timestamp"] = timestamp
    call["originalTimestamp"] = original
    if sent_at is not None:
        call["sentAt"] = sent_at
    call["receivedAt"] = received_at
    return call


def read_inbox(reader: ArchiveReader, state: dict, chunk_rows: int = seg_settings.INBOX_CHUNK_ROWS
               ) -> Iterator[tuple[str, object]]:
    """(table, Arrow batch) for every inbox row after `state["last_id"]`; advances the cursor."""
    from apps import migrations
    from apps.api.store import inbox_high_water
    from devsignal import db

    migrations.upgrade()  # the inbox exists even before the API has run once
    last_id = int(state.get("last_id", 0))
    conn = db.connect()
    try:
        with conn.cursor() as cur:
            high_water = inbox_high_water(cur)
        conn.commit()  # releases the barrier at once
        read = 0
        while last_id < high_water:
            with conn.cursor() as cur:
                cur.execute(_READ, (last_id, high_water, chunk_rows))
                rows = cur.fetchall()
            conn.commit()  # no snapshot held open between chunks
            if not rows:
                break
            ready: list = []
            with paused_gc():
                for id_, message_id, kind, payload, timestamp, original, sent_at, received_at in rows:
                    table = seg_settings.TABLES.get(kind)
                    if table is None:  # the API only stores known types; a hand-made row is skipped loudly
                        log.warning("segment: inbox row %d has unknown type %r; skipped", id_, kind)
                        continue
                    call = inbox_call(message_id, kind, payload, timestamp, original, sent_at, received_at)
                    reader.add(table, call, (INBOX_ORIGIN, id_), ready)
            yield from ready
            last_id = rows[-1][0]
            state["last_id"] = last_id
            read += len(rows)
            log.info("segment: inbox read %d rows (up to id %d of %d)", read, last_id, high_water)
    finally:
        conn.close()
