"""npm HTTP calls and row shaping: the downloads range API, the per-version API, the registry."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from urllib.parse import quote

import pyarrow as pa

from .._common import parse_date, parse_ts
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
    response.raise_for_status()
    return response.json()


def fetch_range(session, api_url: str, package: str, start: dt.date, end: dt.date) -> pa.Table:
    """One range query as an Arrow table (package, day, downloads)."""
    path = npm_settings.RANGE_PATH.format(
        start=start.isoformat(), end=end.isoformat(), package=downloads_path_name(package)
    )
    body = get_json(session, api_url.rstrip("/") + path)
    points = body.get("downloads") or []
    days = [parse_date(p["day"]) for p in points]
    counts = [int(p.get("downloads") or 0) for p in points]
    return pa.Table.from_arrays(
        [pa.array([package] * len(days), pa.string()), pa.array(days, pa.date32()),
         pa.array(counts, pa.int64())],
        schema=DOWNLOADS_SCHEMA,
    )


def fetch_version_downloads(session, api_url: str, package: str) -> list[dict]:
    """Per-version downloads of the last week; `day` = the last day that week covers.

    The per-version answer carries no dates, so the window comes from `/downloads/point/last-week`
    (same snapshot); an `end` in the per-version answer wins when present.
    """
    base = api_url.rstrip("/")
    body = get_json(session, base + npm_settings.VERSIONS_LAST_WEEK_PATH.format(
        package=versions_path_name(package)))
    end = parse_date(body.get("end"))
    if end is None:
        point = get_json(session, base + npm_settings.POINT_LAST_WEEK_PATH.format(
            package=downloads_path_name(package)))
        end = parse_date(point.get("end"))
    if end is None:  # pragma: no cover - both npm answers carry a window
        raise ValueError(f"npm gave no window for the last-week downloads of {package}")
    per_version = body.get("downloads") or {}
    return [
        {"package": package, "version": version, "day": end, "downloads": int(count or 0)}
        for version, count in sorted(per_version.items())
    ]


def package_row(package: str, doc: dict) -> dict:
    times = doc.get("time") or {}
    repository = doc.get("repository")
    if isinstance(repository, dict):
        repository = repository.get("url")
    return {
        "package": package,
        "description": doc.get("description"),
        "latest_version": (doc.get("dist-tags") or {}).get("latest"),
        "created_at": parse_ts(times.get("created")),
        "modified_at": parse_ts(times.get("modified")),
        "homepage": doc.get("homepage") if isinstance(doc.get("homepage"), str) else None,
        "repository_url": repository if isinstance(repository, str) else None,
        "license": doc.get("license") if isinstance(doc.get("license"), str) else None,
    }


def version_rows(package: str, doc: dict) -> list[dict]:
    times = doc.get("time") or {}
    versions = doc.get("versions") or {}
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
        })
    return rows
