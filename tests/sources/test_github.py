"""GitHub: counts against the world, Link paging, ETags/304, rate limits (sandbox and unit)."""

from __future__ import annotations

import logging
import math
import time

import pytest
import requests

from ingestion.pipelines import load
from ingestion.sandbox import serve
from ingestion.sources._common import UpstreamAuthError
from ingestion.sources.github.helpers import EtagStore, GitHubClient, RateLimitExhausted, is_bot

from .conftest import count, point_settings_at, query, world_rows

TABLES = ("stargazers", "forks", "issues", "pull_requests", "contributors", "releases", "users", "orgs")
PK = {"stargazers": "repo, user_login", "forks": "repo, id", "issues": "id", "pull_requests": "id",
      "contributors": "repo, login", "releases": "id", "users": "login", "orgs": "login"}


class World:
    """What the world holds for the tracked repositories (the sandbox serves exactly this)."""

    def __init__(self, world_dir, meta):
        repos = {r.lower() for r in meta["github_repos"]}
        pick = lambda name: [r for r in world_rows(world_dir, f"github/{name}.parquet") if r["repo"].lower() in repos]
        self.stargazers, self.forks, self.contributors = pick("stargazers"), pick("forks"), pick("contributors")
        self.releases = pick("releases")
        both = pick("issues")
        self.issues = [r for r in both if not r["is_pull_request"]]
        self.pulls = [r for r in both if r["is_pull_request"]]
        self.repos = meta["github_repos"]
        self.owners = sorted({r.split("/")[0] for r in meta["github_repos"]})
        self.org_logins = {r["login"].lower() for r in world_rows(world_dir, "github/orgs.parquet")}
        self.user_types = {r["login"].lower(): r["type"] for r in world_rows(world_dir, "github/users.parquet")}
        logins = ({r["login"] for r in self.stargazers} | {r["owner_login"] for r in self.forks}
                  | {r["login"] for r in both} | {r["login"] for r in self.contributors}
                  | {r["author_login"] for r in self.releases if r["author_login"]})
        logins |= {o for o in self.owners if o.lower() not in self.org_logins}
        self.logins = {login.lower() for login in logins}
        self.by_repo = {
            "stargazers": self._per_repo(self.stargazers), "forks": self._per_repo(self.forks),
            "issues": self._per_repo(both), "pulls": self._per_repo(self.pulls),
            "contributors": self._per_repo(self.contributors), "releases": self._per_repo(self.releases),
        }

    def _per_repo(self, rows) -> dict[str, int]:
        return {repo: sum(1 for r in rows if r["repo"].lower() == repo.lower()) for repo in self.repos}

    def list_pages(self, per_page: int) -> int:
        return sum(max(1, math.ceil(n / per_page)) for counts in self.by_repo.values() for n in counts.values())


@pytest.fixture(scope="module")
def world(world_dir, meta) -> World:
    return World(world_dir, meta)


def github_stats(server) -> tuple[int, dict]:
    stats = server.stats()
    return stats.get("requests", {}).get("github", 0), dict(stats.get("statuses", {}))


def delta(after: dict, before: dict) -> dict:
    return {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}


def assert_world_counts(pipeline, summary, world: World):
    assert summary["stargazers"]["total"] == len(world.stargazers)
    assert summary["forks"]["total"] == len(world.forks)
    assert summary["issues"]["total"] == len(world.issues)
    assert summary["pull_requests"]["total"] == len(world.pulls)
    assert summary["contributors"]["total"] == len(world.contributors)
    assert summary["releases"]["total"] == len(world.releases)
    assert summary["orgs"]["total"] == sum(1 for o in world.owners if o.lower() in world.org_logins)
    loaded_logins = {r[0].lower() for r in query(pipeline, "select login from {ds}.users")}
    assert loaded_logins == world.logins
    for table in TABLES:
        assert count(pipeline, table) == count(pipeline, table, PK[table]), table


