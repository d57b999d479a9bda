"""npm: daily downloads, last-week per-version downloads, versions and package metadata.

Tables of `raw_npm` (ingestion/README.md Contract 3), all merge:
- `downloads` (package, day): `/downloads/range/{start}:{end}/{pkg}` in windows of <= 540 days
  (npm keeps 18 months per query and clamps longer ones; a clamped answer is detected and the
  missing days re-asked), Arrow batches; a per-package cursor on `day` in state: a run asks only
  for (cursor - 3 days) .. today.
- `version_downloads` (package, version, day): `/versions/{pkg}/last-week`, `day` = the last day
  of that week (a rolling 7-day total per version: never sum across days).
- `versions` (package, version) and `packages` (package): the registry document; `packages`
  carries `dist_tags` and `maintainers` as JSON.

Downloads are market signals per package: nothing here attributes them to a company.
A count that is not an integer stops the run (SchemaDriftError) before anything loads.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Iterator, Optional, Sequence

import dlt
from dlt.sources import DltResource

from devsignal import settings as ds_settings

from .._common import SCHEMA_CONTRACT, date_windows, default_start_date, http_session, parse_date, utc_today
from . import settings as npm_settings
from .helpers import (
    NpmNoData,
    NpmNotFound,
    fetch_range,
    fetch_version_downloads,
    get_json,
    package_row,
    registry_path_name,
    version_rows,
)

log = logging.getLogger("ingestion.sources.npm")


@dlt.source(name="npm", section="npm", schema_contract=SCHEMA_CONTRACT)
def npm_source(
    packages: Optional[Sequence[str]] = None,
    api_url: Optional[str] = None,
    registry_url: Optional[str] = None,
    start_date: Optional[str] = None,
    end_date: Optional[str] = None,
    max_range_days: int = npm_settings.MAX_RANGE_DAYS,
) -> Sequence[DltResource]:
    """npm downloads and registry metadata.

    Every argument defaults to its DevSignal setting, read when the source is created.

    Args:
        packages: npm package names, scoped ones as `@scope/name` (DEVSIGNAL_NPM_PACKAGES).
        api_url: the downloads API base URL (DEVSIGNAL_NPM_API_URL).
        registry_url: the registry base URL (DEVSIGNAL_NPM_REGISTRY_URL).
        start_date: first day of the download series on a first run, YYYY-MM-DD
            (DEVSIGNAL_START_DATE, else 90 days back).
        end_date: last day asked for (default today, UTC; npm answers up to its last day).
        max_range_days: longest window of one range query (npm keeps 18 months).

    Returns:
        The resources `downloads`, `version_downloads`, `versions`, `packages`.
    """
    packages = list(packages) if packages else ds_settings.get_list(npm_settings.PACKAGES_SETTING)
    api = (api_url or ds_settings.get(npm_settings.API_URL_SETTING)).rstrip("/")
    registry = (registry_url or ds_settings.get(npm_settings.REGISTRY_URL_SETTING)).rstrip("/")
    first_day = parse_date(start_date) or default_start_date(
        ds_settings.get("DEVSIGNAL_START_DATE"), npm_settings.DEFAULT_BACKFILL_DAYS)
    last_day = parse_date(end_date) or utc_today()
    session = http_session(source="npm")
    documents: dict[str, Optional[dict]] = {}

    def registry_doc(package: str) -> Optional[dict]:
        if package not in documents:
            url = registry + npm_settings.REGISTRY_DOC_PATH.format(package=registry_path_name(package))
            try:
                documents[package] = get_json(session, url)
            except NpmNotFound:
                log.warning("npm: %s is not in the registry; skipped", package)
                documents[package] = None
        return documents[package]

    @dlt.resource(name="downloads", primary_key=("package", "day"), write_disposition="merge",
                  columns={"day": {"data_type": "date"}, "downloads": {"data_type": "bigint"}},
                  file_format="parquet")
    def downloads() -> Iterator:
        """Daily downloads (Arrow tables), per-package cursor in state with a 3-day look-back."""
        cursors: dict = dlt.current.resource_state().setdefault("last_day", {})
        for package in packages:
            seen = parse_date(cursors.get(package))
            start = first_day
            if seen is not None:
                start = max(first_day, seen - dt.timedelta(days=npm_settings.LAG_DAYS))
            newest = seen
            for window_start, window_end in date_windows(start, last_day, max_range_days):
                try:
                    tables = fetch_range(session, api, package, window_start, window_end)
                except NpmNotFound:
                    log.warning("npm: no download counts for %s; skipped", package)
                    break
                except NpmNoData:
                    log.info("npm: no downloads of %s in %s..%s", package, window_start, window_end)
                    continue
                window_top = None
                for table in tables:
                    if table.num_rows:
                        top = max(table.column("day").to_pylist())
                        window_top = top if window_top is None else max(window_top, top)
                        yield table
                if window_top is not None:
                    newest = window_top if newest is None else max(newest, window_top)
                if window_top is not None and window_top < window_end:
                    break  # npm has nothing after its last day: no need to ask for later windows
            if newest is not None:
                cursors[package] = newest.isoformat()

    @dlt.resource(name="version_downloads", primary_key=("package", "version", "day"),
                  write_disposition="merge",
                  columns={"day": {"data_type": "date"}, "downloads": {"data_type": "bigint"}})
    def version_downloads() -> Iterator[list[dict]]:
        for package in packages:
            try:
                rows = fetch_version_downloads(session, api, package)
            except NpmNotFound:
                log.warning("npm: no per-version downloads for %s; skipped", package)
                continue
            if rows:
                yield rows

    @dlt.resource(name="versions", primary_key=("package", "version"), write_disposition="merge",
                  columns={"published_at": {"data_type": "timestamp"}, "deprecated": {"data_type": "text"},
                           "dist_tags": {"data_type": "text"}})
    def versions() -> Iterator[list[dict]]:
        for package in packages:
            doc = registry_doc(package)
            if doc:
                yield version_rows(package, doc)

    @dlt.resource(name="packages", primary_key="package", write_disposition="merge",
                  columns={"created_at": {"data_type": "timestamp"}, "modified_at": {"data_type": "timestamp"},
                           "description": {"data_type": "text"}, "latest_version": {"data_type": "text"},
                           "homepage": {"data_type": "text"}, "repository_url": {"data_type": "text"},
                           "license": {"data_type": "text"}, "version_count": {"data_type": "bigint"},
                           "dist_tags": {"data_type": "json"}, "maintainers": {"data_type": "json"}})
    def packages_() -> Iterator[dict]:
        for package in packages:
            doc = registry_doc(package)
            if doc:
                yield package_row(package, doc)

    return downloads(), version_downloads(), versions(), packages_()


source = npm_source
