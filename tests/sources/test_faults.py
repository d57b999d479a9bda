"""RELIABILITY test 6, upstream API faults, for npm, pypistats and GitHub against the sandbox.

Faults come from the sandbox's fault book (ingestion/sandbox/faults.py): 429 with Retry-After,
bursts of 503, a connection reset, a stall longer than the request timeout, a 401. Expected:
at most 5 attempts per request, no request waits past the timeout, the run succeeds when the
fault clears within that budget; otherwise (and at once on a 401) it stops with a readable,
terminal error, no cursor moves, no row of the run lands, and a rerun afterwards loads exactly
the world without duplicates.

The clock is shortened, the logic is not: DEVSIGNAL_HTTP_TIMEOUT=2 s (production 60 s),
DEVSIGNAL_HTTP_BACKOFF=0.2 (production 1: waits 1, 2, 4, 8 s), and `Retry-After: 2` stands in
for RELIABILITY's `Retry-After: 7` (the same code path honours any value).
"""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from ingestion.pipelines import load
from ingestion.sources._common import UpstreamAuthError, UpstreamError
from ingestion.sources.npm.helpers import downloads_path_name

from .conftest import (
    HTTP_BACKOFF,
    HTTP_TIMEOUT,
    attempts_at,
    completed_loads,
    count,
    query,
    resource_state,
    world_rows,
)
from .test_github import World, assert_world_counts

SLACK = 1.0  # seconds of scheduling noise allowed on a loaded 2-core machine


class Npm:
    name, table, resource = "npm", "downloads", "downloads"

    def __init__(self, world_dir, meta):
        self.world_dir, self.meta = world_dir, meta
        self.packages = meta["npm_packages"]
        self.end = dt.date.fromisoformat(meta["end_date"])

    def first_run(self) -> dict:  # every package, 5 days short: the full run would move each cursor
        return {"end_date": (self.end - dt.timedelta(days=5)).isoformat()}

    def target(self) -> tuple[str, str]:  # the second package's range query
        return "/npm-api/downloads/range/", "/" + downloads_path_name(self.packages[1]) + "?"

    def check(self, pipeline, summary) -> None:
        daily = [r for r in world_rows(self.world_dir, "npm/downloads.parquet") if r["package"] in self.packages]
        documents = json.loads((self.world_dir / "npm/packages.json").read_text())
        versions = sum(len(documents[p]["versions"]) for p in self.packages)
        assert summary["downloads"]["total"] == len(daily)
        assert query(pipeline, "select sum(downloads) from {ds}.downloads")[0][0] == sum(r["downloads"] for r in daily)
        assert summary["versions"]["total"] == versions
        assert summary["packages"]["total"] == len(self.packages)
        for table, pk in {"downloads": "package, day", "versions": "package, version",
                          "version_downloads": "package, version, day", "packages": "package"}.items():
            assert count(pipeline, table) == count(pipeline, table, pk), table


class Pypi:
    name, table, resource = "pypi", "downloads", "downloads"

    def __init__(self, world_dir, meta):
        self.world_dir, self.meta = world_dir, meta
        self.packages = meta["pypi_packages"]

    def first_run(self) -> dict:
        return {"packages": self.packages[:1]}

    def target(self) -> tuple[str, str]:  # the second package's first pypistats call
        return f"/pypistats/api/packages/{self.packages[1]}/overall", ""

    def check(self, pipeline, summary) -> None:
        series = [r for r in world_rows(self.world_dir, "pypi/downloads.parquet") if r["package"] in self.packages]
        releases = json.loads((self.world_dir / "pypi/releases.json").read_text())
        assert summary["downloads"]["total"] == len(series)
        assert summary["releases"]["total"] == sum(len(releases[p]) for p in self.packages)
        assert count(pipeline, "downloads") == count(pipeline, "downloads", "package, day, kind, category")
        assert count(pipeline, "releases") == count(pipeline, "releases", "package, version")


class GitHub:
    name, table, resource = "github", "issues", "issues"

    def __init__(self, world_dir, meta):
        self.world = World(world_dir, meta)
        self.repos = meta["github_repos"]

    def first_run(self) -> dict:
        return {"repos": self.repos[:1]}

    def target(self) -> tuple[str, str]:  # the second repository's issues
        return f"/github/repos/{self.repos[1]}/issues", ""

    def check(self, pipeline, summary) -> None:
        assert_world_counts(pipeline, summary, self.world)