def test_github_pages_everything_then_gets_304s(sandbox_env, new_pipeline, world):
    per_page = 7
    pipeline = new_pipeline("github")
    requests_before, statuses_before = github_stats(sandbox_env)

    first = load("github", pipeline=pipeline, per_page=per_page)
    assert_world_counts(pipeline, first, world)
    requests_after, statuses_after = github_stats(sandbox_env)
    # every page of every list, one profile per login, one /orgs per owner: nothing more, nothing less
    expected = world.list_pages(per_page) + len(world.logins) + len(world.owners)
    assert requests_after - requests_before == expected
    assert delta(statuses_after, statuses_before) == {"200": expected - (len(world.owners) - first["orgs"]["total"]),
                                                      **({"404": len(world.owners) - first["orgs"]["total"]}
                                                         if len(world.owners) > first["orgs"]["total"] else {})}

    cursors = pipeline.state["sources"]["github"]["resources"]["issues"]["since"]
    assert {repo for repo, n in world.by_repo["issues"].items() if n} <= set(cursors)

    # issues move their `since` cursor forward, so their first pages are new URLs once; then
    # every request is a conditional one and answers 304
    second = load("github", pipeline=pipeline, per_page=per_page)
    assert {t: second[t]["loaded"] for t in TABLES} == {t: 0 for t in TABLES}
    assert {t: second[t]["total"] for t in TABLES} == {t: first[t]["total"] for t in TABLES}

    before, statuses_before = github_stats(sandbox_env)
    third = load("github", pipeline=pipeline, per_page=per_page)
    assert {t: third[t]["loaded"] for t in TABLES} == {t: 0 for t in TABLES}
    after, statuses_after = github_stats(sandbox_env)
    assert after > before
    assert delta(statuses_after, statuses_before) == {"304": after - before}

    bots = dict(query(pipeline, "select login, is_bot from {ds}.users"))
    for login, flagged in bots.items():
        assert flagged == is_bot(login, world.user_types.get(login.lower())), login
    assert any(bots.values()), "the world should have a bot account"


def test_users_come_after_every_listing_in_fifo_mode_too(sandbox_env, new_pipeline, world, monkeypatch):
    monkeypatch.setenv("EXTRACT__NEXT_ITEM_MODE", "fifo")  # dlt's other extraction order
    pipeline = new_pipeline("github")
    assert_world_counts(pipeline, load("github", pipeline=pipeline), world)


def test_github_waits_out_a_secondary_rate_limit(world_dir, meta, world, new_pipeline, monkeypatch, caplog):
    with serve(world_dir, secondary_every=25, secondary_retry_after=1, secondary_status=429) as server:
        point_settings_at(monkeypatch, server, meta)
        pipeline = new_pipeline("github")
        caplog.set_level(logging.WARNING, logger="ingestion.sources.github")
        started = time.monotonic()
        summary = load("github", pipeline=pipeline)
        elapsed = time.monotonic() - started
        refused = server.stats()["github"]["secondary_rate_limited"]
    assert refused >= 2
    assert_world_counts(pipeline, summary, world)
    waits = [r.getMessage() for r in caplog.records if "Retry-After" in r.getMessage()]
    assert len(waits) == refused and all("sleeping 1.0s" in w for w in waits)
    assert elapsed >= refused * 1.0


def test_github_sleeps_until_the_primary_limit_resets(world_dir, meta, world, new_pipeline, monkeypatch, caplog):
    with serve(world_dir, rate_limit=45, rate_limit_window=1, secondary_every=0) as server:
        point_settings_at(monkeypatch, server, meta)
        pipeline = new_pipeline("github")
        caplog.set_level(logging.WARNING, logger="ingestion.sources.github")
        summary = load("github", pipeline=pipeline)
        refused = server.stats()["github"]["rate_limited"]
    assert_world_counts(pipeline, summary, world)
    waits = [r.getMessage() for r in caplog.records if "until reset" in r.getMessage()]
    assert waits, "the client should have paused at X-RateLimit-Remaining: 0"
    assert refused == 0  # it paused before the budget ran out instead of hammering 403s


