"""Replay a world's Segment archive into a Segment-compatible intake, the way a Segment library sends it.

Segment's HTTP Tracking API (segment.com/docs/connections/sources/catalog/libraries/server/http-api/):
`POST /v1/batch` with {"batch": [calls...], "sentAt": ISO-8601}, HTTP Basic auth with the write key as
the user name and an empty password, at most 500 KB per batch and 32 KB per call. Each call keeps
its own `type`, `messageId` and `timestamp`, so replaying the same archive twice sends the same
messageIds (the intake's dedup key).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import requests

from .files import segment_files_in_order

MAX_BATCH_BYTES = 500 * 1024
RETRYABLE_STATUSES = {429, 500, 502, 503, 504}


@dataclass
class ReplaySummary:
    calls: int = 0
    batches: int = 0
    retries: int = 0


class ReplayError(RuntimeError):
    pass


def iter_segment_calls(world_dir: str | Path) -> Iterator[dict]:
    """Every call of the archive, in time order (files by day and number, lines in file order)."""
    archive = Path(world_dir) / "segment" / "archive"
    for path in segment_files_in_order(archive):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    yield json.loads(line)


def _batches(calls: Iterator[dict], batch_size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    size = 0
    for call in calls:
        call_size = len(json.dumps(call, separators=(",", ":")).encode("utf-8")) + 1
        if batch and (len(batch) >= batch_size or size + call_size > MAX_BATCH_BYTES - 1024):
            yield batch
            batch, size = [], 0
        batch.append(call)
        size += call_size
    if batch:
        yield batch


def _sent_at() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def replay_segment(
    world_dir: str | Path,
    target_url: str,
    write_key: str,
    batch_size: int = 100,
    max_attempts: int = 5,
    timeout: float = 30.0,
    session: requests.Session | None = None,
) -> ReplaySummary:
    """POST the archive's calls to `target_url` (a base URL, or the full `.../v1/batch` URL).

    Retries 429 and 5xx (waiting `Retry-After` when given) and connection errors; any other
    non-2xx answer stops the replay with the intake's own reason.
    """
    endpoint = target_url if target_url.rstrip("/").endswith("/v1/batch") else target_url.rstrip("/") + "/v1/batch"
    http = session or requests.Session()
    summary = ReplaySummary()
    for batch in _batches(iter_segment_calls(world_dir), batch_size):
        for attempt in range(1, max_attempts + 1):
            wait = min(0.5 * 2 ** (attempt - 1), 10.0)
            try:
                response = http.post(endpoint, json={"batch": batch, "sentAt": _sent_at()},
                                     auth=(write_key, ""), timeout=timeout)
            except requests.ConnectionError as error:
                if attempt == max_attempts:
                    raise ReplayError(f"{endpoint} unreachable after {attempt} attempts: {error}") from error
            else:
                if response.ok:
                    break
                if response.status_code not in RETRYABLE_STATUSES or attempt == max_attempts:
                    raise ReplayError(f"{endpoint} answered {response.status_code}: {response.text[:500]}")
                retry_after = response.headers.get("Retry-After", "")
                if retry_after.isdigit():
                    wait = float(retry_after)
            summary.retries += 1
            time.sleep(wait)
        summary.calls += len(batch)
        summary.batches += 1
    return summary