SOURCES = {"npm": Npm, "pypi": Pypi, "github": GitHub}


@pytest.fixture(params=list(SOURCES))
def spec(request, world_dir, meta):
    return SOURCES[request.param](world_dir, meta)


def snapshot(pipeline, spec) -> dict:
    return {"state": resource_state(pipeline, spec.name, spec.resource), "loads": completed_loads(pipeline),
            "rows": count(pipeline, spec.table)}


def starts(entries) -> list[float]:
    return [e["at"] for e in entries]


# --- the fault clears within the budget: the run succeeds ---------------------------------------------


def test_transient_faults_clear_within_five_attempts(spec, faulty, new_pipeline, capsys):
    """503, a reset, a stall past the timeout, 503 again: the 5th attempt gets through."""
    path, contains = spec.target()
    faulty.add_fault(path, {"status": 503}, {"reset": True}, {"stall": HTTP_TIMEOUT + 3}, {"status": 503},
                     contains=contains or None)
    pipeline = new_pipeline(spec.name)
    mark = faulty.last_request_number()
    summary = load(spec.name, pipeline=pipeline)
    spec.check(pipeline, summary)

    tries = attempts_at(faulty, mark, path, contains or None)
    first_url = [e for e in tries if (e["path"], e["query"]) == (tries[0]["path"], tries[0]["query"])]
    assert [e["step"] for e in first_url] == ["status", "reset", "stall", "status", None]
    assert first_url[-1]["status"] == 200
    gaps = [b - a for a, b in zip(starts(first_url), starts(first_url)[1:])]
    waits = [HTTP_BACKOFF * 2**i for i in range(4)]  # 0.2, 0.4, 0.8, 1.6
    assert gaps[2] >= HTTP_TIMEOUT + waits[2] - 0.05, "the stalled attempt was abandoned before the timeout"
    assert gaps[2] <= HTTP_TIMEOUT + waits[2] + SLACK, "the stalled attempt hung past the timeout"
    for gap, wait in zip(gaps[:2] + gaps[3:], waits[:2] + waits[3:]):
        assert wait - 0.05 <= gap <= wait + SLACK
    with capsys.disabled():
        print(f"\n[test 6] {spec.name}: {len(first_url)} attempts for one request, gaps "
              f"{', '.join(f'{g:.2f}s' for g in gaps)}")


@pytest.mark.parametrize("source", ["npm", "github"])
def test_429_retry_after_is_waited_out(source, faulty, new_pipeline, world_dir, meta):
    """npm goes through the shared retrying session, GitHub through its own rate-limit handling."""
    spec = SOURCES[source](world_dir, meta)
    path, contains = spec.target()
    faulty.add_fault(path, {"status": 429, "headers": {"Retry-After": "2"}}, contains=contains or None)
    pipeline = new_pipeline(source)
    mark = faulty.last_request_number()
    summary = load(source, pipeline=pipeline)
    spec.check(pipeline, summary)
    tries = attempts_at(faulty, mark, path, contains or None)
    assert [e["status"] for e in tries[:2]] == [429, 200]
    assert tries[1]["at"] - tries[0]["at"] >= 2.0 - 0.05  # Retry-After honoured, not the 0.2 s backoff


# --- the fault does not clear, or is terminal: the run fails and nothing moves --------------------


NEVER_CLEARS = {"npm": {"stall": HTTP_TIMEOUT + 8}, "pypi": {"status": 503}, "github": {"reset": True}}


def cursor(state: dict) -> dict:
    """The cursor part of a resource's state (not the ETags)."""
    if "since" in state:
        return {repo: c["updated_at"] for repo, c in state["since"].items()}
    return state.get("last_day", {})


