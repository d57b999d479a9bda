"""PyPI: daily downloads from pypistats and releases from the PyPI JSON API.

Tables of `raw_pypi`, both merge:
- `downloads` (package, day, kind, category): pypistats `overall` (mirrors true and false),
  `python_major`, `system`; a per-package cursor on `day` re-writes only the last 3 days.
- `releases` (package, version): `/pypi/{pkg}/json` `releases`, uploaded_at = first file upload.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Iterator, Optional, Sequence

import dlt
from dlt.sources import DltResource

from devsignal import settings as ds_settings

from .._common import SCHEMA_CONTRACT, http_session, parse_date
from . import settings as pypi_settings
from .helpers import PypiNotFound, get_json, release_rows, stats_rows

log = logging.getLogger("ingestion.sources.pypi")


@dlt.source(name="pypi", section="pypi", schema_contract=SCHEMA_CONTRACT)
def pypi_source(
    packages: Optional[Sequence[str]] = None,
    stats_url: Optional[str] = None,
    pypi_url: Optional[str] = None,
) -> Sequence[DltResource]:
    """PyPI downloads (pypistats) and releases (PyPI JSON API).

    Args:
        packages: project names (DEVSIGNAL_PYPI_PACKAGES).
        stats_url: pypistats base URL (DEVSIGNAL_PYPISTATS_URL).
        pypi_url: PyPI base URL (DEVSIGNAL_PYPI_URL).

    Returns:
        The resources `downloads` and `releases`.
    """
    packages = list(packages) if packages else ds_settings.get_list(pypi_settings.PACKAGES_SETTING)
    stats = (stats_url or ds_settings.get(pypi_settings.PYPISTATS_URL_SETTING)).rstrip("/")
    pypi = (pypi_url or ds_settings.get(pypi_settings.PYPI_URL_SETTING)).rstrip("/")
    session = http_session()

    @dlt.resource(name="downloads", primary_key=("package", "day", "kind", "category"),
                  write_disposition="merge",
                  columns={"day": {"data_type": "date"}, "downloads": {"data_type": "bigint"}})
    def downloads() -> Iterator[list[dict]]:
        cursors: dict = dlt.current.resource_state().setdefault("last_day", {})
        for package in packages:
            seen = parse_date(cursors.get(package))
            since = seen - dt.timedelta(days=pypi_settings.LAG_DAYS) if seen else None
            try:
                rows = stats_rows(session, stats, package, since)
            except PypiNotFound:
                log.warning("pypi: pypistats has no %s; skipped", package)
                continue
            if rows:
                cursors[package] = max(r["day"] for r in rows).isoformat()
                yield rows

    @dlt.resource(name="releases", primary_key=("package", "version"), write_disposition="merge",
                  columns={"uploaded_at": {"data_type": "timestamp"}, "package_types": {"data_type": "text"}})
    def releases() -> Iterator[list[dict]]:
        for package in packages:
            try:
                doc = get_json(session, pypi + pypi_settings.RELEASES_PATH.format(package=package))
            except PypiNotFound:
                log.warning("pypi: PyPI has no %s; skipped", package)
                continue
            rows = release_rows(package, doc)
            if rows:
                yield rows

    return downloads(), releases()


source = pypi_source
