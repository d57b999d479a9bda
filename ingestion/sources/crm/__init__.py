"""CRM: HubSpot and Salesforce CSV exports from a folder, one table per system and entity.

| resource / table | primary key | disposition |
|---|---|---|
| `hubspot_contacts`, `hubspot_companies`, `hubspot_deals` | record_id | merge |
| `salesforce_contacts` / `_accounts` / `_opportunities` | contact_id / account_id / opportunity_id | merge |
| `quarantine` -> table `_quarantine` | file, line | merge |

The system and entity come from each file's headers (helpers.detect); an unknown file stops the
run before any row is read, naming the file and the headers it has. Every column is kept as
text (the labels snake_cased), plus `_source_file` and `_source_line`. A row without its record
id (or with more cells than headers) goes to `_quarantine` with file, line and reason. Files
already loaded unchanged (name, mtime, size in dlt state) are skipped. A header-only export
still creates its table, and `_quarantine` always exists (both empty then).
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
from . import settings as crm_settings
from .helpers import UnrecognisedExport, column_hints, column_name, empty_table, read_rows, scan

log = logging.getLogger("ingestion.sources.crm")

QUARANTINE = QUARANTINE_TABLE


@dlt.source(name="crm", section="crm", schema_contract=SCHEMA_CONTRACT)
def crm_source(crm_dir: Optional[str] = None, batch_rows: int = crm_settings.BATCH_ROWS) -> list[DltResource]:
    """HubSpot and Salesforce CSV exports in a folder.

    Args:
        crm_dir: the folder of `*.csv` exports (DEVSIGNAL_CRM_DIR); checked when the source runs.
        batch_rows: rows per batch handed to dlt.

    Returns:
        One resource per table of settings.TABLES and `quarantine` (table `_quarantine`), all fed
        by the hidden `exports`.

    Raises:
        UnrecognisedExport: (when run) a file that is not a known export, before any row loads.
    """
    folder_setting = crm_dir or ds_settings.get(crm_settings.CRM_DIR_SETTING)

    @dlt.resource(name="exports", selected=False)
    def export_files() -> Iterator[tuple[str, object]]:
        """(table, (rows, column hints)) batches, and (QUARANTINE, rows), for the transformers."""
        folder = require_dir(folder_setting, crm_settings.CRM_DIR_SETTING)
        exports = scan(folder)  # every file recognised before the first row is read
        if not exports:
            log.warning("crm: no %s files in %s", crm_settings.FILE_GLOB, folder)
        done: dict = dlt.current.resource_state("exports").setdefault("files", {})
        kinds = {path: (kind, headers) for path, kind, headers in exports}
        quarantined = 0
        for path, key, signature in changed_files(folder, [p for p, _, _ in exports], done):
            kind, headers = kinds[path]
            columns = column_hints(kind, headers)
            rows, rejected, count = [], [], 0
            for row, bad in read_rows(path, key, kind):
                if bad is not None:
                    rejected.append(bad)
                    continue
                rows.append(row)
                count += 1
                if len(rows) >= batch_rows:
                    yield kind.table, (rows, columns)
                    rows = []
            if rows or not count:  # a header-only export still creates its (empty) table
                yield kind.table, (rows or empty_table(columns), columns)
            if rejected:
                quarantined += len(rejected)
                yield QUARANTINE, rejected
            done[key] = signature
            log.info("crm: %s -> %s (%d rows, %d quarantined)", key, kind.table, count, len(rejected))
        if not quarantined:
            yield QUARANTINE, empty_quarantine()
        else:
            log.warning("crm: %d rows went to %s", quarantined, QUARANTINE)

    source_files = export_files()

    def crm_table(name: str, id_column: str) -> DltResource:
        def pick(item: tuple[str, object]) -> Iterator[object]:
            if item[0] == name:
                rows, columns = item[1]
                yield dlt.mark.with_hints(rows, dlt.mark.make_hints(
                    primary_key=id_column, write_disposition="merge", columns=columns))
        return dlt.transformer(pick, name=name, data_from=source_files, primary_key=id_column,
                               write_disposition="merge")

    def quarantine_rows(item: tuple[str, object]) -> Iterator[object]:
        if item[0] == QUARANTINE:
            yield item[1]

    tables = [crm_table(t, column_name(crm_settings.HUBSPOT_ID)) for t, _ in crm_settings.HUBSPOT_TABLES]
    tables += [crm_table(t, column_name(h)) for t, h in crm_settings.SALESFORCE_TABLES]
    quarantine = dlt.transformer(quarantine_rows, name="quarantine", table_name=QUARANTINE,
                                 data_from=source_files, primary_key=("file", "line"),
                                 write_disposition="merge", columns=quarantine_columns())
    return [*tables, quarantine]


source = crm_source

__all__ = ["crm_source", "source", "UnrecognisedExport"]
