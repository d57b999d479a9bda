"""Reading the Segment archive: files in order, lines parsed and routed, rows flattened into
typed Arrow batches whose column types never drift.

Flattening follows dlt's rules (snake_case names, nested objects joined with `__`); lists are
kept as JSON text instead of child tables. A column's type is decided the first time it is seen
(the pipeline's schema remembers it) and later values are coerced to it; a value that cannot be
(e.g. "abc" in a bigint column) sends its line to the quarantine instead of failing the load.
"""

from __future__ import annotations

import gc
import gzip
import io
import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Optional

import pyarrow as pa
from dlt.common.normalizers.naming.snake_case import NamingConvention

from .._common import parse_ts
from . import settings as seg_settings

log = logging.getLogger("ingestion.sources.segment")

_NAMING = NamingConvention()

ARROW_TYPES = {
    "text": pa.string(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}
PYTHON_TYPES = {"text": {str}, "bigint": {int}, "double": {float, int}, "bool": {bool}}


try:  # dlt depends on orjson (CPython); it parses Segment lines ~3x faster than json
    from orjson import loads as _loads
except ImportError:  # pragma: no cover
    _loads = json.loads


@lru_cache(maxsize=None)
def snake(name: str) -> str:
    return _NAMING.normalize_identifier(name)


_PATHS: dict[tuple[str, str], str] = {}


def column_path(prefix: str, key: str) -> str:
    """`prefix__snake(key)` (dlt's flattening), memoised: the same few keys repeat on every line."""
    name = _PATHS.get((prefix, key))
    if name is None:
        name = _PATHS[(prefix, key)] = f"{prefix}__{snake(key)}" if prefix else snake(key)
    return name


def flatten(obj: dict, prefix: str = "", out: Optional[dict] = None) -> dict:
    out = {} if out is None else out
    for key, value in obj.items():
        name = column_path(prefix, key)
        if isinstance(value, dict):
            flatten(value, name, out)
        elif isinstance(value, list):
            out[name] = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        else:
            out[name] = value
    return out


def _put_flat(obj: dict, prefix: str, columns: dict[str, list], row: int) -> None:
    """Flatten `obj` straight into column lists (row `row`), padding columns that skipped rows."""
    for key, value in obj.items():
        name = column_path(prefix, key)
        if isinstance(value, dict):
            _put_flat(value, name, columns, row)
            continue
        if isinstance(value, list):
            value = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        values = columns.get(name)
        if values is None:
            values = columns[name] = [None] * row
        filled = len(values)
        if filled == row:
            values.append(value)
        elif filled < row:
            values.extend([None] * (row - filled))
            values.append(value)
        else:  # two keys that normalise to one name: the last wins, like dlt
            values[row] = value


def archive_files(root: Path) -> list[Path]:
    """Every archive file under `root`, by day folder then by file number (10 after 9)."""
    def key(path: Path) -> tuple:
        parts = path.relative_to(root).parts
        stem = path.name.split(".", 1)[0]
        return (*parts[:-1], (0, int(stem), "") if stem.isdigit() else (1, 0, stem))
    files = [p for p in root.rglob("*") if p.is_file() and p.name.endswith(seg_settings.FILE_SUFFIXES)]
    return sorted(files, key=key)


def read_lines(path: Path) -> Iterator[tuple[int, Optional[str], Optional[str]]]:
    """(line number, text, None) per line; (n, None, reason) when the file breaks off at line n."""
    with path.open("rb") as head:
        gzipped = head.read(2) == b"\x1f\x8b"
    number = 0
    try:
        raw = gzip.open(path, "rb") if gzipped else path.open("rb")
        with raw, io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="") as text:
            for number, line in enumerate(text, start=1):
                yield number, line.rstrip("\r\n"), None
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        yield number + 1, None, f"unreadable file after line {number}: {type(error).__name__}: {error}"


@dataclass
class Quarantined:
    file: str
    line: int
    reason: str
    raw: Optional[str]

    def row(self) -> dict:
        raw = self.raw
        if raw is not None and len(raw) > seg_settings.MAX_RAW_CHARS:
            raw = raw[: seg_settings.MAX_RAW_CHARS]
        return {"file": self.file, "line": self.line, "reason": self.reason, "raw": raw}


