"""PyPI: download statistics (pypistats.org) and project metadata (pypi.org JSON API).

What we rely on:
- pypistats.org/api and its source (crflynn/pypistats.org, pypistats/views/api.py):
  `/api/packages/{package}/recent[?period=day|week|month]` -> {"data": {"last_day", "last_month",
  "last_week"}, "package", "type": "recent_downloads"}; `/overall[?mirrors=true|false]` (no parameter:
  both categories), `/python_major[?version=3]`, `/python_minor[?version=3.12]`, `/system[?os=Linux]` ->
  {"data": [{"category", "date", "downloads"}], "package", "type": "<endpoint>_downloads"}, rows ordered
  by category then date. The name is normalised (`.` and `_` become `-`) and echoed normalised; the
  filter value goes through `str.title()`. Flask's jsonify sorts keys. Unknown package -> 404 with the
  body `404` (text/html) on recent and overall; python_major/python_minor/system answer 200 with an
  empty `data` list (the upstream code never 404s there). 180 days of data are kept.
- PyPI's JSON API docs (warehouse docs/api-reference/json.rst): `/pypi/{project}/json` -> {"info", "last_serial",
  "releases", "urls", "vulnerabilities"}; `/pypi/{project}/{version}/json` is the same minus `releases`.
  A name spelled differently from the project's own name is redirected (301) to it; unknown -> 404
  {"message": "Not Found"}. Responses carry `X-PyPI-Last-Serial`.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote

from .web import Request, Response, json_response, stable_int, text_response
from .world_data import World, normalise_pypi_name

RETENTION_DAYS = 180
RECENT_PERIODS = {"day": 1, "week": 7, "month": 30}
CATEGORY_ARGUMENT = {"python_major": "version", "python_minor": "version", "system": "os"}


def _not_found_text() -> Response:
    return text_response(404, "404", content_type="text/html; charset=utf-8")


class PyPIStats:
    """pypistats.org"""

    def __init__(self, world: World):
        self.world = world

    def handle(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if len(parts) != 4 or parts[:2] != ["api", "packages"]:
            return _not_found_text()
        package = unquote(parts[2]).replace(".", "-").replace("_", "-")
        endpoint = parts[3]
        world_name = self.world.pypi_packages.get(package)  # keys are normalised and lower-case
        series = self.world.pypi_series.get(world_name, {}) if world_name else {}
        if endpoint == "recent":
            return self.recent(package, series, request.query.get("period"))
        if endpoint == "overall":
            return self.overall(package, series, request.query.get("mirrors"))
        if endpoint in CATEGORY_ARGUMENT:
            wanted = request.query.get(CATEGORY_ARGUMENT[endpoint])
            rows = self._kept(series.get(endpoint, []))
            if wanted is not None:
                rows = sorted((r for r in rows if r[0] == wanted.title()), key=lambda r: r[1])
            return self._series_response(package, f"{endpoint}_downloads", rows)
        return _not_found_text()

    def _kept(self, rows: list[tuple[str, dt.date, int]]) -> list[tuple[str, dt.date, int]]:
        first_kept = self.world.end_date - dt.timedelta(days=RETENTION_DAYS - 1)
        return [r for r in rows if r[1] >= first_kept]

    def _series_response(self, package: str, type_name: str, rows: list) -> Response:
        data = [{"category": c, "date": d.isoformat(), "downloads": n} for c, d, n in rows]
        return json_response(200, {"data": data, "package": package, "type": type_name},
                             content_type="application/json", sort_keys=True)

    def recent(self, package: str, series: dict, period: str | None) -> Response:
        if period is not None and period not in RECENT_PERIODS:
            return _not_found_text()
        daily = [r for r in series.get("overall", []) if r[0] == "without_mirrors"]
        if not daily:
            return _not_found_text()
        end = self.world.end_date
        data = {}
        for name, days in RECENT_PERIODS.items():
            if period in (None, name):
                first = end - dt.timedelta(days=days - 1)
                data[f"last_{name}"] = sum(n for _, day, n in daily if first <= day <= end)
        return json_response(200, {"data": data, "package": package, "type": "recent_downloads"},
                             content_type="application/json", sort_keys=True)

    def overall(self, package: str, series: dict, mirrors: str | None) -> Response:
        rows = self._kept(series.get("overall", []))
        if mirrors in ("true", "false"):
            category = "with_mirrors" if mirrors == "true" else "without_mirrors"
            rows = sorted((r for r in rows if r[0] == category), key=lambda r: r[1])
        if not rows:
            return _not_found_text()
        return self._series_response(package, "overall_downloads", rows)


# --- pypi.org JSON API --------------------------------------------------------------------------


def version_numbers(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version.split("+")[0]))


def is_prerelease(version: str) -> bool:
    return re.search(r"(a|b|rc|dev|alpha|beta|pre)\d*", version.lower()) is not None


def latest_version(releases: dict[str, list[dict]]) -> str | None:
    """PyPI's `info.version`: the highest final release with files (good enough ordering for a world)."""
    candidates = [v for v, files in releases.items() if files] or list(releases)
    finals = [v for v in candidates if not is_prerelease(v)] or candidates
    return max(finals, key=version_numbers) if finals else None


