"""The vendor's packages: release histories, registry documents, and market-level download series.

Downloads are not attributed to anyone: daily totals with weekday seasonality, growth, noise and a bump
after each release. npm's per-version series splits each day's total across the published versions
(newest versions take over), so they sum exactly to the daily totals.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ingestion.world import vocab
from ingestion.world.common import DAY, Window, hex_token, iso_millis, rng_for, write_json, write_parquet
from ingestion.world.people import VENDOR, People, Spells
from ingestion.world.truth import IdentifierLog

# package → (days of history before the window's end, mean days between releases, daily downloads at the start)
NPM_HISTORY = {"@forgeflow/sdk": (1000, 26, 14_000), "forgeflow-cli": (720, 34, 3_800)}
PYPI_HISTORY = {"forgeflow": (820, 30, 5_200), "forgeflow-airflow": (300, 45, 650)}
DESCRIPTIONS = {
    "@forgeflow/sdk": "Forgeflow SDK for JavaScript and TypeScript: trigger, observe and cache pipeline runs.",
    "forgeflow-cli": "The Forgeflow command line: run pipelines locally and in CI.",
    "forgeflow": "Forgeflow SDK for Python.",
    "forgeflow-airflow": "Run Forgeflow pipelines from Apache Airflow.",
}
REPO_OF = {"@forgeflow/sdk": "forgeflow/forgeflow", "forgeflow-cli": "forgeflow/forgeflow",
           "forgeflow": "forgeflow/forgeflow-python", "forgeflow-airflow": "forgeflow/forgeflow-python"}
GITHUB_ACTIONS_PUBLISHER = {"name": "GitHub Actions", "email": "npm-oidc-no-reply@github.com"}


@dataclass
class Release:
    package: str
    version: str
    published: int  # epoch seconds
    prerelease: bool


def release_history(seed: int, window: Window) -> dict[str, list[Release]]:
    """Versions and publish times per package (npm and PyPI), oldest first; a few fall inside the window."""
    rng = rng_for(seed, "releases")
    history: dict[str, list[Release]] = {}
    for package, (age_days, gap_days, _) in {**NPM_HISTORY, **PYPI_HISTORY}.items():
        created = window.end - age_days * DAY + int(rng.integers(9, 18)) * 3600
        major, minor, patch = 0, 1, 0
        times = [created]
        while True:
            step = int(rng.exponential(gap_days * DAY)) + 3 * 3600
            if times[-1] + step > window.end - 6 * 3600:
                break
            times.append(times[-1] + step)
        releases = []
        for index, published in enumerate(times):
            if index:
                bump = rng.random()
                if bump < 0.05 and len(times) > 10 and major < 3 and index > len(times) // 3:
                    major, minor, patch = major + 1, 0, 0
                elif bump < 0.3:
                    minor, patch = minor + 1, 0
                else:
                    patch += 1
            releases.append(Release(package, f"{major}.{minor}.{patch}", published, False))
        if rng.random() < 0.7:  # a beta of the next minor, published after the latest
            beta_time = min(releases[-1].published + int(rng.integers(1, 6)) * DAY, window.end - 3600)
            if beta_time > releases[-1].published:
                beta = f"{major}.{minor + 1}.0" + ("-beta.1" if package in NPM_HISTORY else "b1")  # semver / PEP 440
                releases.append(Release(package, beta, beta_time, True))
        history[package] = releases
    return history


def _maintainers(people: People, spells: Spells) -> list[dict]:
    """Three vendor staff maintain the packages; one publishes from a personal npm account."""
    staff = np.flatnonzero(people.kind == VENDOR)[:3]
    work_email = {int(person): spells.work_email[index] for index, person in enumerate(spells.person.tolist())}
    maintainers = []
    for rank, person in enumerate(staff.tolist()):
        email = work_email[person]
        if rank == 2 and people.personal_email[person]:
            email = people.personal_email[person]
        name = people.github_login[person].lower() if people.github_login[person] else f"forgeflow-{rank}"
        maintainers.append({"name": name, "email": email, "person": person})
    return maintainers


def _semver_key(version: str) -> tuple:
    """Order versions: 1.2.0-beta.1 (npm) and 1.2.0b1 (PyPI) sort before 1.2.0."""
    core = version.split("-")[0].split("b")[0]
    return tuple(int(part) for part in core.split(".")) + ((1,) if core == version else (0, version))


def write_npm(out: Path, seed: int, window: Window, history: dict[str, list[Release]], people: People,
              spells: Spells, identifiers: IdentifierLog) -> None:
    rng = rng_for(seed, "npm")
    maintainers = _maintainers(people, spells)
    public_maintainers = [{"name": m["name"], "email": m["email"]} for m in maintainers]
    for maintainer in maintainers:
        identifiers.add(maintainer["person"], "email", maintainer["email"])

    documents = {}
    for package in vocab.NPM_PACKAGES:
        releases = history[package]
        short = package.split("/")[-1]
        repository = {"type": "git", "url": "git+https://github.com/forgeflow/forgeflow.git",
                      "directory": f"packages/{short}"}
        versions, times = {}, {}
        stamps = iso_millis(np.array([release.published * 1000 + int(rng.integers(0, 1000)) for release in releases]))
        for release, stamp in zip(releases, stamps):
            publisher = public_maintainers[int(rng.integers(len(public_maintainers)))]
            if release.published > window.end - 240 * DAY and rng.random() < 0.6:
                publisher = GITHUB_ACTIONS_PUBLISHER  # newer versions are published from CI with provenance
            integrity = base64.b64encode(rng.bytes(64)).decode()
            doc = {
                "name": package, "version": release.version, "description": DESCRIPTIONS[package],
                "main": "dist/index.js", "types": "dist/index.d.ts",
                "scripts": {"build": "tsup", "test": "vitest run"},
                "repository": repository, "author": {"name": "Forgeflow", "url": f"https://{vocab.VENDOR_DOMAIN}"},
                "license": "Apache-2.0", "engines": {"node": ">=18"},
                "dependencies": {"undici": "^6.13.0", "zod": "^3.23.4"},
                "gitHead": hex_token(rng, 40), "_id": f"{package}@{release.version}",
                "_nodeVersion": "20.12.2", "_npmVersion": "10.5.0",
                "dist": {
                    "integrity": f"sha512-{integrity}", "shasum": hex_token(rng, 40),
                    "tarball": f"https://registry.npmjs.org/{package}/-/{short}-{release.version}.tgz",
                    "fileCount": int(rng.integers(20, 90)), "unpackedSize": int(rng.integers(80_000, 400_000)),
                    "signatures": [{"keyid": "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA",
                                    "sig": "MEUCIQ" + base64.b64encode(rng.bytes(60)).decode()}],
                },
                "_npmUser": publisher, "directories": {}, "maintainers": public_maintainers,
                "_hasShrinkwrap": False,
            }
            if package == "forgeflow-cli":
                doc["bin"] = {"forgeflow": "bin/forgeflow.js"}
                doc["dependencies"] = {"@forgeflow/sdk": "^2.0.0", "commander": "^12.0.0"}
            versions[release.version] = doc
            times[release.version] = stamp
        stable = [release.version for release in releases if not release.prerelease]
        dist_tags = {"latest": max(stable, key=_semver_key)}
        prereleases = [release.version for release in releases if release.prerelease]
        if prereleases:
            dist_tags["next"] = prereleases[-1]
        last = max(release.published for release in releases)
        documents[package] = {
            "_id": package, "_rev": f"{len(releases) + 3}-{hex_token(rng, 32)}", "name": package,
            "description": DESCRIPTIONS[package], "dist-tags": dist_tags, "versions": versions,
            "time": {"created": times[releases[0].version], "modified": iso_millis(np.array([last * 1000 + 61_234]))[0],
                     **times},
            "maintainers": public_maintainers, "author": {"name": "Forgeflow", "url": f"https://{vocab.VENDOR_DOMAIN}"},
            "repository": repository, "homepage": f"https://{vocab.VENDOR_DOMAIN}/docs",
            "bugs": {"url": "https://github.com/forgeflow/forgeflow/issues"},
            "keywords": ["pipelines", "ci", "build", "cache", "forgeflow"], "license": "Apache-2.0",
            "readme": f"# {package}\n\n{DESCRIPTIONS[package]}\n\n```sh\nnpm install {package}\n```\n",
            "readmeFilename": "README.md",
        }
    write_json(out / "packages.json", documents)

    days = np.arange(window.days)
    totals = {package: _daily_series(rng, window, days, base, history[package], weekend=0.45)
              for package, (_, _, base) in NPM_HISTORY.items()}
    write_parquet(out / "downloads.parquet", {
        "package": [package for package in vocab.NPM_PACKAGES for _ in days],
        "day": [window.day(day) for _ in vocab.NPM_PACKAGES for day in days],
        "downloads": np.concatenate([totals[package] for package in vocab.NPM_PACKAGES]),
    }, pa.schema([("package", pa.string()), ("day", pa.date32()), ("downloads", pa.int64())]))

    rows_package, rows_version, rows_day, rows_downloads = [], [], [], []
    for package in vocab.NPM_PACKAGES:
        for day in days.tolist():
            moment = window.start + (day + 1) * DAY
            published = [release for release in history[package] if release.published < moment]
            split = _version_split(totals[package][day], published, moment)
            for release, count in sorted(zip(published, split), key=lambda item: _semver_key(item[0].version)):
                rows_package.append(package)
                rows_version.append(release.version)
                rows_day.append(window.day(day))
                rows_downloads.append(count)
    write_parquet(out / "version_downloads.parquet", {
        "package": rows_package, "version": rows_version, "day": rows_day, "downloads": rows_downloads,
    }, pa.schema([("package", pa.string()), ("version", pa.string()), ("day", pa.date32()),
                  ("downloads", pa.int64())]))


def _daily_series(rng: np.random.Generator, window: Window, days: np.ndarray, base: float,
                  releases: list[Release], weekend: float) -> np.ndarray:
    growth = np.log(1 + rng.uniform(0.1, 0.35)) * days / max(window.days, 1)
    season = np.where(window.weekday_of(days) >= 5, weekend, 1.0)
    noise = rng.lognormal(0, 0.07, size=len(days))
    bump = np.zeros(len(days))
    for release in releases:  # a new release brings upgrades for a few days
        since = days - (release.published - window.start) / DAY
        bump += np.where(since >= 0, 0.12 * np.exp(-since / 3), 0.0)
    return np.round(base * np.exp(growth) * season * noise * (1 + bump)).astype("int64")


def _version_split(total: int, published: list[Release], moment: int) -> list[int]:
    """Split a day's downloads over versions: newest stable versions dominate; prereleases get a sliver."""
    if not published:
        return []
    ordered = sorted(range(len(published)), key=lambda i: published[i].published, reverse=True)
    weights = np.zeros(len(published))
    stable_rank = 0
    for index in ordered:
        release = published[index]
        ramp = min(1.0, (moment - release.published) / (5 * DAY))  # upgrades take a few days
        if release.prerelease:
            weights[index] = 0.02 * ramp
        else:
            weights[index] = (0.5 ** stable_rank) * (ramp if stable_rank == 0 else 1.0)
            stable_rank += 1
    weights = weights / weights.sum()
    counts = np.floor(weights * total).astype("int64")
    counts[int(np.argmax(weights))] += total - counts.sum()  # exact sum
    return counts.tolist()


