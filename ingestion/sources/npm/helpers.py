"""npm HTTP calls and row shaping: the downloads range API, the per-version API, the registry."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from urllib.parse import quote

import pyarrow as pa

from .._common import UpstreamError, check_response, date_windows, parse_date, parse_ts, require_int
from . import settings as npm_settings

log = logging.getLogger("ingestion.sources.npm")

DOWNLOADS_SCHEMA = pa.schema([
    pa.field("package", pa.string(), nullable=False),
    pa.field("day", pa.date32(), nullable=False),
    pa.field("downloads", pa.int64()),
])


def registry_path_name(package: str) -> str:
    """`@scope/name` -> `@scope%2Fname`, the form the registry documents (and the npm CLI sends)."""
    return quote(package, safe="@")


def downloads_path_name(package: str) -> str:
    """The downloads API takes `@scope/name` as is (its docs and every client send the slash)."""
    return quote(package, safe="@/")


def versions_path_name(package: str) -> str:
    """The per-version API needs the scope's slash encoded: `@scope%2Fname`."""
    return quote(package, safe="@")


class NpmNotFound(Exception):
    pass


class NpmNoData(Exception):
    """The window holds no data (npm answers 400 "end date > start date" once it has clamped
    the window to the days it has, e.g. a window entirely after its last day)."""


def get_json(session, url: str) -> Any:
    """The JSON at `url`; NpmNotFound on 404, NpmNoData on npm's "end date > start date", else a
    readable UpstreamError for any other failure (the session already retried what is transient)."""
    response = session.get(url)
    if response.status_code == 404:
        raise NpmNotFound(url)
    if response.status_code == 400:
        try:
            error = str(response.json().get("error", ""))
        except ValueError:
            error = ""
        if "end date > start date" in error:
            raise NpmNoData(url)
    check_response(response, "npm")
    try:
        return response.json()
    except ValueError as error:
        raise UpstreamError(f"npm: GET {url} answered {response.status_code} with a body that is not JSON: "
                            f"{response.text[:200]!r}", url=url, status=response.status_code) from error


def range_url(api_url: str, package: str, start: dt.date, end: dt.date) -> str:
    return api_url.rstrip("/") + npm_settings.RANGE_PATH.format(
        start=start.isoformat(), end=end.isoformat(), package=downloads_path_name(package))


def downloads_table(package: str, body: dict, url: str) -> pa.Table:
    """(package, day, downloads) from a range answer; every count must be an integer."""
    points = body.get("downloads")
    if not isinstance(points, list):
        raise UpstreamError(f"npm: {url} has no `downloads` list (got {type(points).__name__}); the range API "
                            f"changed shape", url=url)
    days, counts = [], []
    for point in points:
        day = parse_date(point.get("day"))
        days.append(day)
        counts.append(require_int(point.get("downloads"), source="npm", field="downloads",
                                  where=f"{url} (day {day})"))
    return pa.Table.from_arrays(
        [pa.array([package] * len(days), pa.string()), pa.array(days, pa.date32()), pa.array(counts, pa.int64())],
        schema=DOWNLOADS_SCHEMA,
    )


