"""CRM CSV exports: recognise the system and entity from the headers, stream the rows."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import pyarrow as pa

from .._common import SourceInputError
from . import settings as crm_settings

csv.field_size_limit(16 * 1024 * 1024)


class UnrecognisedExport(SourceInputError):
    """A file in the CRM folder that is not a HubSpot or Salesforce export we know."""


def column_name(header: str) -> str:
    """Export label -> column: `Associated Company IDs` -> `associated_company_ids`,
    `Country/Region` -> `country_region`. (Lower-cased before dlt sees it, so dlt's camelCase
    splitting cannot turn `IDs` into `i_ds`.)"""
    name = re.sub(r"[^0-9a-z]+", "_", header.strip().lower()).strip("_")
    if not name:
        return "_blank"
    return "_" + name if name[0].isdigit() else name


def _key(header: str) -> str:
    return re.sub(r"\s+", " ", header.strip().lower())


@dataclass(frozen=True)
class ExportKind:
    table: str
    id_header: str  # as written in the file
    id_column: str


def read_headers(path: Path) -> list[str]:
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle), [])


def detect(path: Path, headers: list[str]) -> ExportKind:
    by_key = {_key(h): h for h in headers}
    if _key(crm_settings.HUBSPOT_ID) in by_key:
        for table, markers in crm_settings.HUBSPOT_TABLES:
            if any(_key(m) in by_key for m in markers):
                header = by_key[_key(crm_settings.HUBSPOT_ID)]
                return ExportKind(table, header, column_name(header))
    for table, id_header in crm_settings.SALESFORCE_TABLES:
        if _key(id_header) in by_key:
            header = by_key[_key(id_header)]
            return ExportKind(table, header, column_name(header))
    shown = ", ".join(repr(h) for h in headers[:40]) or "(no header row)"
    raise UnrecognisedExport(
        f"{path}: not a HubSpot or Salesforce export this loader knows. It expects HubSpot's "
        f"'Record ID' with 'Deal Stage'/'Company Domain Name'/'Email', or Salesforce's "
        f"'Opportunity ID'/'Contact ID'/'Account ID'. Headers seen: {shown}"
    )


def _raw(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()[: crm_settings.MAX_RAW_CHARS]


def read_rows(path: Path, file_key: str, kind: ExportKind) -> Iterator[tuple[Optional[dict], Optional[dict]]]:
    """(row, None) per good record, (None, quarantine row) per bad one.

    `_source_line` is the physical line the record starts on (a quoted newline makes a record
    span lines), 1 = the header. Empty cells are NULL."""
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        headers = next(reader, [])
        columns = [column_name(h) for h in headers]
        id_index = [i for i, h in enumerate(headers) if h == kind.id_header][0]
        next_start = reader.line_num + 1
        for fields in reader:
            start, next_start = next_start, reader.line_num + 1
            if not any(f.strip() for f in fields):
                continue  # blank line
            problem = None
            if len(fields) > len(headers):
                problem = f"{len(fields)} fields but {len(headers)} headers"
            elif id_index >= len(fields) or not fields[id_index].strip():
                problem = f"no {kind.id_header}"
            if problem:
                yield None, {"file": file_key, "line": start, "reason": problem, "raw": _raw(fields)}
                continue
            row = {column: (value if value != "" else None) for column, value in zip(columns, fields)}
            row[kind.id_column] = fields[id_index].strip()
            row["_source_file"] = file_key
            row["_source_line"] = start
            yield row, None


def scan(folder: Path) -> list[tuple[Path, ExportKind, list[str]]]:
    """Every export in `folder` with its kind; raises UnrecognisedExport on the first unknown."""
    found = []
    for path in sorted(folder.glob(crm_settings.FILE_GLOB)):
        headers = read_headers(path)
        found.append((path, detect(path, headers), headers))
    return found


def column_hints(kind: ExportKind, headers: list[str]) -> dict:
    columns = {column_name(h): {"data_type": "text"} for h in headers}
    columns[kind.id_column] = {"data_type": "text", "nullable": False}
    columns["_source_file"] = {"data_type": "text"}
    # the same record twice in one load: the later line wins
    columns["_source_line"] = {"data_type": "bigint", "dedup_sort": "desc"}
    return columns


def empty_table(columns: dict):
    return pa.table({name: pa.array([], pa.int64() if hint["data_type"] == "bigint" else pa.string())
                     for name, hint in columns.items()})
