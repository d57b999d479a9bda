"""CRM CSV files: names, encoding and delimiter, and a streaming reader that turns a file into
Arrow batches plus quarantine rows, in bounded memory.

Reading, line by line (bytes -> text -> csv records):
- the encoding is picked per file from its first MB: a UTF-8 BOM or valid UTF-8 -> UTF-8; bytes
  that are not UTF-8 and no UTF-8 sequence at all -> Windows-1252 (Latin-1's superset). UTF-16 is
  refused with a message. The delimiter is the most frequent of , ; tab | outside quotes in the
  header line; CR-only line ends (old Mac exports) are read too.
- each physical line is decoded strictly. In a UTF-8 file, a line that is not valid UTF-8 (a
  Latin-1 line pasted into a UTF-8 export) is decoded again with every invalid byte read as
  Windows-1252, and its record is marked `_encoding = 'utf-8+cp1252'`. A byte that is no
  character in either (0x81, 0x8D, 0x8F, 0x90, 0x9D) or a NUL byte sends the record to the
  quarantine: nothing is guessed silently.
- records are csv records: a quoted newline makes a record span lines; `_source_line` is the
  line a record starts on (1 = the header). Blank lines and lines of only delimiters are skipped.
- quarantined, with file, line and reason: a record whose field count differs from the header's,
  a vendor record without its record id, a generic contact without an email (or company without a
  name/domain/website), a csv error, an undecodable line, a line longer than MAX_LINE_BYTES, a
  record the file ends inside (an unclosed quote, or missing fields and no final line break), and
  for HubSpot/Salesforce exports (whose exporters end every record with a line break) a last record
  with no line break after it.
- cells are kept verbatim (empty = NULL); a record with a cell that a spreadsheet would run as a
  formula (`=HYPERLINK(...)`, `+SUM(`, `@cmd(`, DDE `|...!`) gets `_has_formula = true`.
"""


from __future__ import annotations

import codecs
import csv
import gc
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import pyarrow as pa
import pyarrow.compute as pc

from .._common import SourceInputError
from . import settings as s

csv.field_size_limit(s.MAX_LINE_BYTES)

CHUNK_BYTES = 1 << 20
UTF8_BOM = codecs.BOM_UTF8
NULL_TEXT = pa.scalar(None, pa.string())
FALLBACK = "utf-8+cp1252"
FORMULA_CELL = re.compile(r"\s*(?:=|[+\-@]\s*[A-Za-z_][A-Za-z0-9_.]*\s*\(|[+\-@=].*\|.*!)")


class UnrecognisedExport(SourceInputError):
    """A CRM file that is not a HubSpot, Salesforce or generic export we can read."""


class SchemaDrift(SourceInputError):
    """A CRM file whose columns differ from its raw table's (the CRM raw schema is frozen)."""


# ---------------------------------------------------------------- names

def header_key(header: str) -> str:
    """How headers compare: BOM, quotes and outer space stripped, lower-cased, whitespace collapsed."""
    return re.sub(r"\s+", " ", header.replace("\ufeff", "").strip().strip('"').strip().lower())


def column_name(header: str) -> str:
    """Export label -> column: `Associated Company IDs` -> `associated_company_ids`,
    `Country/Region` -> `country_region`. (Lower-cased before dlt sees it, so dlt's camelCase
    splitting cannot turn `IDs` into `i_ds`.)"""
    name = re.sub(r"[^0-9a-z]+", "_", header_key(header)).strip("_")
    if not name:
        return "_blank"
    return "_" + name if name[0].isdigit() else name


def vendor_columns(headers: list[str]) -> list[str]:
    """One column per header, in order: an empty header is `column_<n>`, a second header with the
    same name gets `_2` (then `_3`, ...)."""
    out, seen = [], set()
    for position, header in enumerate(headers, start=1):
        name = column_name(header)
        if name == "_blank":
            name = f"column_{position}"
        base, n = name, 2
        while name in seen:
            name = f"{base}_{n}"
            n += 1
        seen.add(name)
        out.append(name)
    return out


# ---------------------------------------------------------------- encoding, delimiter, headers