def fetch_range(session, api_url: str, package: str, start: dt.date, end: dt.date, _depth: int = 0) -> list[pa.Table]:
    """The daily downloads of [start, end] (one window, <= MAX_RANGE_DAYS) as Arrow tables.

    npm answers an over-long range with 200 and a `start` moved later (it keeps 18 months). The
    windows are cut short enough never to rely on that, but if an answer starts later than asked
    (and later than npm's first day of data), the days it left out are asked again in halves, so a
    clamp never leaves a silent gap; after MAX_CLAMP_SPLITS halvings it is an UpstreamError.
    """
    url = range_url(api_url, package, start, end)
    body = get_json(session, url)
    tables = [downloads_table(package, body, url)]
    answered = parse_date(body.get("start"))
    floor = max(start, dt.date.fromisoformat(npm_settings.EARLIEST_DATA))
    if answered is not None and answered > floor:
        if _depth >= npm_settings.MAX_CLAMP_SPLITS:
            raise UpstreamError(f"npm: {url} keeps answering from {answered} instead of {start}, even for a "
                                f"{(end - start).days + 1}-day window: the range limit changed", url=url)
        missing_end = answered - dt.timedelta(days=1)
        half = max(1, ((missing_end - floor).days + 1 + 1) // 2)
        log.warning("npm: %s answered from %s, not %s (npm clamped the range): asking for %s..%s again in "
                    "windows of %d days", url, answered, start, floor, missing_end, half)
        for window_start, window_end in date_windows(floor, missing_end, half):
            try:
                tables += fetch_range(session, api_url, package, window_start, window_end, _depth + 1)
            except NpmNoData:
                continue
    return tables


def fetch_version_downloads(session, api_url: str, package: str) -> list[dict]:
    """Per-version downloads of the last week; `day` = the last day that week covers.

    The per-version answer carries no dates, so the window comes from `/downloads/point/last-week`
    (same snapshot); an `end` in the per-version answer wins when present.
    """
    base = api_url.rstrip("/")
    url = base + npm_settings.VERSIONS_LAST_WEEK_PATH.format(package=versions_path_name(package))
    body = get_json(session, url)
    end = parse_date(body.get("end"))
    if end is None:
        point = get_json(session, base + npm_settings.POINT_LAST_WEEK_PATH.format(
            package=downloads_path_name(package)))
        end = parse_date(point.get("end"))
    if end is None:  # pragma: no cover - both npm answers carry a window
        raise UpstreamError(f"npm gave no window for the last-week downloads of {package}", url=url)
    per_version = body.get("downloads") or {}
    if not isinstance(per_version, dict):
        raise UpstreamError(f"npm: {url} `downloads` is {type(per_version).__name__}, not a map of versions",
                            url=url)
    return [
        {"package": package, "version": version, "day": end,
         "downloads": require_int(count, source="npm", field="downloads", where=f"{url} (version {version})")}
        for version, count in sorted(per_version.items())
    ]


def package_row(package: str, doc: dict) -> dict:
    """One row per package. `dist_tags` ({tag: version}) and `maintainers` ([{name, email}], as the
    registry lists them) are JSON: they are replaced whole on every run, so a removed tag or
    maintainer disappears (child tables under merge would keep them)."""
    times = doc.get("time") or {}
    repository = doc.get("repository")
    if isinstance(repository, dict):
        repository = repository.get("url")
    tags = doc.get("dist-tags") or {}
    maintainers = [
        {"name": m.get("name"), "email": m.get("email")} if isinstance(m, dict) else {"name": str(m), "email": None}
        for m in (doc.get("maintainers") or [])
    ]
    return {
        "package": package,
        "description": doc.get("description"),
        "latest_version": tags.get("latest"),
        "created_at": parse_ts(times.get("created")),
        "modified_at": parse_ts(times.get("modified")),
        "homepage": doc.get("homepage") if isinstance(doc.get("homepage"), str) else None,
        "repository_url": repository if isinstance(repository, str) else None,
        "license": doc.get("license") if isinstance(doc.get("license"), str) else None,
        "version_count": len(doc.get("versions") or {}),
        "dist_tags": {str(k): str(v) for k, v in tags.items()},
        "maintainers": maintainers,
    }


def version_rows(package: str, doc: dict) -> list[dict]:
    times = doc.get("time") or {}
    versions = doc.get("versions") or {}
    tags = doc.get("dist-tags") or {}
    names = list(versions) or [v for v in times if v not in ("created", "modified", "unpublished")]
    rows = []
    for version in names:
        meta = versions.get(version) or {}
        deprecated = meta.get("deprecated")
        rows.append({
            "package": package,
            "version": version,
            "published_at": parse_ts(times.get(version)),
            "deprecated": deprecated if isinstance(deprecated, str) and deprecated else None,
            "dist_tags": ",".join(sorted(tag for tag, v in tags.items() if v == version)) or None,
        })
    return rows