def parse_line(file_key: str, number: int, text: str) -> tuple[Optional[str], Optional[dict], Optional[Quarantined]]:
    """(table, call, None) for a good call; (None, None, Quarantined) otherwise.
    Blank lines are skipped (None, None, None)."""
    if not text.strip():
        return None, None, None
    try:
        call = _loads(text)
    except ValueError as error:
        return None, None, Quarantined(file_key, number, f"invalid JSON: {error}", text)
    if not isinstance(call, dict):
        return None, None, Quarantined(file_key, number, f"not a JSON object ({type(call).__name__})", text)
    message_id, kind = call.get("messageId"), call.get("type")
    if message_id in (None, "") or kind in (None, ""):
        missing = [name for name, value in (("messageId", message_id), ("type", kind)) if value in (None, "")]
        return None, None, Quarantined(file_key, number, f"missing {' and '.join(missing)}", text)
    table = seg_settings.TABLES.get(str(kind).lower())
    if table is None:
        return None, None, Quarantined(file_key, number, f"unknown call type {kind!r}", text)
    return table, call, None


# -- typing ---------------------------------------------------------------------------------------


class _Reject(Exception):
    pass


def _coerce(value: Any, data_type: str) -> Any:
    if value is None:
        return None
    if data_type == "text":
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if data_type == "timestamp":
        try:
            return parse_ts(value)
        except (TypeError, ValueError):
            raise _Reject(f"not a timestamp: {value!r}") from None
    if data_type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _Reject(f"not a boolean: {value!r}")
    if isinstance(value, bool):
        raise _Reject(f"a boolean where a number belongs: {value!r}")
    if data_type == "bigint":
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise _Reject(f"not an integer: {value!r}")
    if data_type == "double":
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _Reject(f"not a number: {value!r}") from None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def infer_type(column: str, kinds: set[type]) -> str:
    if column in seg_settings.TEXT_FIELDS:
        return "text"
    if column in seg_settings.TIMESTAMP_FIELDS:
        return "timestamp"
    if kinds == {bool}:
        return "bool"
    if kinds and kinds <= {int, float}:
        # every JSON number is a double: `properties.value` is 3 today and 3.5 tomorrow, and a
        # frozen bigint column could then only reject the event (exact up to 2**53)
        return "double"
    return "text"


class TableBuilder:
    """Collects the calls of one table as flat columns and turns them into typed Arrow batches.

    `types` comes from the pipeline schema: columns already there keep their type."""

    def __init__(self, table: str, types: dict[str, str]):
        self.table = table
        self.types = types
        self.columns: dict[str, list] = {}
        self.origins: list[tuple[str, int]] = []

    def add(self, call: dict, origin: tuple[str, int]) -> None:
        _put_flat(call, "", self.columns, len(self.origins))
        self.origins.append(origin)

    def __len__(self) -> int:
        return len(self.origins)

    def flush(self) -> tuple[Optional[pa.Table], list[Quarantined]]:
        columns, origins = self.columns, self.origins
        self.columns, self.origins = {}, []
        count = len(origins)
        if not count:
            return None, []
        for values in columns.values():
            if len(values) < count:
                values.extend([None] * (count - len(values)))
        bad: dict[int, str] = {}
        plans: list[tuple[str, str, list]] = []
        for column, values in columns.items():
            kinds = set(map(type, values))
            kinds.discard(type(None))
            if not kinds:
                continue
            data_type = self.types.get(column) or infer_type(column, kinds)
            self.types.setdefault(column, data_type)
            if data_type == "timestamp" and kinds == {str}:
                plans.append((column, "timestamp_text", values))
                continue
            if data_type in PYTHON_TYPES and kinds <= PYTHON_TYPES[data_type]:
                plans.append((column, data_type, values))
                continue
            coerced = []
            for index, value in enumerate(values):
                try:
                    coerced.append(_coerce(value, data_type))
                except _Reject as reject:
                    bad.setdefault(index, f"column {column} ({data_type}): {reject}")
                    coerced.append(None)
            plans.append((column, data_type, coerced))
        arrays, names = [], []
        for column, how, values in plans:
            if how == "timestamp_text":
                try:
                    array = pa.array(values, pa.string()).cast(ARROW_TYPES["timestamp"])
                except pa.ArrowInvalid:
                    parsed = []
                    for index, value in enumerate(values):
                        try:
                            parsed.append(_coerce(value, "timestamp"))
                        except _Reject as reject:
                            bad.setdefault(index, f"column {column} (timestamp): {reject}")
                            parsed.append(None)
                    array = pa.array(parsed, ARROW_TYPES["timestamp"])
            else:
                array = pa.array(values, ARROW_TYPES.get(how, pa.string()))
            arrays.append(array)
            names.append(column)
        # the primary key is never null (parse_line guarantees it) and the schema says so
        fields = [pa.field(name, array.type, nullable=name != "message_id") for name, array in zip(names, arrays)]
        table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
        quarantined = []
        if bad:
            table = table.filter(pa.array([i not in bad for i in range(count)]))
            for index, reason in sorted(bad.items()):
                file_key, line = origins[index]
                row = {name: values[index] for name, values in columns.items() if values[index] is not None}
                raw = json.dumps(row, ensure_ascii=False, default=str)  # the flattened call
                quarantined.append(Quarantined(file_key, line, reason, raw))
        return table, quarantined


