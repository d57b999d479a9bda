"""Segment: calls from two places into one table per call type.

- the **inbox** (`intake.inbox`, filled by the intake API: Segment/RudderStack libraries, Segment's
  webhook, custom signals), read incrementally by inbox id; always read.
- the **archive** (gzipped JSON lines under YYYY/MM/DD/, for backfills), read when
  DEVSIGNAL_SEGMENT_ARCHIVE_DIR (or `archive_dir`) is set.

Tables:
- `identifies`, `tracks`, `groups`, `pages`, `screens`, `aliases`: primary key `message_id`,
  merge, so a redelivered messageId never duplicates (whichever path it came by); a table
  appears with its first call. Inbox rows carry Segment's receipt fields too (`original_timestamp`,
  `sent_at`, `received_at`; `timestamp` is the skew-corrected time).
- `quarantine` (table `_quarantine`): primary key (file, line), merge: invalid JSON, no
  messageId/type, an unknown type, a value that does not fit its column's frozen type
  (an inbox row is quarantined as file `intake.inbox`, line = its inbox id).

One hidden parent resource (`calls`) reads each new or changed archive file once (names + mtime +
size remembered in the `archive` resource state), then the inbox after the `last_id` remembered in
the `inbox` state, and feeds every table; rows go out as typed Arrow tables.
"""

from __future__ import annotations

import logging
from typing import Iterator, Optional

import dlt
from dlt.sources import DltResource

from devsignal import settings as ds_settings

from .._common import (
    QUARANTINE_TABLE,
    SCHEMA_CONTRACT,
    changed_files,
    empty_quarantine,
    quarantine_columns,
    require_dir,
)
from . import settings as seg_settings
from .helpers import ArchiveReader, archive_files, call_columns, paused_gc
from .inbox import read_inbox

log = logging.getLogger("ingestion.sources.segment")

QUARANTINE = QUARANTINE_TABLE


@dlt.source(name="segment", section="segment", schema_contract=SCHEMA_CONTRACT)
def segment_source(
    archive_dir: Optional[str] = None, batch_rows: int = seg_settings.BATCH_ROWS, inbox: bool = True
) -> list[DltResource]:
    """Every Segment call in the intake inbox (and in an archive folder, when one is set), one
    table per call type.

    Args:
        archive_dir: the archive root holding YYYY/MM/DD/<n>.json.gz; default
            DEVSIGNAL_SEGMENT_ARCHIVE_DIR. Unset = no archive, the inbox alone.
        batch_rows: rows per Arrow batch handed to dlt.
        inbox: read `intake.inbox` (the intake API's events). On by default.

    Returns:
        One resource per call type (`identifies`, `tracks`, `groups`, `pages`, `screens`,
        `aliases`) and `quarantine` (table `_quarantine`), all fed by the hidden `calls`.
    """
    root_setting = archive_dir or ds_settings.get(seg_settings.ARCHIVE_DIR_SETTING)

    def archive_calls(reader: ArchiveReader) -> Iterator[tuple[str, object]]:
        root = require_dir(root_setting, seg_settings.ARCHIVE_DIR_SETTING)
        done: dict = dlt.current.resource_state("archive").setdefault("files", {})
        quarantined = 0
        for path, key, signature in changed_files(root, archive_files(root), done):
            with paused_gc():
                ready, lines = reader.read_file(path, key)
            yield from ready
            done[key] = signature
            log.info("segment: read %s (%d lines)", key, lines)
            if len(reader.rejected) >= batch_rows:
                quarantined += len(reader.rejected)
                yield QUARANTINE, reader.take_rejected()
        quarantined += len(reader.rejected)
        if quarantined:
            log.warning("segment: %d bad archive lines went to %s", quarantined, QUARANTINE)

    @dlt.resource(name="calls", selected=False)
    def calls() -> Iterator[tuple[str, object]]:
        """(table, Arrow table | quarantine rows): the archive first (a backfill), then the inbox."""
        reader = ArchiveReader(dlt.current.source_schema(), batch_rows)
        if root_setting:
            yield from archive_calls(reader)
        if inbox:
            yield from read_inbox(reader, dlt.current.resource_state("inbox"))
        with paused_gc():
            ready = reader.finish()
        yield from ready
        yield QUARANTINE, reader.take_rejected() or empty_quarantine()

    source_files = calls()

    def call_table(name: str) -> DltResource:
        def pick(item: tuple[str, object]) -> Iterator[object]:
            if item[0] == name:
                yield item[1]
        # parquet: dlt copies it into PostgreSQL through ADBC, ~5x faster than csv (DESIGN.md §5)
        return dlt.transformer(pick, name=name, data_from=source_files, primary_key="message_id",
                               write_disposition="merge", columns=call_columns(), file_format="parquet")

    def quarantine_rows(item: tuple[str, object]) -> Iterator[object]:
        if item[0] == QUARANTINE:
            yield item[1]

    quarantine = dlt.transformer(quarantine_rows, name="quarantine", table_name=QUARANTINE,
                                 data_from=source_files, primary_key=("file", "line"),
                                 write_disposition="merge", columns=quarantine_columns())
    tables = [call_table(t) for t in dict.fromkeys(seg_settings.TABLES.values())]
    return [*tables, quarantine]


source = segment_source
