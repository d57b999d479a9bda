"""PyPI: daily downloads from pypistats, releases from the PyPI JSON API, and (optional) the
Linehaul / BigQuery `file_downloads` exports you drop in a folder.

Tables of `raw_pypi`, all merge:
- `downloads` (package, day, kind, category): pypistats `overall` (mirrors true and false),
  `python_major`, `system`; per-package cursor on `day`, the last 3 days re-written each run.
  pypistats takes no date parameter (every call answers its ~180 days), so "only new data" is
  enforced on the rows: only days >= cursor - 3 are yielded.
- `releases` (package, version): `/pypi/{pkg}/json` `releases`, uploaded_at = first file upload;
  skipped when the project's `X-PyPI-Last-Serial` is the one already loaded.
- `file_downloads` (package, day, version, installer, country, python, system, file_type): only
  when DEVSIGNAL_PYPI_FILE_DOWNLOADS_DIR is set; every export file (CSV, CSV.gz, Parquet) summed
  per key, re-read when any file in the folder changed.

Downloads are market signals per package: nothing here attributes them to a company.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Iterator, Optional, Sequence

import dlt
from dlt.sources import DltResource

from devsignal import settings as ds_settings

from .._common import SCHEMA_CONTRACT, changed_files, http_session, parse_date, require_dir, setting
from . import settings as pypi_settings
from .helpers import (
    FILE_DOWNLOADS_KEY,
    PypiNotFound,
    aggregate_exports,
    export_files,
    file_downloads_table,
    get_release_document,
    release_rows,
    stats_rows,
)

log = logging.getLogger("ingestion.sources.pypi")


@dlt.source(name="pypi", section="pypi", schema_contract=SCHEMA_CONTRACT)
def pypi_source(
    packages: Optional[Sequence[str]] = None,
    stats_url: Optional[str] = None,
    pypi_url: Optional[str] = None,
    file_downloads_dir: Optional[str] = None,
) -> Sequence[DltResource]:
    """PyPI downloads (pypistats), releases (PyPI JSON API), and Linehaul exports if configured.

    Args:
        packages: project names (DEVSIGNAL_PYPI_PACKAGES).
        stats_url: pypistats base URL (DEVSIGNAL_PYPISTATS_URL).
        pypi_url: PyPI base URL (DEVSIGNAL_PYPI_URL).
        file_downloads_dir: folder of BigQuery `file_downloads` exports
            (DEVSIGNAL_PYPI_FILE_DOWNLOADS_DIR; empty = no `file_downloads` resource).

    Returns:
        The resources `downloads` and `releases` (and `file_downloads`).
    """
    packages = list(packages) if packages else ds_settings.get_list(pypi_settings.PACKAGES_SETTING)
    stats = (stats_url or ds_settings.get(pypi_settings.PYPISTATS_URL_SETTING)).rstrip("/")
    pypi = (pypi_url or ds_settings.get(pypi_settings.PYPI_URL_SETTING)).rstrip("/")
    exports_dir = file_downloads_dir or setting(pypi_settings.FILE_DOWNLOADS_DIR_SETTING)
    session = http_session(source="pypi")

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
                  columns={"uploaded_at": {"data_type": "timestamp"}, "package_types": {"data_type": "text"},
                           "file_count": {"data_type": "bigint"}, "yanked": {"data_type": "bool"}})
    def releases() -> Iterator[list[dict]]:
        serials: dict = dlt.current.resource_state().setdefault("last_serial", {})
        for package in packages:
            try:
                doc, serial = get_release_document(session, pypi + pypi_settings.RELEASES_PATH.format(package=package))
            except PypiNotFound:
                log.warning("pypi: PyPI has no %s; skipped", package)
                continue
            if serial and serials.get(package) == serial:
                continue  # nothing was published, yanked or edited since the last load
            rows = release_rows(package, doc)
            if rows:
                yield rows
            if serial:
                serials[package] = serial

    @dlt.resource(name="file_downloads", primary_key=FILE_DOWNLOADS_KEY, write_disposition="merge",
                  columns={"day": {"data_type": "date"}, "downloads": {"data_type": "bigint"}},
                  file_format="parquet")
    def file_downloads() -> Iterator:
        """Linehaul exports: when any file changed (name, mtime, size), every file is read again and
        summed per key, so a re-exported period overwrites its rows instead of adding to them."""
        folder = require_dir(exports_dir, pypi_settings.FILE_DOWNLOADS_DIR_SETTING)
        state = dlt.current.resource_state()
        seen: dict = state.get("files", {})
        files = export_files(folder)
        current = {path.relative_to(folder).as_posix(): path for path in files}
        changed = list(changed_files(folder, files, seen))
        if not changed and set(current) == set(seen):
            return
        table = aggregate_exports([file_downloads_table(path) for path in files])
        if table is not None and table.num_rows:
            yield table
        state["files"] = {key: [path.stat().st_mtime_ns, path.stat().st_size] for key, path in current.items()}

    resources = [downloads(), releases()]
    if exports_dir:
        resources.append(file_downloads())
    return resources


source = pypi_source