def call_columns() -> dict:
    """Hints every call table shares (fresh dicts: dlt annotates hints in place)."""
    return {"message_id": {"data_type": "text", "nullable": False}}


def schema_types(schema, table: str) -> dict[str, str]:
    """Column -> dlt data type of `table` in the pipeline's schema (empty on a first run)."""
    try:
        columns = schema.get_table_columns(table)
    except Exception:  # noqa: BLE001 - no such table yet
        return {}
    return {name: col["data_type"] for name, col in columns.items() if col.get("data_type")}


@contextmanager
def paused_gc():
    """Parsing allocates millions of small acyclic objects; CPython's cyclic GC would walk them
    all again and again (4x the parse time, measured). Reference counting frees them anyway."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class ArchiveReader:
    """Calls in (archive files, or inbox rows through `add`), full Arrow batches (and
    quarantine rows) out; column types from `schema`."""

    def __init__(self, schema, batch_rows: int):
        self.schema = schema
        self.batch_rows = batch_rows
        self.builders: dict[str, TableBuilder] = {}
        self.rejected: list[dict] = []

    def _flush(self, builder: TableBuilder, ready: list) -> None:
        table, rejected = builder.flush()
        self.rejected.extend(q.row() for q in rejected)
        if table is not None and table.num_rows:
            ready.append((builder.table, table))

    def read_file(self, path: Path, key: str) -> tuple[list[tuple[str, pa.Table]], int]:
        """Parse one file; returns the batches that filled up, and the number of lines read."""
        ready: list[tuple[str, pa.Table]] = []
        lines = 0
        for number, text, broken in read_lines(path):
            if broken:
                self.rejected.append(Quarantined(key, number, broken, None).row())
                continue
            lines += 1
            table, call, bad = parse_line(key, number, text)
            if bad is not None:
                self.rejected.append(bad.row())
                continue
            if table is None:
                continue
            self.add(table, call, (key, number), ready)
        return ready, lines

    def add(self, table: str, call: dict, origin: tuple[str, int], ready: list) -> None:
        """One good call for `table`; a batch that fills up is appended to `ready`."""
        builder = self.builders.get(table)
        if builder is None:
            builder = self.builders[table] = TableBuilder(table, schema_types(self.schema, table))
        builder.add(call, origin)
        if len(builder) >= self.batch_rows:
            self._flush(builder, ready)

    def finish(self) -> list[tuple[str, pa.Table]]:
        ready: list[tuple[str, pa.Table]] = []
        for builder in self.builders.values():
            self._flush(builder, ready)
        return ready

    def take_rejected(self) -> list[dict]:
        rejected, self.rejected = self.rejected, []
        return rejected
