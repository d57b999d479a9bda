"""npm: the download-counts API (api.npmjs.org) and the registry (registry.npmjs.org).

What we rely on, from npm's public docs (github.com/npm/registry docs/download-counts.md and
docs/responses/package-metadata.md) and from responses quoted in npm's issue trackers:

- `GET /downloads/point/{period}/{package}` -> {"downloads", "start", "end", "package"}
- `GET /downloads/range/{period}/{package}` -> {"start", "end", "package", "downloads": [{"day", "downloads"}]}
  period: last-day | last-week (7 days) | last-month (30 days) | last-year (365 days) | YYYY-MM-DD |
  YYYY-MM-DD:YYYY-MM-DD; "last" means the last day with data (here: the world's end_date).
  Scoped names may be sent as `@scope/name` or `%40scope%2Fname`.
- More than 18 months is not an error: the API answers 200 and moves `start` to 18 months before `end`
  (npm/registry#206; `/downloads/point/2015-01-01:2017-11-15/free-jqgrid` answered start 2016-05-15).
  No data before 2015-01-10. A period it cannot read -> {"error": "invalid date"}; a period that ends
  before it starts (after those clamps) -> {"error": "end date > start date"}.
- Unknown package -> 404 {"error": "package <name> not found"}.
- `GET /versions/{package}/last-week` -> {"package", "downloads": {version: n}}; the scope slash must be
  percent-encoded there (`@slack%2Fclient`).
- Registry `GET /{package}` -> the full packument; with `Accept: application/vnd.npm.install-v1+json`
  the abbreviated document (name, modified, dist-tags, versions with install fields only).
  Unknown -> 404 {"error": "Not found"}.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from urllib.parse import unquote

from .web import Request, Response, json_response
from .world_data import World

EARLIEST_DATA = dt.date(2015, 1, 10)
RANGE_LIMIT_MONTHS = 18
RELATIVE_PERIODS = {"last-day": 1, "last-week": 7, "last-month": 30, "last-year": 365}
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

ABBREVIATED_MEDIA_TYPE = "application/vnd.npm.install-v1+json"
# The install fields npm documents for the abbreviated document, plus `deprecated` which npm keeps.
ABBREVIATED_VERSION_FIELDS = (
    "name", "version", "dependencies", "optionalDependencies", "devDependencies", "bundleDependencies",
    "peerDependencies", "peerDependenciesMeta", "bin", "directories", "dist", "engines", "_hasShrinkwrap",
    "deprecated",
)


class PeriodError(ValueError):
    pass


def minus_months(day: dt.date, months: int) -> dt.date:
    month_index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def resolve_period(period: str, last_day: dt.date) -> tuple[dt.date, dt.date]:
    """Turn a period into the inclusive (start, end) the real API would answer with."""
    if period in RELATIVE_PERIODS:
        return last_day - dt.timedelta(days=RELATIVE_PERIODS[period] - 1), last_day
    parts = period.split(":")
    if len(parts) not in (1, 2) or not all(DATE_RE.match(p) for p in parts):
        raise PeriodError("invalid date")
    try:
        start = dt.date.fromisoformat(parts[0])
        end = dt.date.fromisoformat(parts[-1])
    except ValueError:
        raise PeriodError("invalid date") from None
    end = min(end, last_day)  # no data after the last available day
    start = max(start, minus_months(end, RANGE_LIMIT_MONTHS), EARLIEST_DATA)
    if start > end:
        raise PeriodError("end date > start date")
    return start, end


def _error(status: int, message: str) -> Response:
    return json_response(status, {"error": message})


class NpmDownloadsApi:
    """api.npmjs.org"""

    def __init__(self, world: World):
        self.world = world

    def handle(self, request: Request) -> Response:
        parts = request.path.split("/", 4)  # ["", "downloads", "point", "{period}", "{package}"]
        if len(parts) == 5 and parts[1] == "downloads" and parts[2] in ("point", "range") and parts[4]:
            return self.downloads(parts[2], unquote(parts[3]), unquote(parts[4]))
        if request.path.startswith("/versions/") and request.path.endswith("/last-week"):
            encoded = request.path[len("/versions/"):-len("/last-week")]
            if "/" not in encoded:  # the real route needs the scope slash percent-encoded
                return self.versions_last_week(unquote(encoded))
        return _error(404, "Not found")

    def downloads(self, kind: str, period: str, package: str) -> Response:
        if "," in package:
            # Bulk queries (comma-separated names) exist upstream but the sandbox does not serve them.
            return _error(400, "bulk queries are not served by the sandbox: ask one package per request")
        if package not in self.world.npm_packages:
            return _error(404, f"package {package} not found")
        try:
            start, end = resolve_period(period, self.world.end_date)
        except PeriodError as error:
            return _error(400, str(error))
        daily = self.world.npm_daily.get(package, {})
        days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        if kind == "point":
            total = sum(daily.get(day, 0) for day in days)
            return json_response(200, {"downloads": total, "start": start.isoformat(),
                                       "end": end.isoformat(), "package": package})
        return json_response(200, {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "package": package,
            "downloads": [{"day": day.isoformat(), "downloads": daily.get(day, 0)} for day in days],
        })

    def versions_last_week(self, package: str) -> Response:
        if package not in self.world.npm_packages:
            return _error(404, f"package {package} not found")
        counts = dict(self.world.npm_versions_last_week.get(package, {}))
        for version in self.world.npm_documents.get(package, {}).get("versions", {}):
            counts.setdefault(version, 0)  # every published version is listed, even with 0 downloads
        return json_response(200, {"package": package, "downloads": counts})


def split_registry_path(raw_path: str) -> tuple[str, list[str]]:
    """`/@scope%2fname/1.0.0`, `/@scope/name`, `/%40scope%2Fname`, `/name/latest` -> (package, rest)."""
    segments = raw_path.strip("/").split("/")
    first = segments[0]
    if unquote(first).startswith("@") and "/" not in unquote(first) and len(segments) > 1:
        return unquote(first) + "/" + unquote(segments[1]), segments[2:]
    return unquote(first), segments[1:]


class NpmRegistry:
    """registry.npmjs.org"""

    def __init__(self, world: World):
        self.world = world

    def handle(self, request: Request) -> Response:
        if request.path.strip("/") == "":
            return _error(404, "Not found")
        package, rest = split_registry_path(request.path)
        document = self.world.npm_documents.get(package)
        if document is None or len(rest) > 1:
            return _error(404, "Not found")
        if rest:
            return self.version_document(document, unquote(rest[0]))
        if ABBREVIATED_MEDIA_TYPE in request.header("accept"):
            return json_response(200, abbreviated(document), content_type=ABBREVIATED_MEDIA_TYPE)
        return json_response(200, document, content_type="application/json")

    def version_document(self, document: dict, version_or_tag: str) -> Response:
        version = document.get("dist-tags", {}).get(version_or_tag, version_or_tag)
        version_document = document.get("versions", {}).get(version)
        if version_document is None:
            return _error(404, f"version not found: {version_or_tag}")
        return json_response(200, version_document, content_type="application/json")


def abbreviated(document: dict) -> dict:
    return {
        "name": document.get("name"),
        "modified": document.get("time", {}).get("modified"),
        "dist-tags": document.get("dist-tags", {}),
        "versions": {
            version: {key: data[key] for key in ABBREVIATED_VERSION_FIELDS if key in data}
            for version, data in document.get("versions", {}).items()
        },
    }
