"""pypistats and PyPI JSON calls shaped into rows, and the Linehaul `file_downloads` export reader."""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote

from .._common import UpstreamError, check_response, parse_date, parse_ts, require_int
from . import settings as pypi_settings

log = logging.getLogger("ingestion.sources.pypi")


class PypiNotFound(Exception):
    pass


def get_json(session, url: str, params: Optional[dict] = None) -> Any:
    """The JSON at `url`; PypiNotFound on 404, else a readable UpstreamError for any other failure."""
    response = session.get(url, params=params or None)
    if response.status_code == 404:
        raise PypiNotFound(url)
    check_response(response, "pypi")
    try:
        return response.json()
    except ValueError as error:
        raise UpstreamError(f"pypi: GET {response.url} answered {response.status_code} with a body that is not "
                            f"JSON: {response.text[:200]!r}", url=response.url) from error


def get_release_document(session, url: str) -> tuple[Any, Optional[str]]:
    """(document, X-PyPI-Last-Serial) of `/pypi/{project}/json`."""
    response = session.get(url)
    if response.status_code == 404:
        raise PypiNotFound(url)
    check_response(response, "pypi")
    try:
        return response.json(), response.headers.get("X-PyPI-Last-Serial")
    except ValueError as error:
        raise UpstreamError(f"pypi: GET {url} answered a body that is not JSON: {response.text[:200]!r}",
                            url=url) from error


def stats_rows(session, stats_url: str, package: str, since: Optional[dt.date]) -> list[dict]:
    """(package, day, kind, category, downloads) for every pypistats call, days before `since`
    skipped (pypistats takes no date parameter: every call answers its whole ~180 days). Duplicates
    across calls are collapsed. A count that is not an integer is a SchemaDriftError."""
    rows: dict[tuple, dict] = {}
    for kind, params in pypi_settings.STATS_CALLS:
        url = stats_url.rstrip("/") + pypi_settings.STATS_PATH.format(package=quote(package), kind=kind)
        body = get_json(session, url, params)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise UpstreamError(f"pypi: pypistats {url} has no `data` list (got {type(data).__name__}); the API "
                                f"changed shape", url=url)
        for point in data:
            day = parse_date(point.get("date"))
            if day is None or (since is not None and day < since):
                continue
            category = point.get("category")
            category = "null" if category is None else str(category)
            rows[(day, kind, category)] = {
                "package": package, "day": day, "kind": kind, "category": category,
                "downloads": require_int(point.get("downloads"), source="pypi", field="downloads",
                                         where=f"pypistats {url} ({day}, {category})"),
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


# --- Linehaul / BigQuery `file_downloads` exports ----------------------------------------------------

FILE_DOWNLOADS_KEY = ("package", "day", "version", "installer", "country", "python", "system", "file_type")

# our column <- the names it may have in an export (BigQuery's nested names flattened with "." or "_")
FILE_DOWNLOADS_COLUMNS: dict[str, tuple[str, ...]] = {
    "package": ("project", "file.project", "file_project", "package"),
    "day": ("day", "date", "download_date", "timestamp"),
    "version": ("version", "file.version", "file_version"),
    "installer": ("installer", "installer_name", "details.installer.name", "details_installer_name"),
    "country": ("country_code", "country"),
    "python": ("python", "python_version", "details.python", "details_python"),
    "system": ("system", "system_name", "details.system.name", "details_system_name"),
    "file_type": ("file_type", "file.type", "type", "package_type"),
    "downloads": ("downloads", "num_downloads", "download_count", "count"),
}
EXPORT_SUFFIXES = (".csv", ".csv.gz", ".parquet")


def export_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name.lower().endswith(EXPORT_SUFFIXES))


def _read_export(path: Path):
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if path.name.lower().endswith(".parquet"):
        table = pq.read_table(path)
        while any(str(f.type).startswith("struct") for f in table.schema):
            table = table.flatten()  # file.version, details.installer.name ...
        return table
    options = pacsv.ConvertOptions(strings_can_be_null=True)
    return pacsv.read_csv(path, convert_options=options)


def _python_minor(value: Optional[str]) -> Optional[str]:
    if not value:
        return None
    match = re.match(r"^(\d+)\.(\d+)", str(value))
    return f"{match.group(1)}.{match.group(2)}" if match else str(value)


def file_downloads_table(path: Path):
    """One export file -> Arrow (package, day, version, installer, country, python, system, file_type,
    downloads), summed per key. Empty keys become "null" (like pypistats' null category); rows
    without a project or a day are dropped and counted in the log."""
    import pyarrow as pa
    import pyarrow.compute as pc

    raw = _read_export(path)
    lower = {name.lower(): name for name in raw.column_names}
    picked = {ours: next((lower[c] for c in candidates if c in lower), None)
              for ours, candidates in FILE_DOWNLOADS_COLUMNS.items()}
    missing = [c for c in ("package", "day") if picked[c] is None]
    if missing:
        from .._common import SourceInputError

        raise SourceInputError(
            f"{path}: a file_downloads export needs a project and a day/timestamp column; it has "
            f"{', '.join(raw.column_names)} (looked for {', '.join(c for m in missing for c in FILE_DOWNLOADS_COLUMNS[m])})")
    n = raw.num_rows
    columns: dict[str, Any] = {}
    for ours in FILE_DOWNLOADS_KEY:
        source = picked[ours]
        if ours == "day":
            values = raw.column(source)
            if pa.types.is_timestamp(values.type) or pa.types.is_date(values.type):
                values = pc.cast(values, pa.date32())
            else:
                values = pa.array([parse_date(v) for v in values.to_pylist()], pa.date32())
            columns[ours] = values
            continue
        if source is None:
            columns[ours] = pa.array(["null"] * n, pa.string())
            continue
        values = [None if v is None else str(v) for v in raw.column(source).to_pylist()]
        if ours == "python":
            values = [_python_minor(v) for v in values]
        if ours == "package":
            columns[ours] = pa.array([v.strip().lower().replace("_", "-").replace(".", "-") if v else None
                                      for v in values], pa.string())
        else:
            columns[ours] = pa.array([v if v not in (None, "") else "null" for v in values], pa.string())
    if picked["downloads"] is not None:
        counts = pc.cast(raw.column(picked["downloads"]), pa.int64())
    else:
        counts = pa.array([1] * n, pa.int64())  # raw rows: one download each
    table = pa.table({**columns, "downloads": counts})
    keep = pc.and_(pc.is_valid(table.column("package")), pc.is_valid(table.column("day")))
    dropped = n - pc.sum(pc.cast(keep, pa.int64())).as_py() if n else 0
    if dropped:
        log.warning("pypi: %s: %d row(s) without a project or a day skipped", path, dropped)
    table = table.filter(keep)
    return table.group_by(list(FILE_DOWNLOADS_KEY)).aggregate([("downloads", "sum")]).rename_columns(
        list(FILE_DOWNLOADS_KEY) + ["downloads"])


def aggregate_exports(tables: list):
    """Every export's rows summed per key (a day exported in two files counts twice: one export per period)."""
    import pyarrow as pa

    if not tables:
        return None
    merged = pa.concat_tables(tables)
    return merged.group_by(list(FILE_DOWNLOADS_KEY)).aggregate([("downloads", "sum")]).rename_columns(
        list(FILE_DOWNLOADS_KEY) + ["downloads"])