@dataclass(frozen=True)
class FileShape:
    encoding: str  # "utf-8" | "cp1252"
    bom: bool
    delimiter: str
    newline: bytes  # b"\n" (LF or CRLF) or b"\r" (old Mac exports)
    headers: tuple[str, ...]
    mixed: bool = False  # UTF-8 with some lines that are not

    def describe(self) -> str:
        enc = "UTF-8" + (" with BOM" if self.bom else "") if self.encoding == "utf-8" else "Windows-1252 (Latin-1)"
        if self.mixed:
            enc += ", some lines Latin-1"
        names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
        return f"{enc}, {names.get(self.delimiter, repr(self.delimiter))}-separated"


def _pick_encoding(sample: bytes, path: Path) -> tuple[str, bool, bool]:
    """(encoding, bom, mixed) from the first bytes of a file."""
    if sample.startswith(UTF8_BOM):
        body, bom = sample[len(UTF8_BOM):], True
    elif sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnrecognisedExport(f"{path}: a UTF-16 file (Excel's 'Unicode Text'); save it as 'CSV UTF-8' and load that")
    else:
        body, bom = sample, False
    if body.count(b"\x00") > len(body) // 8 > 0:
        raise UnrecognisedExport(f"{path}: looks like UTF-16 without a BOM (many NUL bytes); save it as 'CSV UTF-8'")
    cut = body.rfind(b"\n")
    if cut > 0 and len(sample) >= s.SNIFF_BYTES:
        body = body[:cut]  # never judge a character cut by the sample's end
    text = body.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd")
    if not invalid:
        return "utf-8", bom, False
    valid = len(re.findall(r"[^\x00-\x7f\ufffd]", text))
    if valid == 0 and not bom:
        return "cp1252", False, False
    return "utf-8", bom, True


