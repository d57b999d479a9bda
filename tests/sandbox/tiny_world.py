"""A tiny, hand-made world folder that follows README "Contract 1", for the sandbox tests.

It exists so the sandbox tests do not depend on the generator, and so they can rely on features a
generated world may not have: a scoped npm package, enough stargazers for several pages, a
pre-release, a Bot account, a Segment archive of a known size. Timestamps are written both as
ISO strings and as parquet timestamps, to prove the sandbox reads either.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

END_DATE = dt.date(2025, 3, 31)
DAYS = 30
ORG = "acmedev"
REPO = f"{ORG}/acme-sdk"
SECOND_REPO = f"{ORG}/acme-cli"
NPM_PACKAGE = "acme-sdk"
SCOPED_PACKAGE = "@acmedev/cli"
PYPI_PACKAGE = "acme-sdk"
STARGAZERS = 75
FORKS = 12
ISSUES = 40  # every third one is a pull request
SEGMENT_CALLS = 250


def _n(text: str, modulo: int) -> int:
    """A deterministic number from text (no randomness: the world must be byte-stable)."""
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % modulo


def _ts(day: dt.date, seconds: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=seconds)


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_parquet(path: Path, rows: list[dict], schema: pa.Schema) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


def _packument(name: str, versions: list[str], start: dt.date) -> dict:
    tarball_name = name.split("/")[-1]
    times = {v: _iso(_ts(start + dt.timedelta(days=5 * i), 3600)) for i, v in enumerate(versions)}
    version_docs = {}
    for v in versions:
        shasum = hashlib.sha1(f"{name}@{v}".encode()).hexdigest()
        version_docs[v] = {
            "name": name,
            "version": v,
            "description": f"{name} for Acme Dev",
            "main": "index.js",
            "license": "MIT",
            "dependencies": {"undici": "^6.0.0"},
            "_id": f"{name}@{v}",
            "_nodeVersion": "20.11.0",
            "_npmVersion": "10.2.4",
            "_npmUser": {"name": "acme-bot", "email": "npm@acmedev.io"},
            "maintainers": [{"name": "acme-bot", "email": "npm@acmedev.io"}],
            "directories": {},
            "dist": {"shasum": shasum, "tarball": f"https://registry.npmjs.org/{name}/-/{tarball_name}-{v}.tgz"},
            "_hasShrinkwrap": False,
        }
    return {
        "_id": name,
        "_rev": f"{len(versions)}-{hashlib.md5(name.encode()).hexdigest()}",
        "name": name,
        "description": f"{name} for Acme Dev",
        "dist-tags": {"latest": versions[-1]},
        "versions": version_docs,
        "time": {"created": times[versions[0]], "modified": times[versions[-1]], **times},
        "maintainers": [{"name": "acme-bot", "email": "npm@acmedev.io"}],
        "license": "MIT",
        "readme": f"# {name}\n",
        "readmeFilename": "README.md",
    }


def _pypi_file(name: str, version: str, packagetype: str, uploaded: dt.datetime) -> dict:
    filename = (f"{name.replace('-', '_')}-{version}-py3-none-any.whl" if packagetype == "bdist_wheel"
                else f"{name}-{version}.tar.gz")
    digest = hashlib.sha256(filename.encode()).hexdigest()
    md5 = hashlib.md5(filename.encode()).hexdigest()
    return {
        "comment_text": "",
        "digests": {"blake2b_256": digest, "md5": md5, "sha256": digest},
        "downloads": -1,
        "filename": filename,
        "has_sig": False,
        "md5_digest": md5,
        "packagetype": packagetype,
        "python_version": "py3" if packagetype == "bdist_wheel" else "source",
        "requires_python": ">=3.9",
        "size": 10_000 + _n(filename, 5000),
        "upload_time": uploaded.strftime("%Y-%m-%dT%H:%M:%S"),
        "upload_time_iso_8601": uploaded.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
        "url": f"https://files.pythonhosted.org/packages/{digest[:2]}/{digest[2:4]}/{digest[4:]}/{filename}",
        "yanked": False,
        "yanked_reason": None,
    }


def write_tiny_world(out_dir: str | Path, end_date: dt.date = END_DATE) -> Path:
    root = Path(out_dir)
    start = end_date - dt.timedelta(days=DAYS - 1)
    days = [start + dt.timedelta(days=i) for i in range(DAYS)]
    npm_versions = {NPM_PACKAGE: ["1.0.0", "1.1.0", "2.0.0"], SCOPED_PACKAGE: ["0.9.0", "1.0.0"]}

    root.mkdir(parents=True, exist_ok=True)
    (root / "meta.json").write_text(json.dumps({
        "seed": 7, "companies": 3, "people": 40, "days": DAYS,
        "start_date": start.isoformat(), "end_date": end_date.isoformat(),
        "vendor": {"name": "Acme Dev", "domain": "acmedev.io", "github_org": ORG},
        "npm_packages": list(npm_versions), "pypi_packages": [PYPI_PACKAGE],
        "github_repos": [REPO, SECOND_REPO],
    }, indent=2))

    # npm
    day_schema = pa.schema([("package", pa.string()), ("day", pa.date32()), ("downloads", pa.int64())])
    _write_parquet(root / "npm/downloads.parquet", [
        {"package": p, "day": d, "downloads": 100 + _n(f"{p}{d}", 900)} for p in npm_versions for d in days
    ], day_schema)
    version_schema = pa.schema([("package", pa.string()), ("version", pa.string()), ("day", pa.date32()),
                                ("downloads", pa.int64())])
    _write_parquet(root / "npm/version_downloads.parquet", [
        {"package": p, "version": v, "day": d, "downloads": _n(f"{p}{v}{d}", 300)}
        for p, versions in npm_versions.items() for v in versions for d in days
    ], version_schema)
    (root / "npm/packages.json").write_text(json.dumps(
        {p: _packument(p, versions, start) for p, versions in npm_versions.items()}, indent=2))

    # pypi
    categories = {"overall": ["with_mirrors", "without_mirrors"], "python_major": ["2", "3", "null"],
                  "system": ["Darwin", "Linux", "Windows", "null"]}
    pypi_schema = pa.schema([("package", pa.string()), ("day", pa.date32()), ("kind", pa.string()),
                             ("category", pa.string()), ("downloads", pa.int64())])
    _write_parquet(root / "pypi/downloads.parquet", [
        {"package": PYPI_PACKAGE, "day": d, "kind": kind, "category": c, "downloads": 10 + _n(f"{kind}{c}{d}", 200)}
        for kind, cats in categories.items() for c in cats for d in days
    ], pypi_schema)
    releases = {}
    for i, version in enumerate(["1.0.0", "1.1.0", "1.2.0rc1"]):
        uploaded = _ts(start + dt.timedelta(days=7 * i), 7200)
        releases[version] = [_pypi_file(PYPI_PACKAGE, version, "bdist_wheel", uploaded),
                             _pypi_file(PYPI_PACKAGE, version, "sdist", uploaded)]
    (root / "pypi/releases.json").write_text(json.dumps({PYPI_PACKAGE: releases}, indent=2))

    # github
    logins = [f"dev{i:02d}" for i in range(STARGAZERS + 5)] + ["dependabot[bot]"]
    users = [{
        "login": login, "id": 1000 + i, "type": "Bot" if login.endswith("[bot]") else "User",
        "name": None if login.endswith("[bot]") else f"Dev {i}", "company": "@globex" if i % 3 == 0 else None,
        "email": f"{login}@example.com" if i % 2 == 0 else None, "blog": None if i % 4 else "https://example.com",
        "location": "Berlin" if i % 5 == 0 else None, "bio": None,
        "created_at": _ts(dt.date(2018, 1, 1) + dt.timedelta(days=i * 11), 0),
        "updated_at": _ts(start, 60 * i),
    } for i, login in enumerate(logins)]
    ts = pa.timestamp("us", tz="UTC")
    _write_parquet(root / "github/users.parquet", users, pa.schema([
        ("login", pa.string()), ("id", pa.int64()), ("type", pa.string()), ("name", pa.string()),
        ("company", pa.string()), ("email", pa.string()), ("blog", pa.string()), ("location", pa.string()),
        ("bio", pa.string()), ("created_at", ts), ("updated_at", ts)]))
    _write_parquet(root / "github/orgs.parquet", [
        {"login": ORG, "id": 9001, "name": "Acme Dev", "blog": "https://acmedev.io", "email": "hi@acmedev.io",
         "location": "Remote", "description": "Developer tools", "created_at": "2019-04-01T10:00:00Z"},
        {"login": "globex", "id": 9002, "name": "Globex", "blog": None, "email": None, "location": None,
         "description": None, "created_at": "2016-02-03T04:05:06Z"},
    ], pa.schema([("login", pa.string()), ("id", pa.int64()), ("name", pa.string()), ("blog", pa.string()),
                  ("email", pa.string()), ("location", pa.string()), ("description", pa.string()),
                  ("created_at", pa.string())]))
    _write_parquet(root / "github/stargazers.parquet", [
        {"repo": REPO, "login": logins[i], "starred_at": _iso(_ts(days[i % DAYS], 600 * i))}
        for i in range(STARGAZERS)
    ] + [{"repo": SECOND_REPO, "login": logins[i], "starred_at": _iso(_ts(days[-1], i))} for i in range(3)],
        pa.schema([("repo", pa.string()), ("login", pa.string()), ("starred_at", pa.string())]))
    _write_parquet(root / "github/forks.parquet", [
        {"repo": REPO, "id": 50_000 + i, "owner_login": logins[i * 3], "created_at": _ts(days[(i * 2) % DAYS], 99 * i)}
        for i in range(FORKS)
    ], pa.schema([("repo", pa.string()), ("id", pa.int64()), ("owner_login", pa.string()), ("created_at", ts)]))
    issues = []
    for number in range(1, ISSUES + 1):
        created = _ts(days[(number * 7) % DAYS], 1000 + number)
        is_pr = number % 3 == 0
        closed = number % 4 == 0
        updated = created + dt.timedelta(hours=number)
        issues.append({
            "repo": REPO, "id": 70_000 + number, "number": number, "login": logins[number % 20],
            "title": f"{'Add' if is_pr else 'Bug in'} feature {number}", "state": "closed" if closed else "open",
            "created_at": _iso(created), "updated_at": _iso(updated),
            "closed_at": _iso(updated) if closed else None, "is_pull_request": is_pr,
            "merged_at": _iso(updated) if (is_pr and closed) else None,
        })
    _write_parquet(root / "github/issues.parquet", issues, pa.schema([
        ("repo", pa.string()), ("id", pa.int64()), ("number", pa.int64()), ("login", pa.string()),
        ("title", pa.string()), ("state", pa.string()), ("created_at", pa.string()), ("updated_at", pa.string()),
        ("closed_at", pa.string()), ("is_pull_request", pa.bool_()), ("merged_at", pa.string())]))
    _write_parquet(root / "github/contributors.parquet", [
        {"repo": REPO, "login": logins[i], "contributions": 100 - 9 * i} for i in range(8)
    ] + [{"repo": REPO, "login": "dependabot[bot]", "contributions": 42}],
        pa.schema([("repo", pa.string()), ("login", pa.string()), ("contributions", pa.int64())]))
    _write_parquet(root / "github/releases.parquet", [
        {"repo": REPO, "id": 80_000 + i, "tag_name": f"v1.{i}.0", "name": f"v1.{i}.0",
         "published_at": _iso(_ts(days[i * 6], 0)), "author_login": logins[0]} for i in range(5)
    ], pa.schema([("repo", pa.string()), ("id", pa.int64()), ("tag_name", pa.string()), ("name", pa.string()),
                  ("published_at", pa.string()), ("author_login", pa.string())]))

    # segment: three files over two days, calls in time order
    calls = []
    for i in range(SEGMENT_CALLS):
        kind = ["identify", "track", "group", "page"][i % 4]
        call = {"messageId": f"msg-{i:05d}", "type": kind,
                "timestamp": _iso(_ts(days[-2 + (i * 2) // SEGMENT_CALLS], 60 * i)),
                "userId": f"user-{i % 17}", "anonymousId": f"anon-{i % 23}",
                "context": {"library": {"name": "analytics-node", "version": "6.0.0"}}}
        if kind == "identify":
            call["traits"] = {"email": f"user{i % 17}@globex.com", "name": f"User {i % 17}", "title": "Engineer",
                              "company": "Globex"}
        elif kind == "track":
            call["event"] = "Feature Used"
            call["properties"] = {"feature": "sso"}
        elif kind == "group":
            call["groupId"] = "globex"
            call["traits"] = {"name": "Globex", "website": "https://globex.com", "industry": "Software",
                              "employees": 250}
        else:
            call["name"] = "Docs"
            call["properties"] = {"path": "/docs"}
        calls.append(call)
    chunks = {f"{days[-2]:%Y/%m/%d}/0.json.gz": calls[:100], f"{days[-2]:%Y/%m/%d}/1.json.gz": calls[100:125],
              f"{days[-1]:%Y/%m/%d}/0.json.gz": calls[125:]}
    for relative, chunk in chunks.items():
        path = root / "segment/archive" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.GzipFile(path, "wb", mtime=0) as archive:
            archive.write("".join(json.dumps(c) + "\n" for c in chunk).encode())

    # crm: the vendors' export headers
    crm = {
        "hubspot-contacts.csv": (["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Job Title",
                                  "Company Name", "Lifecycle Stage", "Create Date", "Associated Company IDs"],
                                 [["101", "Ada", "Lovelace", "ada@globex.com", "", "CTO", "Globex", "lead",
                                   "2025-03-01 10:00", "201"]]),
        "hubspot-companies.csv": (["Record ID", "Company Name", "Company Domain Name", "Industry",
                                   "Number of Employees", "Annual Revenue", "City", "Country/Region", "Create Date"],
                                  [["201", "Globex", "globex.com", "Software", "250", "", "Berlin", "Germany",
                                    "2025-02-01 09:00"]]),
        "hubspot-deals.csv": (["Record ID", "Deal Name", "Deal Stage", "Amount", "Close Date", "Pipeline",
                               "Associated Company IDs", "Create Date"],
                              [["301", "Globex - Team", "appointmentscheduled", "12000", "", "default", "201",
                                "2025-03-10 12:00"]]),
        "salesforce-contacts.csv": (["Contact ID", "First Name", "Last Name", "Email", "Title", "Account Name",
                                     "Account ID", "Lead Source", "Mailing City", "Mailing Country", "Created Date"],
                                    [["0035000001", "Grace", "Hopper", "grace@initech.com", "VP Eng", "Initech",
                                      "0015000001", "Web", "Austin", "USA", "2025-03-02"]]),
        "salesforce-accounts.csv": (["Account ID", "Account Name", "Website", "Industry", "Employees",
                                     "Billing City", "Billing Country", "Created Date"],
                                    [["0015000001", "Initech", "www.initech.com", "Technology", "800", "Austin",
                                      "USA", "2025-01-15"]]),
        "salesforce-opportunities.csv": (["Opportunity ID", "Opportunity Name", "Stage", "Amount", "Close Date",
                                          "Account Name", "Account ID", "Created Date"],
                                         [["0065000001", "Initech - Enterprise", "Prospecting", "50000", "2025-06-30",
                                           "Initech", "0015000001", "2025-03-05"]]),
    }
    (root / "crm").mkdir(exist_ok=True)
    for name, (header, rows) in crm.items():
        with open(root / "crm" / name, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    return root