class PyPI:
    """pypi.org (JSON API only)"""

    def __init__(self, world: World):
        self.world = world

    def handle(self, request: Request) -> Response:
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        if len(parts) not in (3, 4) or parts[0] != "pypi" or parts[-1] != "json":
            return self._not_found()
        requested = parts[1]
        name = self.world.pypi_packages.get(normalise_pypi_name(requested))
        releases = self.world.pypi_releases.get(name) if name else None
        if releases is None:
            return self._not_found()
        if requested != name:
            # Warehouse redirects every other spelling to the project's own name.
            location = f"{request.base_url}/pypi/{name}/" + ("json" if len(parts) == 3 else f"{parts[2]}/json")
            return Response(301, b"", {"Location": location, "Content-Type": "text/plain"})
        version = latest_version(releases) if len(parts) == 3 else parts[2]
        if version not in releases:
            return self._not_found()
        serial = stable_int(f"pypi-serial:{name}", digits=8)
        body: dict = {"info": self.info(name, version, releases[version]), "last_serial": serial}
        if len(parts) == 3:
            body["releases"] = releases
        body["urls"] = releases[version]
        body["vulnerabilities"] = []
        return json_response(200, body, headers={"X-PyPI-Last-Serial": str(serial)},
                             content_type="application/json")

    @staticmethod
    def _not_found() -> Response:
        return json_response(404, {"message": "Not Found"}, content_type="application/json")

    @staticmethod
    def info(name: str, version: str, files: list[dict]) -> dict:
        # The world carries no package metadata beyond its files: fields keep the values PyPI gives
        # a project that declared nothing ("" for strings it always has, null for the optional ones).
        requires_python = next((f.get("requires_python") for f in files if f.get("requires_python")), None)
        return {
            "author": "",
            "author_email": "",
            "bugtrack_url": None,
            "classifiers": [],
            "description": "",
            "description_content_type": None,
            "docs_url": None,
            "download_url": "",
            "downloads": {"last_day": -1, "last_month": -1, "last_week": -1},
            "home_page": "",
            "keywords": "",
            "license": "",
            "maintainer": "",
            "maintainer_email": "",
            "name": name,
            "package_url": f"https://pypi.org/project/{name}/",
            "platform": None,
            "project_url": f"https://pypi.org/project/{name}/",
            "project_urls": None,
            "release_url": f"https://pypi.org/project/{name}/{version}/",
            "requires_dist": None,
            "requires_python": requires_python,
            "summary": "",
            "version": version,
            "yanked": False,
            "yanked_reason": None,
        }