def _pick_delimiter(line: str) -> str:
    counts = {d: 0 for d in s.DELIMITERS}
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(s.DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def sniff(path: Path) -> FileShape:
    """Encoding, delimiter, line ending and the header row, from the first MB of the file."""
    with path.open("rb") as handle:
        sample = handle.read(s.SNIFF_BYTES)
    encoding, bom, mixed = _pick_encoding(sample, path)
    body = sample[len(UTF8_BOM):] if bom else sample
    newline = b"\r" if b"\r" in body and b"\n" not in body else b"\n"
    text = body.decode(encoding if encoding == "utf-8" else "cp1252", errors="replace")
    lines = text.splitlines(keepends=True)
    if not lines or not lines[0].strip():
        raise UnrecognisedExport(f"{path}: empty file or no header row on line 1")
    delimiter = _pick_delimiter(lines[0])
    headers = next(csv.reader(iter(lines[:50]), delimiter=delimiter), [])
    return FileShape(encoding, bom, delimiter, newline, tuple(h.strip() for h in headers), mixed)


# ---------------------------------------------------------------- the reader

def _formula_prefilter(delimiter: str):
    """Could a record's text hold a cell starting like a formula? A cheap test before the exact one:
    every formula start has `=`, `(` or (DDE) `|` somewhere, which `in` finds at C speed."""
    pattern = re.compile(r"(?:^|[" + re.escape(delimiter) + r'])"?\s*(?:[=@]|[+\-]\s*[A-Za-z_(])').search

    def maybe(text: str) -> bool:
        return ("=" in text or "(" in text or "|" in text) and pattern(text) is not None

    return maybe


@dataclass
class FileStats:
    """What reading one file found (kept in dlt state as `last_run`, printed by import-crm)."""

    file: str
    table: str
    format: str
    entity: str
    confidence: float
    encoding: str
    records: int = 0
    loaded: int = 0
    quarantined: int = 0
    blank_lines: int = 0
    encoding_fallback: int = 0
    formula_rows: int = 0
    first_problems: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class ExportReader:
    """One CRM file in, ("table", pyarrow.Table) and ("quarantine", [row, ...]) batches out.

    Memory: one batch of rows plus one record's lines, whatever the file size."""

    def __init__(self, path: Path, key: str, shape: FileShape, detection, batch_rows: int = s.BATCH_ROWS,
                 load_id: str = "", row_prefix: str = ""):
        self.path, self.key, self.shape, self.detection = path, key, shape, detection
        self.batch_rows = batch_rows
        # dlt's own row columns, which its Arrow path leaves out: `_dlt_load_id` (this load; what
        # import-crm counts updates with) and a `_dlt_id` unique per (load, file, line)
        self.load_id = load_id
        self.row_prefix = f"{row_prefix or load_id}."
        self.table = detection.table
        self.generic = detection.format == "generic"
        self.stats = FileStats(key, self.table, detection.format, detection.entity, detection.confidence,
                               shape.describe())
        # per-record side channel filled by _lines() while csv pulls a record's lines
        self._record_lines: list[str] = []
        self._record_fallback = False
        self._record_problem: Optional[str] = None
        self.ended_without_newline = False
        self.exhausted = False

    # -- bytes -> text, one physical line at a time
    def _decode(self, raw: bytes, number: int) -> str:
        if b"\x00" in raw:
            self._record_problem = self._record_problem or f"NUL byte on line {number}"
            raw = raw.replace(b"\x00", b"")
        try:
            return raw.decode(self.shape.encoding)
        except UnicodeDecodeError as error:
            if self.shape.encoding == "utf-8":
                try:
                    text = raw.decode("utf-8", errors="devsignal_cp1252")
                    self._record_fallback = True
                    return text
                except UnicodeDecodeError:
                    pass
            byte = raw[error.start:error.start + 1]
            self._record_problem = self._record_problem or (
                f"line {number}: byte 0x{byte.hex()} at offset {error.start} is not "
                f"{'UTF-8 or ' if self.shape.encoding == 'utf-8' else ''}Windows-1252/Latin-1 text")
            return raw.decode(self.shape.encoding, errors="replace")

    def _lines(self, handle) -> Iterator[str]:
        newline = self.shape.newline
        terminator = newline.decode()
        carry = b""
        number = 0
        first = True
        too_long = False
        encoding = self.shape.encoding
        nul = b"\x00"
        buf_append = self._record_lines.append
        while True:
            chunk = handle.read(CHUNK_BYTES)
            if not chunk:
                break
            if first:
                first = False
                if chunk.startswith(UTF8_BOM):
                    chunk = chunk[len(UTF8_BOM):]
            parts = (carry + chunk).split(newline) if carry else chunk.split(newline)
            carry = parts.pop()
            if len(carry) > s.MAX_LINE_BYTES:
                carry, too_long = b"", True  # the rest of this line is dropped below
            for part in parts:
                number += 1
                if too_long:
                    too_long = False
                    self._record_problem = self._record_problem or (
                        f"line {number} is longer than {s.MAX_LINE_BYTES / (1 << 20):g} MB")
                    text = terminator
                elif nul in part:
                    text = self._decode(part, number) + terminator
                else:
                    try:
                        text = part.decode(encoding) + terminator
                    except UnicodeDecodeError:
                        text = self._decode(part, number) + terminator
                buf_append(text)
                yield text
        if carry or too_long:
            number += 1
            self.ended_without_newline = True
            text = "" if too_long else self._decode(carry, number)
            if too_long:
                self._record_problem = self._record_problem or (
                    f"line {number} is longer than {s.MAX_LINE_BYTES / (1 << 20):g} MB")
            self._record_lines.append(text)
            yield text
        # csv asks for a line past the end only from inside a quoted field: the record it is
        # reading now runs into the end of the file
        self.exhausted = True

    # -- records -> batches
    def _quarantine(self, line: int, reason: str, lines: list[str]) -> dict:
        self.stats.quarantined += 1
        if len(self.stats.first_problems) < 5:
            self.stats.first_problems.append([line, reason])
        raw = "".join(lines)
        if raw.endswith("\n"):
            raw = raw[:-1]
        if raw.endswith("\r"):
            raw = raw[:-1]
        return {"file": self.key, "line": line, "reason": reason, "raw": raw[: s.MAX_RAW_CHARS]}

    def batches(self) -> Iterator[tuple[str, object]]:
        """The file's batches. CPython's cyclic GC is paused while a batch is built (it would walk
        the batch's millions of small acyclic objects again and again; reference counting frees
        them anyway) and resumed while the consumer has the batch."""
        enabled = gc.isenabled()
        batches = self._batches()
        try:
            while True:
                gc.disable()
                try:
                    item = next(batches)
                except StopIteration:
                    return
                finally:
                    if enabled:
                        gc.enable()
                yield item
        finally:
            batches.close()

    def _batches(self) -> Iterator[tuple[str, object]]:
        detection, shape = self.detection, self.shape
        headers = list(shape.headers)
        width = len(headers)
        vendor = not self.generic
        key_fields: list[int] = []
        extra_index: list[tuple[int, str]] = []
        if vendor:
            id_index = headers.index(detection.id_header)
            missing_key = f"no {detection.id_header}"
        else:
            mapping = detection.columns
            field_index = {name: i for i, h in enumerate(headers) for name in [mapping.get(h)] if name}
            extra_index = [(i, h) for i, h in enumerate(headers) if not mapping.get(h) and h]
            if detection.entity == "contacts":
                key_fields = [field_index["email"]]
                missing_key = "no email (a generic contacts file is keyed by the email)"
            else:
                key_fields = [field_index[f] for f in ("name", "domain", "website") if f in field_index]
                missing_key = "no company name, domain or website (a generic companies file is keyed by them)"
            id_index = key_fields[0]
        prefilter = _formula_prefilter(shape.delimiter)
        is_formula = FORMULA_CELL.match
        batch_rows = self.batch_rows
        stats = self.stats

        rows: list[list[str]] = []
        lines: list[int] = []
        keys: list[str] = []
        extras: list[Optional[str]] = []
        fallback_rows: list[int] = []
        formula_rows: list[int] = []
        rejected: list[dict] = []
        buf = self._record_lines  # the lines of the record just read (filled by _lines)

        with self.path.open("rb") as handle:
            reader = csv.reader(self._lines(handle), delimiter=shape.delimiter)
            if next(reader, None) is None:  # the header (already read by sniff)
                return
            next_start = reader.line_num + 1
            while True:
                buf.clear()
                self._record_fallback, self._record_problem = False, None
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except csv.Error as error:
                    start, next_start = next_start, reader.line_num + 1
                    stats.records += 1
                    rejected.append(self._quarantine(start, f"csv error: {error}", buf))
                    continue
                start, next_start = next_start, reader.line_num + 1
                problem = self._record_problem
                ok = False
                if problem is None and len(fields) == width:
                    if vendor:
                        ok = bool(fields[id_index].strip())
                    else:
                        key = next((fields[i].strip() for i in key_fields if fields[i].strip()), "")
                        ok = bool(key)
                if not ok and problem is None and not any(f.strip() for f in fields):
                    stats.blank_lines += 1  # a blank line, or one of only delimiters
                    continue
                if problem is None and (self.exhausted or self.ended_without_newline):
                    # the file ends inside this record (an open quote) or right after it, unterminated
                    if self.exhausted or len(fields) < width:
                        where = " inside a quoted field" if self.exhausted else ""
                        problem = (f"truncated last record: the file ends{where} without closing it "
                                   f"({len(fields)} of {width} fields)")
                    elif vendor:
                        problem = ("no line break at the end of the file: the last record may be cut "
                                   "(HubSpot and Salesforce end every record with one)")
                    ok = ok and problem is None
                stats.records += 1
                if not ok:
                    if problem is None:
                        problem = (f"{len(fields)} fields but {width} headers" if len(fields) != width
                                   else missing_key)
                    rejected.append(self._quarantine(start, problem, buf))
                    if len(rejected) >= batch_rows:
                        yield "quarantine", rejected
                        rejected = []
                    continue

                if self._record_fallback:
                    fallback_rows.append(len(rows))
                for text in buf:
                    if prefilter(text):
                        if any(is_formula(f) for f in fields):
                            formula_rows.append(len(rows))
                        break
                rows.append(fields)
                lines.append(start)
                if not vendor:
                    keys.append(key)
                    extra = {h: fields[i] for i, h in extra_index if fields[i].strip()}
                    extras.append(json.dumps(extra, ensure_ascii=False) if extra else None)
                if len(rows) >= batch_rows:
                    yield "table", self._arrow(rows, lines, keys, extras, fallback_rows, formula_rows)
                    rows, lines, keys, extras, fallback_rows, formula_rows = [], [], [], [], [], []
        if rows or not stats.loaded:
            yield "table", self._arrow(rows, lines, keys, extras, fallback_rows, formula_rows)
        if rejected:
            yield "quarantine", rejected

    def _arrow(self, rows, lines, keys, extras, fallback_rows, formula_rows) -> pa.Table:
        n = len(rows)
        self.stats.loaded += n
        self.stats.encoding_fallback += len(fallback_rows)
        self.stats.formula_rows += len(formula_rows)
        headers = list(self.shape.headers)
        columns = list(zip(*rows)) if rows else [() for _ in headers]
        arrays: dict[str, pa.Array] = {}
        if self.generic:
            entity_fields = s.GENERIC_FIELDS[self.detection.entity]
            by_field = {self.detection.columns.get(h): i for i, h in enumerate(headers) if self.detection.columns.get(h)}
            key = pa.array(keys, pa.string())
            if self.detection.entity == "contacts":
                key = pc.utf8_lower(key)
            else:
                key = pc.utf8_lower(pc.replace_substring_regex(key, r"\s+", " "))
            arrays[s.GENERIC_KEYS[self.detection.entity]] = key
            for name in entity_fields:
                i = by_field.get(name)
                arrays[name] = _text(columns[i]) if i is not None else pa.nulls(n, pa.string())
            arrays["custom_fields"] = pa.array(extras, pa.string())
        else:
            for name, values in zip(vendor_columns(headers), columns):
                arrays[name] = _text(values)
            id_column = vendor_columns(headers)[headers.index(self.detection.id_header)]
            arrays[id_column] = pc.utf8_trim_whitespace(arrays[id_column])
        arrays["_source_file"] = pa.array([self.key] * n, pa.string())
        arrays["_source_line"] = pa.array(lines, pa.int64())
        encoding = [self.shape.encoding] * n
        for i in fallback_rows:
            encoding[i] = FALLBACK
        arrays["_encoding"] = pa.array(encoding, pa.string())
        formula = [False] * n
        for i in formula_rows:
            formula[i] = True
        arrays["_has_formula"] = pa.array(formula, pa.bool_())
        arrays["_dlt_load_id"] = pa.array([self.load_id] * n, pa.string())
        arrays["_dlt_id"] = pc.binary_join_element_wise(
            self.row_prefix, pc.cast(arrays["_source_line"], pa.string()), "")
        key_column = table_key(self.table)
        required = {key_column, "_dlt_load_id", "_dlt_id"}
        schema = pa.schema([pa.field(name, array.type, nullable=name not in required) for name, array in arrays.items()])
        return pa.Table.from_arrays(list(arrays.values()), schema=schema)


def _text(values) -> pa.Array:
    array = pa.array(values, pa.string())
    return pc.if_else(pc.equal(array, ""), NULL_TEXT, array)


# ---------------------------------------------------------------- table keys and hints

VENDOR_KEYS = {
    "hubspot_contacts": "record_id", "hubspot_companies": "record_id", "hubspot_deals": "record_id",
    "salesforce_contacts": "contact_id", "salesforce_accounts": "account_id",
    "salesforce_opportunities": "opportunity_id",
}


def table_key(table: str) -> str:
    """The primary key column of a raw_crm table."""
    return VENDOR_KEYS.get(table) or s.GENERIC_KEYS[s.TABLES[table][1]]


def table_columns(table: str, headers: Optional[list[str]] = None) -> dict:
    """Column hints of a table: every header's column as text (vendor) or the canonical fields
    (generic), the key not null, and the loader's own columns."""
    fmt, entity = s.TABLES[table]
    if fmt == "generic":
        names = [s.GENERIC_KEYS[entity], *s.GENERIC_FIELDS[entity], "custom_fields"]
    else:
        names = vendor_columns(headers or [])
    columns = {name: {"data_type": "text", "nullable": True} for name in names}
    columns[table_key(table)] = {"data_type": "text", "nullable": False}
    columns["_source_file"] = {"data_type": "text", "nullable": True}
    # the same record twice in one load: the later line wins
    columns["_source_line"] = {"data_type": "bigint", "nullable": True, "dedup_sort": "desc"}
    columns["_encoding"] = {"data_type": "text", "nullable": True}
    columns["_has_formula"] = {"data_type": "bool", "nullable": True}
    return columns


def _register_fallback() -> None:
    def fallback(error: UnicodeDecodeError):
        bad = error.object[error.start:error.end]
        return bad.decode("cp1252"), error.end  # raises UnicodeDecodeError for 0x81, 0x8D, ...

    try:
        codecs.lookup_error("devsignal_cp1252")
    except LookupError:
        codecs.register_error("devsignal_cp1252", fallback)


_register_fallback()
