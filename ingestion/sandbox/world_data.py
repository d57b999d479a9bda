"""Load a world folder (README "Contract 1") once and index it for the request handlers.

Only pyarrow is used to read parquet (no pandas import): it keeps start-up well under a second
on the default world. Everything is indexed into plain dicts and lists sorted the way the real
APIs list them, so a request is a dict lookup plus a slice.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from .web import as_date, iso_z


@dataclass
class Repo:
    full_name: str  # "org/repo" as the world spells it
    stargazers: list[dict] = field(default_factory=list)  # oldest star first, like GitHub
    forks: list[dict] = field(default_factory=list)  # newest first (GitHub's default sort)
    issues: list[dict] = field(default_factory=list)  # issues and pull requests, newest first
    contributors: list[dict] = field(default_factory=list)  # most contributions first
    releases: list[dict] = field(default_factory=list)  # newest first

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]


@dataclass
class World:
    root: Path
    meta: dict
    start_date: dt.date
    end_date: dt.date
    # npm
    npm_packages: set[str]
    npm_daily: dict[str, dict[dt.date, int]]
    npm_versions_last_week: dict[str, dict[str, int]]
    npm_documents: dict[str, dict]
    # pypi: package -> kind -> [(category, day, downloads)] sorted by category then day
    pypi_packages: dict[str, str]  # normalised name -> name as the world spells it
    pypi_series: dict[str, dict[str, list[tuple[str, dt.date, int]]]]
    pypi_releases: dict[str, dict[str, list[dict]]]
    # github (keys are lower-cased: GitHub logins and repo names are case-insensitive)
    users: dict[str, dict]
    orgs: dict[str, dict]
    repos: dict[str, Repo]
    missing_files: list[str]


def _read_rows(root: Path, relative: str, missing: list[str]) -> list[dict]:
    path = root / relative
    if not path.exists():
        missing.append(relative)
        return []
    return pq.ParquetFile(path).read().to_pylist()  # ParquetFile skips importing pyarrow.dataset (~1 s)


def _read_json(root: Path, relative: str, missing: list[str]) -> dict:
    path = root / relative
    if not path.exists():
        missing.append(relative)
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def _sort_key_time(value: object) -> str:
    return iso_z(value) or ""


def normalise_pypi_name(name: str) -> str:
    """pypistats and PyPI both treat `.`, `_` and `-` alike (PEP 503); PyPI also ignores case."""
    return name.replace(".", "-").replace("_", "-").lower()


def load_world(world_dir: str | Path) -> World:
    root = Path(world_dir)
    meta_path = root / "meta.json"
    if not meta_path.exists():
        raise FileNotFoundError(f"{meta_path} not found: is {root} a world folder (ingestion.world.generate)?")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    missing: list[str] = []

    # --- npm -------------------------------------------------------------------------------
    npm_daily: dict[str, dict[dt.date, int]] = defaultdict(dict)
    for row in _read_rows(root, "npm/downloads.parquet", missing):
        npm_daily[row["package"]][as_date(row["day"])] = int(row["downloads"])

    end_date = as_date(meta["end_date"])
    start_date = as_date(meta["start_date"])
    last_week_start = end_date - dt.timedelta(days=6)
    versions_last_week: dict[str, dict[str, int]] = defaultdict(dict)
    for row in _read_rows(root, "npm/version_downloads.parquet", missing):
        counts = versions_last_week[row["package"]]
        counts.setdefault(row["version"], 0)
        if last_week_start <= as_date(row["day"]) <= end_date:
            counts[row["version"]] += int(row["downloads"])

    npm_documents = _read_json(root, "npm/packages.json", missing)
    npm_packages = set(meta.get("npm_packages", [])) | set(npm_documents) | set(npm_daily)

    # --- pypi ------------------------------------------------------------------------------
    pypi_series: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    pypi_names: dict[str, str] = {}
    for row in _read_rows(root, "pypi/downloads.parquet", missing):
        pypi_names.setdefault(normalise_pypi_name(row["package"]), row["package"])
        category = "null" if row["category"] is None else str(row["category"])
        pypi_series[row["package"]][row["kind"]].append((category, as_date(row["day"]), int(row["downloads"])))
    for kinds in pypi_series.values():
        for rows in kinds.values():
            rows.sort(key=lambda r: (r[0], r[1]))
    pypi_releases = _read_json(root, "pypi/releases.json", missing)
    for name in list(meta.get("pypi_packages", [])) + list(pypi_releases):
        pypi_names.setdefault(normalise_pypi_name(name), name)

    # --- github ----------------------------------------------------------------------------
    users = {row["login"].lower(): row for row in _read_rows(root, "github/users.parquet", missing)}
    orgs = {row["login"].lower(): row for row in _read_rows(root, "github/orgs.parquet", missing)}

    repos: dict[str, Repo] = {}

    def repo_for(full_name: str) -> Repo:
        key = full_name.lower()
        if key not in repos:
            repos[key] = Repo(full_name)
        return repos[key]

    for full_name in meta.get("github_repos", []):
        repo_for(full_name)
    for row in _read_rows(root, "github/stargazers.parquet", missing):
        repo_for(row["repo"]).stargazers.append(row)
    for row in _read_rows(root, "github/forks.parquet", missing):
        repo_for(row["repo"]).forks.append(row)
    for row in _read_rows(root, "github/issues.parquet", missing):
        repo_for(row["repo"]).issues.append(row)
    for row in _read_rows(root, "github/contributors.parquet", missing):
        repo_for(row["repo"]).contributors.append(row)
    for row in _read_rows(root, "github/releases.parquet", missing):
        repo_for(row["repo"]).releases.append(row)
    for repo in repos.values():
        repo.stargazers.sort(key=lambda r: (_sort_key_time(r["starred_at"]), r["login"]))
        repo.forks.sort(key=lambda r: (_sort_key_time(r["created_at"]), r["id"]), reverse=True)
        repo.issues.sort(key=lambda r: (_sort_key_time(r["created_at"]), r["number"]), reverse=True)
        repo.contributors.sort(key=lambda r: (-int(r["contributions"]), r["login"].lower()))
        repo.releases.sort(key=lambda r: (_sort_key_time(r["published_at"]), r["id"]), reverse=True)

    return World(
        root=root,
        meta=meta,
        start_date=start_date,
        end_date=end_date,
        npm_packages=npm_packages,
        npm_daily=dict(npm_daily),
        npm_versions_last_week=dict(versions_last_week),
        npm_documents=npm_documents,
        pypi_packages=pypi_names,
        pypi_series={package: dict(kinds) for package, kinds in pypi_series.items()},
        pypi_releases=pypi_releases,
        users=users,
        orgs=orgs,
        repos=repos,
        missing_files=missing,
    )
