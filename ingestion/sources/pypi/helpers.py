"""pypistats and PyPI JSON calls, shaped into rows."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Optional
from urllib.parse import quote

from .._common import parse_date, parse_ts
from . import settings as pypi_settings

log = logging.getLogger("ingestion.sources.pypi")


class PypiNotFound(Exception):
    pass


def get_json(session, url: str, params: Optional[dict] = None) -> Any:
    response = session.get(url, params=params or None)
    if response.status_code == 404:
        raise PypiNotFound(url)
    response.raise_for_status()
    return response.json()


def stats_rows(session, stats_url: str, package: str, since: Optional[dt.date]) -> list[dict]:
    """(package, day, kind, category, downloads) for every pypistats call, newest first skipped
    when older than `since`. Duplicates across calls (overall with/without mirrors answered in
    one call by some servers) are collapsed."""
    rows: dict[tuple, dict] = {}
    for kind, params in pypi_settings.STATS_CALLS:
        url = stats_url.rstrip("/") + pypi_settings.STATS_PATH.format(package=quote(package), kind=kind)
        body = get_json(session, url, params)
        for point in body.get("data") or []:
            day = parse_date(point.get("date"))
            if day is None or (since is not None and day < since):
                continue
            category = point.get("category")
            category = "null" if category is None else str(category)
            rows[(day, kind, category)] = {
                "package": package, "day": day, "kind": kind, "category": category,
                "downloads": int(point.get("downloads") or 0),
            }
    return list(rows.values())


def release_rows(package: str, doc: dict) -> list[dict]:
    """One row per version: the first upload time of its files, file count, yanked."""
    rows = []
    for version, files in (doc.get("releases") or {}).items():
        files = files or []
        uploads = [parse_ts(f.get("upload_time_iso_8601") or f.get("upload_time")) for f in files]
        uploads = [u for u in uploads if u is not None]
        rows.append({
            "package": package,
            "version": version,
            "uploaded_at": min(uploads) if uploads else None,
            "file_count": len(files),
            "package_types": ",".join(sorted({f.get("packagetype") for f in files if f.get("packagetype")})) or None,
            "yanked": bool(files) and all(bool(f.get("yanked")) for f in files),
        })
    return rows
