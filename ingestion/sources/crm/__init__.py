"""CRM: HubSpot and Salesforce CSV exports (contacts, companies, deals) and generic contact or
company CSVs, from a folder or one file at a time, one raw table per system and entity.

| resource / table | primary key | disposition |
|---|---|---|
| `hubspot_contacts`, `hubspot_companies`, `hubspot_deals` | record_id | merge |
| `salesforce_contacts` / `_accounts` / `_opportunities` | contact_id / account_id / opportunity_id | merge |
| `generic_contacts` / `generic_companies` | contact_key / company_key | merge |
| `quarantine` -> table `_quarantine` | file, line | merge |

Every file is recognised from its header row first (detection.py: format, entity, confidence,
evidence) and checked against its table's frozen columns (schema drift stops the run with the
columns named); only then is the first row read, so an unknown or drifted file loads nothing of
any file in the run. Rows stream as Arrow batches (helpers.ExportReader): vendor tables keep every
export column as text (labels snake_cased), generic tables the §4.6 canonical fields plus
`custom_fields` (JSON text of the other columns); every row has `_source_file`, `_source_line`,
`_encoding` and `_has_formula`. Bad rows go to `_quarantine` with file, line and reason. Folder
mode skips files already loaded unchanged (name, mtime, size in dlt state). See README.md.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from pathlib import Path
from typing import Iterator, Optional, Sequence

import dlt
from dlt.sources import DltResource

from devsignal import settings as ds_settings

from .._common import QUARANTINE_TABLE, changed_files, empty_quarantine, quarantine_columns, require_dir
from . import settings as crm_settings
from .detection import Detection, detect
from .helpers import (
    ExportReader,
    FileShape,
    SchemaDrift,
    UnrecognisedExport,
    column_name,
    sniff,
    table_columns,
    table_key,
    vendor_columns,
)

log = logging.getLogger("ingestion.sources.crm")

QUARANTINE = QUARANTINE_TABLE

# CRM raw is frozen (RELIABILITY test 7): a new column stops the load unless accepted on purpose.
FROZEN = {"tables": "evolve", "columns": "freeze", "data_type": "freeze"}
EVOLVE = {"tables": "evolve", "columns": "evolve", "data_type": "freeze"}
ROTATE_KEY = "sources.crm.data_writer.file_max_items"


def _existing_columns(schema, table: str) -> set[str]:
    if table not in schema.tables:
        return set()
    return {name for name, column in schema.tables[table].get("columns", {}).items()
            if column.get("data_type") and not name.startswith("_dlt")}


def check_contract(plan: list[tuple[Path, str, FileShape, Detection]], schema,
                   accept_new_columns: bool) -> dict[str, dict]:
    """Each table's contract for this run ({table: schema_contract}); raises SchemaDrift naming
    every file whose columns are not its table's (new columns; missing ones shown as a likely
    rename), unless `accept_new_columns`."""
    expected: dict[str, set[str]] = {}
    contracts: dict[str, dict] = {}
    problems = []
    system = set(crm_settings.SYSTEM_COLUMNS)
    for path, key, shape, detection in plan:
        table = detection.table
        existing = _existing_columns(schema, table)
        if detection.format == "generic":  # fixed canonical columns: nothing can drift
            contracts[table] = EVOLVE if not existing or system - existing else FROZEN
            continue
        columns = vendor_columns(list(shape.headers))
        frozen = expected.setdefault(table, (existing - system) or set(columns))
        new = [(h, c) for h, c in zip(shape.headers, columns) if c not in frozen]
        missing = sorted(frozen - set(columns))
        evolve = accept_new_columns or bool(existing and system - existing)
        if new and not accept_new_columns:
            lines = [f"{key}: its columns do not match raw_crm.{table} (CRM raw columns are frozen)",
                     "  new:     " + ", ".join(f"{h!r} -> {c}" for h, c in new)]
            if missing:
                lines.append("  missing: " + ", ".join(missing)
                             + ("  (renamed?)" if new else ""))
            problems.append("\n".join(lines))
        elif missing:
            log.warning("crm: %s has no %s column(s); they load as NULL", key, ", ".join(missing))
        if new and accept_new_columns:
            frozen.update(c for _, c in new)
        contracts[table] = EVOLVE if (evolve or not existing) else FROZEN
    if problems:
        raise SchemaDrift(
            "\n".join(problems) + "\nNothing was loaded. If the export changed on purpose, load it again with "
            "SOURCES__CRM__ACCEPT_NEW_COLUMNS=true in the environment (or crm_source(accept_new_columns=True), "
            "import_file(..., accept_new_columns=True)); then update dbt_project/models/staging/crm if a "
            "renamed column is one staging reads.")
    return contracts


def recognise(path: Path, key: str, format_: Optional[str]) -> tuple[FileShape, Detection]:
    """The file's shape and what it is; raises UnrecognisedExport when it cannot be loaded."""
    shape = sniff(path)
    detection = detect(list(shape.headers), format_)
    if not detection.known:
        raise UnrecognisedExport(
            f"{key}: not a HubSpot, Salesforce or generic CSV export this loader knows"
            f"{' as ' + format_ if format_ else ''}. Evidence: " + "; ".join(detection.evidence))
    if not detection.forced and detection.confidence < crm_settings.MIN_CONFIDENCE:
        raise UnrecognisedExport(
            f"{key}: looks like {detection.describe()}, below the {crm_settings.MIN_CONFIDENCE} needed to "
            f"load it unasked; pass the format (devsignal import-crm FILE --format ...). Evidence: "
            + "; ".join(detection.evidence))
    return shape, detection