# --- the client alone, on canned responses ---------------------------------------------------------


def response(status: int, body: bytes = b"[]", headers: dict | None = None, url: str = "") -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = body
    r.headers.update(headers or {})
    r.url = url
    return r


class FakeSession:
    def __init__(self, answers):
        self.answers = list(answers)
        self.headers: dict = {}
        self.calls: list[tuple[str, dict]] = []

    def get(self, url, headers=None):
        self.calls.append((url, {**self.headers, **(headers or {})}))
        return self.answers.pop(0)


def client_with(answers, **kwargs):
    slept: list[float] = []
    session = FakeSession(answers)
    client = GitHubClient("https://api.example", session=session, sleep=slept.append, **kwargs)
    return client, session, slept


def test_client_honours_retry_after_on_403():
    secondary = response(403, b'{"message": "You have exceeded a secondary rate limit."}', {"Retry-After": "7"})
    client, session, slept = client_with([secondary, response(200)])
    assert client.get("https://api.example/x", {}).status_code == 200
    assert slept == [7.0]


def test_client_sleeps_to_reset_on_a_spent_budget_capped_and_logged(caplog):
    reset = str(int(time.time()) + 100)
    spent = response(403, b'{"message": "API rate limit exceeded"}',
                     {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
    client, _, slept = client_with([spent, response(200)], max_sleep=5)
    with caplog.at_level(logging.WARNING, logger="ingestion.sources.github"):
        client.get("https://api.example/x", {})
    assert slept == [5]
    assert "capped from" in caplog.text and "primary rate limit" in caplog.text


def test_client_pauses_after_the_last_request_of_the_budget():
    reset = str(int(time.time()) + 3)
    last = response(200, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
    client, _, slept = client_with([last, response(200)])
    client.get("https://api.example/a", {})
    assert slept == []
    client.get("https://api.example/b", {})
    assert len(slept) == 1 and 2 <= slept[0] <= 5


def test_client_does_not_retry_a_plain_403_and_gives_up_on_endless_limits():
    client, _, slept = client_with([response(403, b'{"message": "Resource not accessible"}')])
    with pytest.raises(UpstreamAuthError, match="403 Forbidden .*Resource not accessible.*not retried"):
        list(client.pages("/repos/o/r/stargazers", {}, "application/json", EtagStore()))
    assert slept == []
    limited = [response(429, b"{}", {"Retry-After": "1"}) for _ in range(4)]
    client, _, slept = client_with(limited, max_waits=3)
    with pytest.raises(RateLimitExhausted):
        client.get("https://api.example/x", {})
    assert slept == [1.0, 1.0, 1.0]


def test_client_sends_the_token_but_never_logs_it(caplog):
    secondary = response(429, b"{}", {"Retry-After": "1"})
    client, session, _ = client_with([secondary, response(200)], token="ghp_secret123")
    with caplog.at_level(logging.DEBUG):
        client.get("https://api.example/x", {})
    assert session.calls[0][1]["Authorization"] == "Bearer ghp_secret123"
    assert "ghp_secret123" not in caplog.text


def test_client_skips_304_pages_and_follows_the_remembered_next_link():
    page1 = response(200, b'[{"id": 1}]', {"ETag": '"a"', "Link": '<https://api.example/l?page=2>; rel="next"'},
                     url="https://api.example/l?per_page=100")
    page2 = response(200, b'[{"id": 2}]', {"ETag": '"b"'})
    client, session, _ = client_with([page1, page2])
    etags = EtagStore()
    assert [row["id"] for page in client.pages("/l", {}, "application/json", etags) for row in page] == [1, 2]
    assert etags.current == {"/l?per_page=100": {"etag": '"a"', "next": "/l?page=2", "full": False},
                             "/l?page=2": {"etag": '"b"', "next": None, "full": False}}

    client, session, _ = client_with([response(304), response(200, b'[{"id": 3}]', {"ETag": '"c"'})])
    again = EtagStore(etags.current)
    assert [row["id"] for page in client.pages("/l", {}, "application/json", again) for row in page] == [3]
    assert session.calls[0][1]["If-None-Match"] == '"a"'
    assert session.calls[1][0] == "https://api.example/l?page=2" and session.calls[1][1]["If-None-Match"] == '"b"'
    assert again.current["/l?per_page=100"]["etag"] == '"a"' and again.current["/l?page=2"]["etag"] == '"c"'


def test_client_looks_past_a_full_last_page_answered_304():
    """100 rows fill page 1 exactly; a 101st starts page 2, page 1's body (and ETag) is unchanged."""
    full = b"[" + b",".join(b'{"id": %d}' % i for i in range(3)) + b"]"
    client, session, _ = client_with([response(200, full, {"ETag": '"p1"'})], per_page=3)
    etags = EtagStore()
    assert sum(len(p) for p in client.pages("/l", {}, "application/json", etags)) == 3
    client, session, _ = client_with([response(304), response(200, b'[{"id": 3}]', {"ETag": '"p2"'})], per_page=3)
    again = EtagStore(etags.current)
    assert [row["id"] for page in client.pages("/l", {}, "application/json", again) for row in page] == [3]
    assert session.calls[1][0] == "https://api.example/l?per_page=3&page=2"


def test_a_second_run_asks_issues_since_the_cursor_and_stops_pulls_at_it(sandbox_env, new_pipeline, world):
    pipeline = new_pipeline("github")
    load("github", pipeline=pipeline)
    resources = pipeline.state["sources"]["github"]["resources"]
    issue_cursors, pull_cursors = resources["issues"]["since"], resources["pull_requests"]["updated"]
    assert {repo for repo, n in world.by_repo["pulls"].items() if n} <= set(pull_cursors)

    mark = sandbox_env.last_request_number()
    second = load("github", pipeline=pipeline)
    assert {t: second[t]["loaded"] for t in TABLES} == {t: 0 for t in TABLES}
    log = sandbox_env.requests("github", since=mark)
    for repo, cursor in issue_cursors.items():
        asked = [e for e in log if e["path"].lower() == f"/github/repos/{repo}/issues".lower()]
        assert asked and all(e["params"].get("since") == cursor["updated_at"] for e in asked), repo
    for repo in world.repos:
        asked = [e for e in log if e["path"].lower() == f"/github/repos/{repo}/pulls".lower()]
        # newest-updated first: the unchanged first page (304) ends the listing
        assert [(e["params"]["sort"], e["params"]["direction"], e["status"]) for e in asked] == [
            ("updated", "desc", 304)], repo


def test_pulls_stop_paging_at_the_cursor(sandbox_env, new_pipeline, world):
    """Page 1 changed (an ETag that no longer matches) but holds only what was loaded: no page 2."""
    pipeline = new_pipeline("github")
    repo = max(world.repos, key=lambda r: world.by_repo["pulls"][r])
    assert world.by_repo["pulls"][repo] > 3, "the busiest repository should have several pull requests"
    load("github", pipeline=pipeline, repos=[repo], per_page=2)
    with pipeline.managed_state() as managed:  # forget the ETags, as if page 1 had changed
        managed["sources"]["github"]["resources"]["pull_requests"]["etags"] = {}
    mark = sandbox_env.last_request_number()
    second = load("github", pipeline=pipeline, repos=[repo], per_page=2)
    asked = [e for e in sandbox_env.requests("github", since=mark) if e["path"].endswith("/pulls")]
    assert [(e["params"].get("page", "1"), e["status"]) for e in asked] == [("1", 200)]
    assert second["pull_requests"]["loaded"] == 0
