"""Small pieces every source folder shares: the schema contract, the HTTP session, dates, files.

Nothing here reads a setting at import; every function takes what it needs as arguments.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any, Iterable, Iterator

# New tables and columns may appear (APIs grow); a column never silently changes type.
SCHEMA_CONTRACT = {"tables": "evolve", "columns": "evolve", "data_type": "freeze"}

# (connect, read) seconds: bounded, so a hung upstream fails the run instead of stalling it.
HTTP_TIMEOUT = (10.0, 60.0)
HTTP_MAX_ATTEMPTS = 5  # transport errors and 5xx; 429 too unless the caller handles it itself
HTTP_BACKOFF = 1.0
HTTP_MAX_RETRY_DELAY = 30.0

log = logging.getLogger("ingestion.sources")


def http_session(retry_429: bool = True, headers: dict[str, str] | None = None):
    """A requests session from dlt's retrying client: bounded timeouts, retries with backoff
    (honouring Retry-After) on connection errors and 5xx (and 429 unless `retry_429=False`),
    and no raise_for_status so callers decide what a status means."""
    from dlt.sources.helpers.requests import Client

    status_codes = tuple(range(500, 600)) + ((429,) if retry_429 else ())
    client = Client(
        request_timeout=HTTP_TIMEOUT,
        raise_for_status=False,
        status_codes=status_codes,
        request_max_attempts=HTTP_MAX_ATTEMPTS,
        request_backoff_factor=HTTP_BACKOFF,
        request_max_retry_delay=HTTP_MAX_RETRY_DELAY,
        respect_retry_after_header=True,
    )
    session = client.session
    session.headers.update({"User-Agent": "devsignal-ingestion"})
    session.headers.update(headers or {})
    return session


def utc_today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def parse_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def parse_ts(value: Any) -> dt.datetime | None:
    """ISO-8601 (with `Z` or an offset) -> an aware UTC datetime; None for empty values."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        moment = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def default_start_date(setting_value: str, backfill_days: int) -> dt.date:
    """DEVSIGNAL_START_DATE when set, else `backfill_days` before today (UTC)."""
    if setting_value:
        return dt.date.fromisoformat(setting_value)
    return utc_today() - dt.timedelta(days=backfill_days)


def date_windows(start: dt.date, end: dt.date, max_days: int) -> Iterator[tuple[dt.date, dt.date]]:
    """[start, end] cut into consecutive inclusive windows of at most `max_days` days."""
    cursor = start
    while cursor <= end:
        window_end = min(end, cursor + dt.timedelta(days=max_days - 1))
        yield cursor, window_end
        cursor = window_end + dt.timedelta(days=1)


def changed_files(root: Path, files: Iterable[Path], seen: dict[str, Any]) -> Iterator[tuple[Path, str, list]]:
    """The files whose (mtime_ns, size) differ from what `seen` (dlt state) remembers.

    Yields (path, key, signature); the caller stores `seen[key] = signature` once the file has
    been read completely, so a run that fails half-way re-reads the file next time.
    """
    for path in files:
        stat = path.stat()
        key = path.relative_to(root).as_posix()
        signature = [stat.st_mtime_ns, stat.st_size]
        if seen.get(key) == signature:
            continue
        yield path, key, signature


class SourceInputError(ValueError):
    """A setting or an input file a person must fix; the message says which and how.

    Raised while a source runs (not when it is created, so Dagster can load its definitions
    with a source unconfigured); `ingestion.pipelines.load` re-raises it unwrapped."""


QUARANTINE_TABLE = "_quarantine"


def quarantine_columns() -> dict:
    """Column hints of a `_quarantine` table (fresh dicts: dlt annotates hints in place)."""
    return {"file": {"data_type": "text", "nullable": False},
            "line": {"data_type": "bigint", "nullable": False},
            "reason": {"data_type": "text", "nullable": True},
            "raw": {"data_type": "text", "nullable": True}}


def empty_quarantine():
    """An empty `_quarantine` batch: yielding it creates the table (dlt creates tables only for
    data it has seen), so checks and dbt can always read it."""
    import pyarrow as pa

    # nullability must match quarantine_columns(), or dlt warns that the hints differ
    schema = pa.schema([pa.field("file", pa.string(), nullable=False), pa.field("line", pa.int64(), nullable=False),
                        pa.field("reason", pa.string()), pa.field("raw", pa.string())])
    return schema.empty_table()


def require_dir(value: str | os.PathLike | None, setting: str) -> Path:
    if not value:
        raise SourceInputError(f"{setting} is not set: point it at the folder to load")
    path = Path(value)
    if not path.is_dir():
        raise SourceInputError(f"{setting}={path} is not a folder")
    return path
