"""npm: downloads range API, per-version downloads, registry documents, against the sandbox."""

from __future__ import annotations

import datetime as dt
import json

from ingestion.pipelines import load
from ingestion.sources.npm.helpers import downloads_path_name, registry_path_name, versions_path_name

from .conftest import count, query, world_rows

PK = {"downloads": "package, day", "version_downloads": "package, version, day",
      "versions": "package, version", "packages": "package"}


def test_scoped_names_are_encoded_per_endpoint():
    assert registry_path_name("@acme/sdk") == "@acme%2Fsdk"
    assert versions_path_name("@acme/sdk") == "@acme%2Fsdk"
    assert downloads_path_name("@acme/sdk") == "@acme/sdk"
    assert registry_path_name("acme-cli") == "acme-cli"


def test_npm_loads_what_the_world_holds_and_reruns_without_duplicates(sandbox_env, new_pipeline, world_dir, meta):
    pipeline = new_pipeline("npm")
    packages = meta["npm_packages"]
    assert any(p.startswith("@") for p in packages), "the world should have a scoped package"
    first = load("npm", pipeline=pipeline)

    daily = [r for r in world_rows(world_dir, "npm/downloads.parquet") if r["package"] in packages]
    assert first["downloads"]["total"] == len(daily)
    assert query(pipeline, "select sum(downloads) from {ds}.downloads")[0][0] == sum(r["downloads"] for r in daily)
    assert {r[0] for r in query(pipeline, "select distinct package from {ds}.downloads")} == set(packages)

    documents = json.loads((world_dir / "npm/packages.json").read_text())
    versions = sum(len(documents[p]["versions"]) for p in packages)
    assert first["versions"]["total"] == versions
    # the per-version API lists every published version; `day` is the last day of its week
    assert first["version_downloads"]["total"] == versions
    end = dt.date.fromisoformat(meta["end_date"])
    assert query(pipeline, "select distinct day from {ds}.version_downloads") == [(end,)]
    last_week = [r for r in world_rows(world_dir, "npm/version_downloads.parquet")
                 if r["package"] in packages and end - dt.timedelta(days=6) <= r["day"] <= end]
    assert query(pipeline, "select sum(downloads) from {ds}.version_downloads")[0][0] == sum(
        r["downloads"] for r in last_week)

    latest = dict(query(pipeline, "select package, latest_version from {ds}.packages"))
    assert latest == {p: documents[p]["dist-tags"]["latest"] for p in packages}
    assert query(pipeline, "select count(*) from {ds}.packages where created_at is null")[0][0] == 0

    second = load("npm", pipeline=pipeline)
    # the downloads cursor re-reads only the last 3 days (+ the cursor day) of each package
    assert second["downloads"]["loaded"] == 4 * len(packages)
    for table, pk in PK.items():
        assert second[table]["total"] == first[table]["total"], table
        assert count(pipeline, table) == count(pipeline, table, distinct=pk), table


def test_npm_chunks_long_ranges_within_the_18_month_limit(sandbox_env, new_pipeline, world_dir, meta):
    """A start date years back is cut into <= 540-day windows; days before the world are zeros."""
    pipeline = new_pipeline("npm")
    end = dt.date.fromisoformat(meta["end_date"])
    start = end - dt.timedelta(days=1200)
    summary = load("npm", pipeline=pipeline, start_date=start.isoformat(), packages=meta["npm_packages"][:1])
    assert summary["downloads"]["total"] == 1201
    daily = [r for r in world_rows(world_dir, "npm/downloads.parquet") if r["package"] == meta["npm_packages"][0]]
    assert query(pipeline, "select sum(downloads) from {ds}.downloads")[0][0] == sum(r["downloads"] for r in daily)


def test_a_second_run_asks_only_for_the_days_since_the_cursor_minus_the_lag(sandbox_env, new_pipeline, meta):
    pipeline = new_pipeline("npm")
    end = dt.date.fromisoformat(meta["end_date"])
    today = dt.datetime.now(dt.timezone.utc).date()
    load("npm", pipeline=pipeline)
    cursors = pipeline.state["sources"]["npm"]["resources"]["downloads"]["last_day"]
    assert cursors == {p: end.isoformat() for p in meta["npm_packages"]}

    mark = sandbox_env.last_request_number()
    second = load("npm", pipeline=pipeline)
    ranges = [e["path"].split("/")[4] for e in sandbox_env.requests("npm-api", since=mark)
              if e["path"].startswith("/npm-api/downloads/range/")]
    # one query per package from (cursor - 3 days) towards today (in a window of at most 540 days);
    # npm's answer stops at its last day, so no later window is asked for
    start = end - dt.timedelta(days=3)
    assert ranges == [f"{start}:{min(today, start + dt.timedelta(days=539))}"] * len(meta["npm_packages"])
    assert second["downloads"]["loaded"] == 4 * len(meta["npm_packages"])


def test_a_clamped_range_is_detected_and_the_missing_days_asked_again(sandbox_env, new_pipeline, world_dir, meta,
                                                                       caplog):
    """npm keeps 18 months per query and moves `start` later beyond that (200, no error): with a
    window too long for it, the connector notices the later `start` and fills the gap."""
    import logging

    pipeline = new_pipeline("npm")
    end = dt.date.fromisoformat(meta["end_date"])
    package = meta["npm_packages"][0]
    caplog.set_level(logging.WARNING, logger="ingestion.sources.npm")
    summary = load("npm", pipeline=pipeline, packages=[package], max_range_days=800,
                   start_date=(end - dt.timedelta(days=799)).isoformat())
    assert summary["downloads"]["total"] == 800
    assert count(pipeline, "downloads") == count(pipeline, "downloads", "package, day")
    assert query(pipeline, "select min(day), max(day) from {ds}.downloads")[0] == (end - dt.timedelta(days=799), end)
    assert any("npm clamped the range" in r.getMessage() for r in caplog.records)


def test_registry_metadata_keeps_dist_tags_and_maintainers_as_json(sandbox_env, new_pipeline, world_dir, meta):
    pipeline = new_pipeline("npm")
    load("npm", pipeline=pipeline, resources=["packages", "versions"])
    documents = json.loads((world_dir / "npm/packages.json").read_text())
    rows = {p: (tags, people, n) for p, tags, people, n in
            query(pipeline, "select package, dist_tags, maintainers, version_count from {ds}.packages")}
    for package in meta["npm_packages"]:
        doc = documents[package]
        tags, people, n = rows[package]
        assert tags == doc["dist-tags"]
        assert people == [{"name": m["name"], "email": m.get("email")} for m in doc["maintainers"]]
        assert n == len(doc["versions"])
        latest = doc["dist-tags"]["latest"]
        assert query(pipeline, "select dist_tags from {ds}.versions where package = %s and version = %s",
                     package, latest) == [("latest",)]
    types = dict(query(pipeline, "select column_name, data_type from information_schema.columns "
                                 "where table_schema = %s and table_name = 'packages'", pipeline.dataset_name))
    assert types["dist_tags"] == types["maintainers"] == "jsonb"