def write_pypi(out: Path, seed: int, window: Window, history: dict[str, list[Release]], people: People,
               spells: Spells, identifiers: IdentifierLog) -> None:
    rng = rng_for(seed, "pypi")
    maintainer = _maintainers(people, spells)[0]
    identifiers.add(maintainer["person"], "email", maintainer["email"])

    releases_doc, info_doc = {}, {}
    for package in vocab.PYPI_PACKAGES:
        dist_name = package.replace("-", "_")
        files_by_version = {}
        yanked_version = history[package][len(history[package]) // 2].version if len(history[package]) > 4 else None
        for release in history[package]:
            files = []
            for offset, (kind, filename, python) in enumerate((
                    ("sdist", f"{dist_name}-{release.version}.tar.gz", "source"),
                    ("bdist_wheel", f"{dist_name}-{release.version}-py3-none-any.whl", "py3"))):
                uploaded = release.published + offset * 7 + int(rng.integers(0, 5))
                micro = int(rng.integers(0, 1_000_000))
                moment = dt.datetime.fromtimestamp(uploaded, tz=dt.timezone.utc).replace(tzinfo=None)
                sha256, blake = hex_token(rng, 64), hex_token(rng, 64)
                md5 = hex_token(rng, 32)
                yanked = release.version == yanked_version
                files.append({
                    "comment_text": "", "digests": {"blake2b_256": blake, "md5": md5, "sha256": sha256},
                    "downloads": -1, "filename": filename, "has_sig": False, "md5_digest": md5,
                    "packagetype": kind, "python_version": python, "requires_python": ">=3.9",
                    "size": int(rng.integers(20_000, 140_000)),
                    "upload_time": moment.strftime("%Y-%m-%dT%H:%M:%S"),
                    "upload_time_iso_8601": moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{micro:06d}Z",
                    "url": f"https://files.pythonhosted.org/packages/{blake[:2]}/{blake[2:4]}/{blake[4:]}/{filename}",
                    "yanked": yanked, "yanked_reason": "Broken import on Python 3.9" if yanked else None,
                })
            files_by_version[release.version] = files
        releases_doc[package] = files_by_version
        stable = [release.version for release in history[package] if not release.prerelease]
        latest = max(stable, key=_semver_key)
        info_doc[package] = {
            "author": "Forgeflow", "author_email": f"Forgeflow Team <team@{vocab.VENDOR_DOMAIN}>",
            "bugtrack_url": None,
            "classifiers": ["License :: OSI Approved :: Apache Software License",
                            "Programming Language :: Python :: 3"],
            "description": f"# {package}\n\n{DESCRIPTIONS[package]}\n", "description_content_type": "text/markdown",
            "docs_url": None, "download_url": None, "home_page": f"https://{vocab.VENDOR_DOMAIN}",
            "keywords": "pipelines,ci,forgeflow", "license": "Apache-2.0", "maintainer": None,
            "maintainer_email": maintainer["email"], "name": package,
            "package_url": f"https://pypi.org/project/{package}/", "platform": None,
            "project_url": f"https://pypi.org/project/{package}/",
            "project_urls": {"Documentation": f"https://{vocab.VENDOR_DOMAIN}/docs/sdk/python",
                             "Source": f"https://github.com/{REPO_OF[package]}"},
            "release_url": f"https://pypi.org/project/{package}/{latest}/",
            "requires_dist": ["httpx>=0.27", "pydantic>=2"] + (["apache-airflow>=2.7"] if "airflow" in package else []),
            "requires_python": ">=3.9", "summary": DESCRIPTIONS[package], "version": latest,
            "yanked": False, "yanked_reason": None,
        }
    write_json(out / "releases.json", releases_doc)
    write_json(out / "info.json", info_doc)

    days = np.arange(window.days)
    columns: dict[str, list] = {"package": [], "day": [], "kind": [], "category": [], "downloads": []}
    for package in vocab.PYPI_PACKAGES:
        _, _, base = PYPI_HISTORY[package]
        without = _daily_series(rng, window, days, base, history[package], weekend=0.65)
        with_mirrors = np.round(without * rng.uniform(1.05, 1.25, size=len(days))).astype("int64")
        python2 = np.round(without * 0.002).astype("int64")
        shares = {"Darwin": 0.09, "Windows": 0.06, "null": 0.03}
        system = {name: np.round(without * share * rng.uniform(0.9, 1.1, size=len(days))).astype("int64")
                  for name, share in shares.items()}
        system["Linux"] = without - sum(system.values())  # exact: the systems add up to the total
        for day in days.tolist():
            entries = [("overall", "with_mirrors", with_mirrors[day]), ("overall", "without_mirrors", without[day]),
                       ("python_major", "2", python2[day]), ("python_major", "3", without[day] - python2[day]),
                       *[("system", name, system[name][day]) for name in ("Darwin", "Linux", "Windows", "null")]]
            for kind, category, count in entries:
                columns["package"].append(package)
                columns["day"].append(window.day(day))
                columns["kind"].append(kind)
                columns["category"].append(category)
                columns["downloads"].append(int(count))
    write_parquet(out / "downloads.parquet", columns, pa.schema([
        ("package", pa.string()), ("day", pa.date32()), ("kind", pa.string()), ("category", pa.string()),
        ("downloads", pa.int64())]))
