"""Small HTTP vocabulary shared by every upstream: a parsed request, a response, JSON and paging helpers.

The upstream modules (npm.py, pypi.py, github.py, files.py) are plain functions of a `Request`
returning a `Response`; only server.py knows about sockets. That keeps each upstream readable
and testable on its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode


@dataclass
class Request:
    method: str
    path: str  # the path after the upstream prefix, still percent-encoded (e.g. "/@scope%2Fname")
    query: dict[str, str]  # first value of each query parameter
    query_pairs: list[tuple[str, str]]  # every parameter in order, to rebuild paging links
    headers: dict[str, str]  # lower-cased names
    client_ip: str
    base_url: str  # scheme://host[:port]/prefix as the client addressed us (from its Host header)
    body: bytes = b""  # only the sandbox's own control endpoints read it

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def url_with(self, **params: object) -> str:
        """This request's own URL with some query parameters replaced (used for Link headers)."""
        pairs = [(k, v) for k, v in self.query_pairs if k not in params]
        pairs += [(k, str(v)) for k, v in params.items()]
        return f"{self.base_url}{self.path}?{urlencode(pairs, safe='@:,')}"


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    action: str = ""  # "reset": cut the connection instead of answering (fault injection)


def parse_query(raw_query: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    first: dict[str, str] = {}
    for key, value in pairs:
        first.setdefault(key, value)
    return first, pairs


def json_bytes(obj: object, sort_keys: bool = False) -> bytes:
    # Compact separators, like the real APIs (GitHub, npm and PyPI all answer without spaces).
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys).encode("utf-8")


def json_response(
    status: int,
    obj: object,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json; charset=utf-8",
    sort_keys: bool = False,
) -> Response:
    all_headers = {"Content-Type": content_type}
    all_headers.update(headers or {})
    return Response(status, json_bytes(obj, sort_keys=sort_keys), all_headers)


def text_response(status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Response:
    return Response(status, text.encode("utf-8"), {"Content-Type": content_type})


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest() + '"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison, as GitHub does: `W/"x"` matches `"x"`, `*` matches anything."""
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def stable_int(text: str, digits: int = 9) -> int:
    """A deterministic positive integer for things the world has no id for (same text -> same id)."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16) % (10**digits) + 10 ** (digits - 1)


def stable_hex(text: str, length: int = 40) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


# --- dates and timestamps: the world may store them as strings, dates or timestamps -------------


def as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def iso_z(value: object) -> str | None:
    """UTC ISO-8601 with `Z` and whole seconds (`2024-05-01T12:00:00Z`), the GitHub format."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        if not text:
            return None
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat() + "Z"


def parse_iso(text: str) -> dt.datetime | None:
    """Parse an ISO-8601 query parameter (GitHub's `since`) to a naive UTC datetime; None if invalid."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment


class Stats:
    """Thread-safe counters behind `/_sandbox/stats` (requests per prefix, statuses, 304s, limits hit)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def add(self, group: str, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[(group, name)] += amount

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            counts = dict(self._counts)
        result: dict[str, dict[str, int]] = {}
        for (group, name), value in sorted(counts.items()):
            result.setdefault(group, {})[name] = value
        return result
