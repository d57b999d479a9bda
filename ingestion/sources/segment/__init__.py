"""Segment: the archive of Segment calls (gzipped JSON lines under YYYY/MM/DD/) into one table
per call type.

- `identifies`, `tracks`, `groups`, `pages`, `screens`, `aliases`: primary key `message_id`,
  merge, so a redelivered messageId never duplicates; a table appears with its first call.
- `quarantine` (table `_quarantine`): primary key (file, line), merge: invalid JSON, no
  messageId/type, an unknown type, a value that does not fit its column's frozen type.

One hidden parent resource (`archive`) reads each new or changed file once (names + mtime + size
remembered in dlt state) and feeds every table; rows go out as typed Arrow tables.
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

log = logging.getLogger("ingestion.sources.segment")

QUARANTINE = QUARANTINE_TABLE


@dlt.source(name="segment", section="segment", schema_contract=SCHEMA_CONTRACT)
def segment_source(
    archive_dir: Optional[str] = None, batch_rows: int = seg_settings.BATCH_ROWS
) -> list[DltResource]:
    """Every Segment call in an archive folder, one table per call type.

    Args:
        archive_dir: the archive root holding YYYY/MM/DD/<n>.json.gz (DEVSIGNAL_SEGMENT_ARCHIVE_DIR);
            checked when the source runs.
        batch_rows: rows per Arrow batch handed to dlt.

    Returns:
        One resource per call type (`identifies`, `tracks`, `groups`, `pages`, `screens`,
        `aliases`) and `quarantine` (table `_quarantine`), all fed by the hidden `archive`.
    """
    root_setting = archive_dir or ds_settings.get(seg_settings.ARCHIVE_DIR_SETTING)

    @dlt.resource(name="archive", selected=False)
    def archive() -> Iterator[tuple[str, object]]:
        """(table, Arrow table | quarantine rows), file by file, for the transformers below."""
        root = require_dir(root_setting, seg_settings.ARCHIVE_DIR_SETTING)
        state = dlt.current.resource_state("archive")
        done: dict = state.setdefault("files", {})
        reader = ArchiveReader(dlt.current.source_schema(), batch_rows)
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
        with paused_gc():
            ready = reader.finish()
        yield from ready
        quarantined += len(reader.rejected)
        yield QUARANTINE, reader.take_rejected() or empty_quarantine()
        if quarantined:
            log.warning("segment: %d bad lines went to %s", quarantined, QUARANTINE)

    source_files = archive()

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
