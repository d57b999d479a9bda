"""Small pieces every source folder shares: the schema contract, the HTTP session, dates, files,
and the errors a run stops on.

Nothing here reads a setting at import: the HTTP limits are read when a session is made.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

import requests

# New tables and columns may appear (APIs grow); a column never silently changes type.
SCHEMA_CONTRACT = {"tables": "evolve", "columns": "evolve", "data_type": "freeze"}

# Bounded HTTP: (connect, read) seconds, attempts per request, exponential backoff. The defaults;
# the DevSignal settings below override them at run time (tests shrink the timeout to ~2 s).
HTTP_TIMEOUT = (10.0, 60.0)
HTTP_MAX_ATTEMPTS = 5  # transport errors, 5xx, 429: at most this many attempts per request
HTTP_BACKOFF = 1.0  # waits 1, 2, 4, 8 s between attempts (Retry-After wins when the answer has one)
HTTP_MAX_RETRY_DELAY = 60.0  # no single wait is longer (a longer Retry-After is capped, and logged)
HTTP_TIMEOUT_SETTING = "DEVSIGNAL_HTTP_TIMEOUT"
HTTP_MAX_ATTEMPTS_SETTING = "DEVSIGNAL_HTTP_MAX_ATTEMPTS"
HTTP_BACKOFF_SETTING = "DEVSIGNAL_HTTP_BACKOFF"

RETRY_STATUSES = tuple(range(500, 600))  # plus 429 unless the caller handles it itself

log = logging.getLogger("ingestion.sources")


def setting(name: str, default: str = "") -> str:
    """A DevSignal setting, or the environment variable of that name while the setting is not yet
    declared in devsignal.settings.SETTINGS (both read at call time, never at import)."""
    from devsignal import settings as ds_settings

    try:
        return ds_settings.get(name)
    except KeyError:
        return os.environ.get(name, default).strip()


def _number(name: str, default: float, minimum: float) -> float:
    raw = setting(name, "")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SourceInputError(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise SourceInputError(f"{name}={raw!r} must be at least {minimum:g}")
    return value


def http_limits() -> dict:
    """{"timeout": (connect, read), "max_attempts", "backoff"} from the settings (else the defaults)."""
    read = _number(HTTP_TIMEOUT_SETTING, HTTP_TIMEOUT[1], 0.1)
    return {"timeout": (min(HTTP_TIMEOUT[0], read), read),
            "max_attempts": int(_number(HTTP_MAX_ATTEMPTS_SETTING, HTTP_MAX_ATTEMPTS, 1)),
            "backoff": _number(HTTP_BACKOFF_SETTING, HTTP_BACKOFF, 0.0)}


class UpstreamError(RuntimeError):
    """An upstream API failed in a way this run cannot get past: a transient fault that outlasted
    every retry, or a terminal answer (400, 401, 403, 404 where a document must exist...).

    Raised while a resource extracts, so dlt stores no package and no state: nothing of the run
    is loaded and no cursor moves. `ingestion.pipelines.load` re-raises it unwrapped."""

    def __init__(self, message: str, *, url: Optional[str] = None, status: Optional[int] = None,
                 attempts: Optional[int] = None):
        super().__init__(message)
        self.url, self.status, self.attempts = url, status, attempts


class UpstreamAuthError(UpstreamError):
    """401, or a 403 that is not a rate limit: terminal, never retried. Check the credentials."""


class SchemaDriftError(UpstreamError):
    """A value whose type differs from its raw column's frozen type (e.g. npm `downloads` as a
    string): the load stops before writing anything, rather than adding a variant column."""


_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 408: "Request Timeout",
            409: "Conflict", 410: "Gone", 422: "Unprocessable Entity", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def _status_text(response) -> str:
    reason = response.reason or _REASONS.get(response.status_code, "")
    return f"{response.status_code} {reason}".strip()


def _excerpt(response, limit: int = 200) -> str:
    try:
        text = response.text
    except Exception:  # pragma: no cover - undecodable body
        return ""
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


def describe_error(error: BaseException, timeout: Any = None) -> str:
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return f"could not connect within {timeout[0] if isinstance(timeout, tuple) else timeout}s"
    if isinstance(error, requests.exceptions.ReadTimeout):
        return f"no answer within {timeout[1] if isinstance(timeout, tuple) else timeout}s (read timeout)"
    text = str(error)
    for marker in ("Connection reset by peer", "Connection refused", "Remote end closed connection",
                   "Connection aborted", "Name or service not known"):
        if marker in text:
            return f"{type(error).__name__}: {marker}"
    return f"{type(error).__name__}: {text[:200]}"


def _retry_after(response) -> Optional[float]:
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    import email.utils

    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time()) if moment else None


RETRY_EXCEPTIONS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


class RetryingSession(requests.Session):
    """requests.Session with a bounded timeout on every request and at most `max_attempts`
    attempts per request: transport errors (reset, refused, timeout, truncated body) and the
    `retry_statuses` are retried after `backoff * 2**(n-1)` s, or the answer's Retry-After,
    capped at `max_delay`; each retry is logged. When the attempts are spent it raises
    UpstreamError naming the URL, the attempts and the last error. Any other answer is
    returned as is (no raise_for_status): callers decide what a status means."""

    def __init__(self, *, source: str, timeout, max_attempts: int, backoff: float, max_delay: float,
                 retry_statuses, sleep=time.sleep):
        super().__init__()
        self.source = source
        self.timeout = timeout
        self.max_attempts = max(1, int(max_attempts))
        self.backoff = backoff
        self.max_delay = max_delay
        self.retry_statuses = frozenset(retry_statuses)
        self._sleep = sleep
        self.last_attempts = 0
        self.stats: Counter = Counter()

    def request(self, method, url, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, **kwargs)

    def send(self, request, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        started = time.monotonic()
        attempts = 0
        self.stats["requests"] += 1
        while True:
            attempts += 1
            self.last_attempts = attempts
            self.stats["attempts"] += 1
            try:
                response = super().send(request, **kwargs)
            except RETRY_EXCEPTIONS as error:
                reason = describe_error(error, kwargs.get("timeout"))
                if attempts >= self.max_attempts:
                    raise UpstreamError(
                        f"{self.source}: {request.method} {request.url} failed {attempts} times in "
                        f"{time.monotonic() - started:.1f}s, last: {reason}. Transient faults are retried "
                        f"{self.max_attempts} times with backoff; this one did not clear.",
                        url=request.url, attempts=attempts) from error
                wait = self.backoff * 2 ** (attempts - 1)
            else:
                response.attempts = attempts
                if response.status_code not in self.retry_statuses:
                    return response
                reason = _status_text(response)
                if attempts >= self.max_attempts:
                    raise UpstreamError(
                        f"{self.source}: {request.method} {request.url} answered {reason} {attempts} times in "
                        f"{time.monotonic() - started:.1f}s ({_excerpt(response)}). Transient faults are "
                        f"retried {self.max_attempts} times with backoff; this one did not clear.",
                        url=request.url, status=response.status_code, attempts=attempts)
                asked = _retry_after(response)
                wait = asked if asked is not None else self.backoff * 2 ** (attempts - 1)
                if asked is not None:
                    reason += f", Retry-After {asked:g}s"
                response.close()
            capped = min(wait, self.max_delay)
            note = f" (capped from {wait:.1f}s)" if capped < wait else ""
            log.warning("%s: %s %s -> %s; attempt %d of %d, retrying in %.1fs%s", self.source, request.method,
                        request.url, reason, attempts, self.max_attempts, capped, note)
            self.stats["retries"] += 1
            self.stats["slept_seconds"] += capped
            if capped > 0:
                self._sleep(capped)


def http_session(retry_429: bool = True, headers: dict[str, str] | None = None, *, source: str = "http",
                 timeout=None, max_attempts: Optional[int] = None, backoff: Optional[float] = None,
                 max_delay: float = HTTP_MAX_RETRY_DELAY, sleep=time.sleep):
    """A requests session with bounded timeouts and retries with backoff (honouring Retry-After) on
    transport errors and 5xx (and 429 unless `retry_429=False`, for callers that handle rate limits
    themselves), at most `max_attempts` attempts per request. Timeout, attempts and backoff default
    to the settings (DEVSIGNAL_HTTP_TIMEOUT, _MAX_ATTEMPTS, _BACKOFF). No raise_for_status: callers
    decide what a status means (see `check_response`)."""
    limits = http_limits()
    session = RetryingSession(
        source=source,
        timeout=timeout if timeout is not None else limits["timeout"],
        max_attempts=max_attempts if max_attempts is not None else limits["max_attempts"],
        backoff=backoff if backoff is not None else limits["backoff"],
        max_delay=max_delay,
        retry_statuses=RETRY_STATUSES + ((429,) if retry_429 else ()),
        sleep=sleep,
    )
    session.headers.update({"User-Agent": "devsignal-ingestion"})
    session.headers.update(headers or {})
    return session


def check_response(response, source: str):
    """`response` if it is a success (or a 304); else a readable UpstreamError (UpstreamAuthError
    for 401 and 403): status, URL, the start of the body, and that it is not retried."""
    if response.status_code < 400:
        return response
    url = response.request.url if response.request is not None else response.url
    method = response.request.method if response.request is not None else "GET"
    what = f"{source}: {method} {url} answered {_status_text(response)}"
    body = _excerpt(response)
    if body:
        what += f" ({body})"
    attempts = getattr(response, "attempts", None)
    if response.status_code == 401:
        raise UpstreamAuthError(what + ". Terminal, not retried: the credentials are missing, wrong or expired.",
                                url=url, status=401, attempts=attempts)
    if response.status_code == 403:
        raise UpstreamAuthError(what + ". Terminal, not retried: the credentials lack access to this resource.",
                                url=url, status=403, attempts=attempts)
    raise UpstreamError(what + ". Terminal, not retried.", url=url, status=response.status_code, attempts=attempts)


def require_int(value: Any, *, source: str, field: str, where: str) -> int:
    """`value` if it is an integer; else SchemaDriftError (a bool, float or string is drift, not data)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise SchemaDriftError(
        f"{source}: `{field}` is {type(value).__name__} {value!r} in {where}, but its raw column is an integer "
        f"(bigint) and column types are frozen (schema contract data_type: freeze). The upstream API changed the "
        f"type of this field: the load stops before anything is written, and no variant column is added. "
        f"Adapt the connector once you know what the new values mean.",
        url=where)


def unknown_fields(item: dict, known: "frozenset[str] | set[str]") -> dict[str, Optional[str]]:
    """The fields of `item` not in `known`, as text (JSON for anything but a string): a field the API
    adds becomes a new text column (never a child table, never a type conflict) and is reported."""
    extra: dict[str, Optional[str]] = {}
    for key, value in item.items():
        if key in known or value is None:
            continue
        extra[key] = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
    return extra


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