def _load_one_file_at_a_time() -> None:
    """Tell the running pipeline's load step to load each CRM table's files one after another
    (settings.LOAD_PARALLELISM) unless its destination was configured otherwise: with dlt's
    default of 20 parallel jobs a 1M-row export costs ~500 MB at load time, sequentially ~30 MB."""
    try:
        destination = dlt.current.pipeline().destination
    except Exception:  # no active pipeline (the source iterated on its own): nothing to tell
        return
    caps_params = getattr(destination, "caps_params", None)
    if isinstance(caps_params, dict):
        caps_params.setdefault("loader_parallelism_strategy", crm_settings.LOAD_PARALLELISM)


def _rotated_files(rows: int):
    """One parquet file per `rows` rows (dlt's `data_writer.file_max_items`, set for the crm source
    only and only while it extracts, unless configured): the ADBC load reads a whole file into
    memory, so a 1M-row export must not become one file."""
    if dlt.config.get(ROTATE_KEY) is not None:
        return nullcontext()
    return dlt.config.values({ROTATE_KEY: rows})


def _read(plan, todo, contracts: dict, done: dict, state: dict, load_id: str, batch_rows: int) -> Iterator[tuple[str, object]]:
    last_run, quarantined = [], 0
    for number, ((path, key, shape, detection), (_, _, signature)) in enumerate(zip(plan, todo)):
        table = detection.table
        columns = table_columns(table, list(shape.headers))
        reader = ExportReader(path, key, shape, detection, batch_rows, load_id, f"{load_id}.{number}")
        for kind, payload in reader.batches():
            if kind == "table":
                # parquet goes into PostgreSQL through ADBC, which cannot load a file of no rows:
                # an empty batch (a header-only export still creates its table) goes as INSERTs
                hints = dlt.mark.make_hints(
                    primary_key=table_key(table), write_disposition="merge", columns=columns,
                    schema_contract=contracts[table],
                    file_format="parquet" if payload.num_rows else "insert_values")
                yield table, dlt.mark.with_hints(payload, hints)
            else:
                quarantined += len(payload)
                yield QUARANTINE, payload
        if signature is not None:
            done[key] = signature
        last_run.append(reader.stats.as_dict())
        log.info("crm: %s -> %s (%s, %d rows, %d quarantined)", key, table, detection.describe(),
                 reader.stats.loaded, reader.stats.quarantined)
    state["last_run"] = last_run
    if not quarantined:
        yield QUARANTINE, empty_quarantine()
    else:
        log.warning("crm: %d rows went to %s", quarantined, QUARANTINE)