def test_a_fault_that_never_clears_fails_after_five_attempts_without_moving_the_cursor(spec, faulty, new_pipeline,
                                                                                        capsys):
    pipeline = new_pipeline(spec.name)
    load(spec.name, pipeline=pipeline, **spec.first_run())
    before = snapshot(pipeline, spec)

    path, contains = spec.target()
    step = NEVER_CLEARS[spec.name]
    faulty.add_fault(path, step, repeat=True, contains=contains or None)
    mark = faulty.last_request_number()
    started = time.monotonic()
    with pytest.raises(UpstreamError) as failure:
        load(spec.name, pipeline=pipeline)
    elapsed = time.monotonic() - started
    message = str(failure.value)
    assert "5 times" in message and "did not clear" in message, message
    if "stall" in step:
        assert "read timeout" in message
    assert any("no cursor moved" in note for note in getattr(failure.value, "__notes__", []))

    tries = attempts_at(faulty, mark, path, contains or None)
    assert len(tries) == 5, [(e["path"], e["query"]) for e in tries]
    gaps = [b - a for a, b in zip(starts(tries), starts(tries)[1:])]
    per_attempt = HTTP_TIMEOUT if "stall" in step else 0.0
    for gap, wait in zip(gaps, [HTTP_BACKOFF * 2**i for i in range(4)]):
        assert gap <= per_attempt + wait + SLACK, "an attempt hung past the timeout"
    assert elapsed < 5 * per_attempt + 3.0 + 5 * SLACK + 10  # bounded: no attempt outlived its timeout
    after_failure = snapshot(pipeline, spec)
    assert after_failure == before  # same cursor, no new load, no partial rows

    faulty.clear_faults()
    summary = load(spec.name, pipeline=pipeline)
    spec.check(pipeline, summary)
    after_rerun = resource_state(pipeline, spec.name, spec.resource)
    assert after_rerun != before["state"]  # the cursor moves now
    with capsys.disabled():
        print(f"\n[test 6] {spec.name}: {next(iter(step))} forever -> failed after {len(tries)} attempts in "
              f"{elapsed:.1f}s; cursor before {cursor(before['state'])}, after the failure "
              f"{cursor(after_failure['state'])}, after the rerun {cursor(after_rerun)}")


def test_401_is_terminal_at_once(spec, faulty, new_pipeline):
    pipeline = new_pipeline(spec.name)
    load(spec.name, pipeline=pipeline, **spec.first_run())
    before = snapshot(pipeline, spec)

    path, contains = spec.target()
    faulty.add_fault(path, {"status": 401, "body": {"message": "Bad credentials"}}, contains=contains or None)
    mark = faulty.last_request_number()
    with pytest.raises(UpstreamAuthError, match=r"401 Unauthorized .*Bad credentials.*not retried"):
        load(spec.name, pipeline=pipeline)
    assert len(attempts_at(faulty, mark, path, contains or None)) == 1
    assert snapshot(pipeline, spec) == before

    summary = load(spec.name, pipeline=pipeline)  # the fault is spent: a plain rerun catches up exactly
    spec.check(pipeline, summary)


def test_the_command_line_reports_an_upstream_failure(faulty, new_pipeline, monkeypatch, capsys):
    import ingestion.pipelines as pipelines
    from ingestion.__main__ import EXIT_UPSTREAM, main

    pipeline = new_pipeline("pypi")
    monkeypatch.setattr(pipelines, "make_pipeline", lambda *a, **k: pipeline)
    faulty.add_fault("/pypi/pypi/", {"status": 401, "body": {"message": "Bad credentials"}}, repeat=True)
    assert main(["pypi", "--pipeline-name", pipeline.pipeline_name]) == EXIT_UPSTREAM
    err = capsys.readouterr().err
    assert err.startswith("pypi: pypi: GET ") and "401 Unauthorized" in err and "no cursor moved" in err


def test_retry_after_7_is_waited_in_full_and_attempts_are_capped(faulty):
    """RELIABILITY's own numbers, with the sleeps recorded instead of slept: `Retry-After: 7` waits
    7 s (not the 1 s backoff), and a 503 that never clears gets exactly 5 attempts."""
    from ingestion.sources._common import http_session

    slept: list[float] = []
    session = http_session(source="npm", sleep=slept.append, backoff=1.0)
    url = f"{faulty.url}/npm-api/downloads/point/last-week/nope"
    faulty.add_fault("/npm-api/downloads/point/", {"status": 429, "headers": {"Retry-After": "7"}})
    assert session.get(url).status_code == 404  # the 429 was retried after 7 s; then the real answer
    assert slept == [7.0]

    slept.clear()
    faulty.add_fault("/npm-api/downloads/point/", {"status": 503}, repeat=True)
    mark = faulty.last_request_number()
    with pytest.raises(UpstreamError, match=r"answered 503 Service Unavailable 5 times"):
        session.get(url)
    assert slept == [1.0, 2.0, 4.0, 8.0]
    assert len(attempts_at(faulty, mark, "/npm-api/downloads/point/")) == 5
