"""RELIABILITY test 7 (schema drift), the API part: under the contract {tables: evolve, columns:
evolve, data_type: freeze} a field the API adds is loaded and reported; a field whose type
changes stops the run with a readable message and never becomes a variant column."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

import ingestion.sources.github.helpers as gh_helpers
from ingestion.pipelines import load
from ingestion.sources._common import SchemaDriftError

from .conftest import completed_loads, count, query, resource_state
from .test_github import World, assert_world_counts

ADDED = {"pinned_reason": "spotlight", "sponsorship": {"tier": 2}}


def columns_of(pipeline, table: str) -> dict[str, str]:
    return dict(query(pipeline, "select column_name, data_type from information_schema.columns "
                                "where table_schema = %s and table_name = %s", pipeline.dataset_name, table))


def variant_columns(pipeline) -> list[tuple]:
    return query(pipeline, "select table_name, column_name from information_schema.columns "
                           "where table_schema = %s and column_name like '%%\\_\\_v\\_%%'", pipeline.dataset_name)


def test_a_field_github_adds_is_loaded_and_reported(faulty, new_pipeline, world_dir, meta, caplog):
    world = World(world_dir, meta)
    pipeline = new_pipeline("github")
    load("github", pipeline=pipeline, repos=meta["github_repos"][:1])
    faulty.add_fault("/github/repos/", {"mutate": {"add_fields": ADDED}}, repeat=True)

    caplog.set_level(logging.WARNING, logger="ingestion.pipelines")
    summary = load("github", pipeline=pipeline)
    assert_world_counts(pipeline, summary, world)

    later = {repo.lower() for repo in meta["github_repos"][1:]}
    listings = {"stargazers": world.stargazers, "forks": world.forks, "issues": world.issues,
                "pull_requests": world.pulls, "contributors": world.contributors, "releases": world.releases}
    changed = sorted(t for t, rows in listings.items() if any(r["repo"].lower() in later for r in rows))
    assert {"issues", "pull_requests", "stargazers"} <= set(changed), "the later repositories should have activity"
    for table in changed:
        assert summary[table]["new_columns"] == ["pinned_reason", "sponsorship"], table
        types = columns_of(pipeline, table)  # text (dlt writes it as varchar), never a child table
        assert types["pinned_reason"] == types["sponsorship"] == "character varying"
        values = query(pipeline, f'select distinct pinned_reason, sponsorship from {{ds}}."{table}" '
                                 f"where repo <> %s", meta["github_repos"][0])
        assert values == [("spotlight", '{"tier":2}')], table
    assert "users" not in changed and "new_columns" not in summary["users"]  # /users/ was not changed
    alerts = [r.getMessage() for r in caplog.records if "new column(s) from upstream" in r.getMessage()]
    assert len(alerts) == len(changed) and all("pinned_reason, sponsorship" in a for a in alerts)
    assert variant_columns(pipeline) == []


@pytest.mark.parametrize("path", ["/npm-api/downloads/range/", "/npm-api/versions/"])
def test_npm_downloads_turned_text_stops_the_load(path, faulty, new_pipeline, meta):
    pipeline = new_pipeline("npm")
    end = dt.date.fromisoformat(meta["end_date"])
    load("npm", pipeline=pipeline, end_date=(end - dt.timedelta(days=5)).isoformat())
    before = ({t: count(pipeline, t) for t in ("downloads", "version_downloads")}, completed_loads(pipeline),
              resource_state(pipeline, "npm", "downloads"))

    faulty.add_fault(path, {"mutate": {"stringify": ["downloads"]}}, repeat=True)
    with pytest.raises(SchemaDriftError, match=r"`downloads` is str '\d+' .*frozen.*no variant column") as drift:
        load("npm", pipeline=pipeline)
    assert path.split("/")[2] in str(drift.value)  # it names the endpoint that changed
    assert variant_columns(pipeline) == []
    assert ({t: count(pipeline, t) for t in ("downloads", "version_downloads")}, completed_loads(pipeline),
            resource_state(pipeline, "npm", "downloads")) == before

    faulty.clear_faults()
    after = load("npm", pipeline=pipeline)
    assert after["downloads"]["total"] == before[0]["downloads"] + 5 * len(meta["npm_packages"])


def test_a_type_change_on_github_stops_the_run_before_anything_loads(faulty, new_pipeline, meta):
    pipeline = new_pipeline("github")
    load("github", pipeline=pipeline, repos=meta["github_repos"][:1])
    before = (count(pipeline, "issues"), completed_loads(pipeline), resource_state(pipeline, "github", "issues"))
    faulty.add_fault(f"/github/repos/{meta['github_repos'][1]}/issues", {"mutate": {"add_fields": {"comments": "lots"}}},
                     repeat=True)
    with pytest.raises(SchemaDriftError, match=r"`issues.comments` is str 'lots' .*bigint"):
        load("github", pipeline=pipeline)
    assert variant_columns(pipeline) == []
    assert (count(pipeline, "issues"), completed_loads(pipeline),
            resource_state(pipeline, "github", "issues")) == before


def test_the_frozen_contract_catches_what_the_connector_does_not_check(faulty, new_pipeline, meta, monkeypatch):
    """dlt checks column types only when it normalizes, after the extract has advanced the cursors:
    `load` then aborts the package, which rewinds the state, so nothing is wedged or skipped."""
    monkeypatch.setattr(gh_helpers, "_PYTHON_TYPES", {k: object for k in gh_helpers._PYTHON_TYPES})
    pipeline = new_pipeline("github")
    load("github", pipeline=pipeline, repos=meta["github_repos"][:1])
    before = (count(pipeline, "issues"), completed_loads(pipeline), resource_state(pipeline, "github", "issues"))
    faulty.add_fault(f"/github/repos/{meta['github_repos'][1]}/issues", {"mutate": {"add_fields": {"comments": "lots"}}},
                     repeat=True)
    with pytest.raises(SchemaDriftError, match=r"`issues.comments` received a value \(str 'lots'\) .*frozen type bigint"):
        load("github", pipeline=pipeline)
    assert variant_columns(pipeline) == []
    assert not pipeline.has_pending_data  # aborted, not left to fail on every run
    assert (count(pipeline, "issues"), completed_loads(pipeline),
            resource_state(pipeline, "github", "issues")) == before  # cursor rewound

    faulty.clear_faults()
    summary = load("github", pipeline=pipeline)
    assert summary["issues"]["loaded"] > 0 and variant_columns(pipeline) == []