@dlt.source(name="crm", section="crm", schema_contract=FROZEN)
def crm_source(
    crm_dir: Optional[str] = None,
    files: Optional[Sequence[str]] = None,
    format_: Optional[str] = None,
    accept_new_columns: bool = False,
    batch_rows: int = crm_settings.BATCH_ROWS,
) -> list[DltResource]:
    """CRM CSV exports from a folder (every changed `*.csv`) or the given files.

    Args:
        crm_dir: the folder of exports (DEVSIGNAL_CRM_DIR); checked when the source runs.
        files: load exactly these files instead (import-crm); always read, keyed by file name.
        format_: "hubspot", "salesforce" or "generic" to skip format detection (files only).
        accept_new_columns: let a vendor file add columns to its table (schema drift accepted).
        batch_rows: rows per Arrow batch handed to dlt.

    Returns:
        One resource per table of settings.TABLES and `quarantine` (table `_quarantine`), all fed
        by the hidden `exports`.

    Raises:
        UnrecognisedExport, SchemaDrift: (when run) before any row of any file is read.
    """
    folder_setting = crm_dir or ds_settings.get(crm_settings.CRM_DIR_SETTING)

    @dlt.resource(name="exports", selected=False)
    def export_files() -> Iterator[tuple[str, object]]:
        """(table, (Arrow table, hints)) batches and (QUARANTINE, rows), for the transformers."""
        state = dlt.current.resource_state("exports")
        if files:
            todo = [(Path(f), Path(f).name, None) for f in files]
            done: dict = {}
        else:
            folder = require_dir(folder_setting, crm_settings.CRM_DIR_SETTING)
            paths = sorted(folder.glob(crm_settings.FILE_GLOB))
            if not paths:
                log.warning("crm: no %s files in %s", crm_settings.FILE_GLOB, folder)
            done = state.setdefault("files", {})
            todo = list(changed_files(folder, paths, done))
        # recognise and check every file before the first row is read
        plan, unknown = [], []
        for path, key, _ in todo:
            try:
                plan.append((path, key, *recognise(path, key, format_)))
            except UnrecognisedExport as error:
                unknown.append(str(error))
        if unknown:
            raise UnrecognisedExport("\n".join(unknown))
        contracts = check_contract(plan, dlt.current.source_schema(), accept_new_columns)

        _load_one_file_at_a_time()
        load_id = dlt.current.load_package_state()["load_id"]
        with _rotated_files(crm_settings.FILE_ROWS):
            yield from _read(plan, todo, contracts, done, state, load_id, batch_rows)

    source_files = export_files()

    def crm_table(name: str) -> DltResource:
        def pick(item: tuple[str, object]) -> Iterator[object]:
            if item[0] == name:
                yield item[1]
        return dlt.transformer(pick, name=name, data_from=source_files, primary_key=table_key(name),
                               write_disposition="merge", file_format="parquet")

    def quarantine_rows(item: tuple[str, object]) -> Iterator[object]:
        if item[0] == QUARANTINE:
            yield item[1]

    tables = [crm_table(t) for t in crm_settings.TABLES]
    quarantine = dlt.transformer(quarantine_rows, name="quarantine", table_name=QUARANTINE,
                                 data_from=source_files, primary_key=("file", "line"),
                                 write_disposition="merge", columns=quarantine_columns())
    return [*tables, quarantine]


source = crm_source

__all__ = ["crm_source", "source", "detect", "Detection", "UnrecognisedExport", "SchemaDrift", "column_name"]
