"""Import wizard reads: what a CRM file is (the loader's own `sniff` + `detect`, not a copy), its
first rows, the field mapping (header -> raw column) with the columns its table already has, a
copy of the file with the user's mapping applied, and the rows the load quarantined.

A mapping change renames headers in a copy of the upload (bytes after the header row untouched,
same encoding, delimiter and line ends) and the copy is detected again, so what runs is exactly
what the loader sees: `devsignal import-crm` on that copy would do the same.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ingestion.sources.crm import settings as crm_settings
from ingestion.sources.crm.detection import Detection, detect
from ingestion.sources.crm.helpers import FileShape, UnrecognisedExport, column_name, sniff, vendor_columns

from . import query

SOURCES = {"hubspot": "HubSpot", "salesforce": "Salesforce", "generic": "Generic CSV"}
CUSTOM = "(custom_fields)"  # a generic file's header kept in custom_fields
SAMPLE_ROWS = 5
MAX_FILES = 3
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass
class Preview:
    path: Path
    shape: FileShape | None
    detection: Detection | None
    sample: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows: int = 0
    error: str | None = None
    known_columns: list[str] = field(default_factory=list)  # the table's columns before this load

    @property
    def mapping(self) -> pd.DataFrame:
        """header -> target (a raw column, or a canonical field / custom_fields for a generic file)."""
        if self.detection is None or self.shape is None:
            return pd.DataFrame(columns=["header", "target", "status"])
        headers = list(self.shape.headers)
        if self.detection.format == "generic":
            targets = [self.detection.columns.get(h) or CUSTOM for h in headers]
            status = ["custom field" if t == CUSTOM else "mapped" for t in targets]
        else:
            targets = vendor_columns(headers)
            known = set(self.known_columns)
            status = ["first load of this table" if not known else ("known column" if t in known else
                      "NEW column: the load stops unless accepted") for t in targets]
        return pd.DataFrame({"header": headers, "target": targets, "status": status})

    def target_choices(self) -> list[str]:
        if self.detection is None:
            return []
        if self.detection.format == "generic":
            return [*crm_settings.GENERIC_FIELDS[self.detection.entity], CUSTOM]
        return sorted(set(self.known_columns) | set(vendor_columns(list(self.shape.headers))))


def safe_file_name(name: str) -> str:
    """An upload's name as a plain file name (no folders, no odd characters), ending in .csv."""
    base = _SAFE_NAME.sub("_", Path(name or "upload.csv").name).strip(" .") or "upload"
    return base if base.lower().endswith(".csv") else base + ".csv"


def table_columns(table: str) -> list[str]:
    """raw_crm.<table>'s data columns now (empty before its first load)."""
    frame = query("""select column_name from information_schema.columns
                     where table_schema = 'raw_crm' and table_name = :table
                       and column_name not like '\\_dlt%' and column_name not like '\\_source%'
                       and column_name not in ('_encoding', '_has_formula')
                     order by ordinal_position""", table=table)
    return [] if frame.empty else frame.column_name.tolist()


def preview(path: str | Path, source: str | None) -> Preview:
    """Detection (with `source` as the format, as the load will run), sample rows and row count."""
    path = Path(path)
    try:
        shape = sniff(path)
    except UnrecognisedExport as error:
        return Preview(path, None, None, error=str(error))
    detection = detect(list(shape.headers), source)
    sample, rows = _read_sample(path, shape)
    known = table_columns(detection.table) if detection.table else []
    return Preview(path, shape, detection, sample, rows, known_columns=known)


def detected(path: str | Path) -> Detection | None:
    """What the file looks like with no format given (advisory: the chosen source decides)."""
    try:
        return detect(list(sniff(Path(path)).headers))
    except UnrecognisedExport:
        return None


def _read_sample(path: Path, shape: FileShape) -> tuple[pd.DataFrame, int]:
    with open(path, encoding=shape.encoding, errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=shape.delimiter)
        next(reader, None)
        sample, rows = [], 0
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if rows < SAMPLE_ROWS:
                sample.append(record)
            rows += 1
    headers = list(shape.headers)
    # a short or long row shows as it is (the loader quarantines it)
    width = len(headers)
    frame = pd.DataFrame([(r + [""] * width)[:width] for r in sample], columns=vendor_columns(headers)
                         if len(set(headers)) < len(headers) else headers)
    return frame, rows


def header_for(target: str, fmt: str) -> str:
    """A header the loader reads as `target`: a raw column's label (`first_name` -> `First Name`),
    a canonical field's name with spaces, or a custom-field label."""
    if fmt == "generic":
        return target.replace("_", " ")
    label = target.replace("_", " ").title()
    if column_name(label) != target:
        raise ValueError(f"no header maps to column {target!r}")
    return label


def apply_mapping(preview_: Preview, targets: dict[str, str], out_dir: str | Path) -> Path:
    """A copy of the file whose header row says the chosen targets (only changed headers renamed).
    Raises ValueError when two headers would land in one column or the loader would read it otherwise."""
    shape, detection = preview_.shape, preview_.detection
    fmt = detection.format
    current = dict(zip(preview_.mapping.header, preview_.mapping.target))
    headers = []
    for header in shape.headers:
        target = targets.get(header, current[header])
        if target == current[header]:
            headers.append(header)
        elif target == CUSTOM:
            headers.append(f"{header} (custom)")
        else:
            headers.append(header_for(target, fmt))
    chosen = [t for t in (targets.get(h, current[h]) for h in shape.headers) if t != CUSTOM]
    doubled = sorted({t for t in chosen if chosen.count(t) > 1})
    if doubled:
        raise ValueError(f"two headers map to the same column: {', '.join(doubled)}")
    raw = Path(preview_.path).read_bytes()
    body_start = _header_end(raw, shape)
    line = io.StringIO()
    csv.writer(line, delimiter=shape.delimiter, lineterminator="").writerow(headers)
    out = Path(out_dir) / Path(preview_.path).name
    out.write_bytes((b"\xef\xbb\xbf" if shape.bom else b"") + line.getvalue().encode(shape.encoding) + raw[body_start:])
    check = detect(list(sniff(out).headers), fmt)
    if check.table != detection.table:
        raise ValueError(f"with these names the file reads as {check.describe()}, not {detection.describe()}")
    return out


def _header_end(raw: bytes, shape: FileShape) -> int:
    """Offset of the header row's line break (a quoted header may hold line breaks: count quotes)."""
    quoted, position = False, 3 if shape.bom else 0
    while position < len(raw):
        byte = raw[position:position + 1]
        if byte == b'"':
            quoted = not quoted
        elif byte in (b"\n", b"\r") and not quoted:
            return position
        position += 1
    return len(raw)


def quarantined(file_name: str, limit: int = 500) -> pd.DataFrame:
    """The rows the load set aside for this file: line, reason and the raw text (cut to 500 chars)."""
    frame = query("""select line, reason, left(raw, 500) as raw from raw_crm._quarantine
                     where file = :file order by line limit :limit""", file=file_name, limit=limit)
    return frame if not frame.empty else pd.DataFrame(columns=["line", "reason", "raw"])
