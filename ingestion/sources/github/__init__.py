"""GitHub: stargazers, forks, issues, pull requests, contributors and releases of each repository
in DEVSIGNAL_GITHUB_REPOS, then the profile of every login seen in them (`users`) and the
repositories' owners (`orgs`).

| resource | primary key | disposition | notes |
|---|---|---|---|
| `stargazers` | repo, user_login | merge | `Accept: application/vnd.github.star+json` for `starred_at` |
| `forks` | repo, id | merge | `sort=oldest` |
| `issues` | id | merge | `state=all`, PRs dropped; per-repo cursor on `updated_at` sent as `since` |
| `pull_requests` | id | merge | `state=all&sort=updated&direction=desc`; per-repo cursor, paging stops at it |
| `contributors` | repo, login | merge | `is_bot` |
| `releases` | id | merge | |
| `users` | login | merge | `/users/{login}` for every login the resources above yielded in this run; `is_bot` |
| `orgs` | login | merge | `/orgs/{owner}` for each owner (a user-owner goes to `users`) |

Every list follows `Link: rel="next"`; every GET sends the ETag remembered in dlt state
(`If-None-Match`) and a 304 is skipped as unchanged, so a second run over an unchanged
repository loads nothing. Rate limits are waited out (see helpers.py); 5xx and transport errors
are retried (at most 5 attempts per request); a 401 or a plain 403 stops the run
(UpstreamAuthError) before any cursor moves. A field GitHub adds is loaded as a new text column.
"""

from __future__ import annotations

import logging
from typing import Iterator, Optional, Sequence

import dlt
from dlt.sources import DltResource

from devsignal import settings as ds_settings

from .._common import SCHEMA_CONTRACT, SourceInputError, parse_ts
from . import settings as gh_settings
from .helpers import (
    EtagStore,
    GitHubClient,
    LoginCollector,
    columns,
    contributor_row,
    fork_row,
    is_bot,
    issue_row,
    org_path,
    org_row,
    pull_row,
    release_row,
    stargazer_row,
    user_path,
    user_row,
)

log = logging.getLogger("ingestion.sources.github")


@dlt.source(name="github", section="github", schema_contract=SCHEMA_CONTRACT)
def github_source(
    repos: Optional[Sequence[str]] = None,
    base_url: Optional[str] = None,
    access_token: Optional[str] = dlt.secrets.value,
    max_rate_limit_sleep: float = gh_settings.MAX_RATE_LIMIT_SLEEP,
    per_page: int = gh_settings.PER_PAGE,
) -> Sequence[DltResource]:
    """GitHub activity of some repositories, and the people and organisations behind it.

    Args:
        repos: "owner/name" repositories (DEVSIGNAL_GITHUB_REPOS).
        base_url: REST API base URL (DEVSIGNAL_GITHUB_API_URL).
        access_token: dlt secret `sources.github.access_token`, else GITHUB_TOKEN, else none
            (60 requests an hour upstream). Sent as a bearer token, never logged.
        max_rate_limit_sleep: longest single rate-limit sleep, in seconds.
        per_page: items asked per list page (GitHub's maximum is 100).

    Returns:
        The resources `stargazers`, `forks`, `issues`, `pull_requests`, `contributors`,
        `releases`, `orgs`, `users` (`users` runs after the others, see LoginCollector).
    """
    repo_list = list(repos) if repos else ds_settings.get_list(gh_settings.REPOS_SETTING)
    token = access_token or ds_settings.get(gh_settings.TOKEN_SETTING) or None
    client = GitHubClient(base_url or ds_settings.get(gh_settings.API_URL_SETTING), token=token,
                          max_sleep=max_rate_limit_sleep, per_page=per_page)
    collector = LoginCollector()

    def check_repos() -> None:
        bad = [r for r in repo_list if r.count("/") != 1 or "" in r.split("/")]
        if bad:
            raise SourceInputError(
                f"{gh_settings.REPOS_SETTING}: repositories are owner/name, got: {', '.join(bad)}")

    def produce(name: str, endpoint: tuple, shape, remember) -> Iterator[list[dict]]:
        """Rows of one list endpoint over every repository, with ETags kept in resource state."""
        check_repos()
        state = dlt.current.resource_state(name)
        etags = EtagStore(state.get("etags"))
        collector.running.add(name)
        try:
            path, params, accept = endpoint
            for repo in repo_list:
                for page in client.pages(path.format(repo=repo), params, accept, etags):
                    rows = [row for row in (shape(repo, item) for item in page) if row is not None]
                    for row in rows:
                        remember(row)
                    if rows:
                        yield rows
            state["etags"] = etags.current
        finally:
            collector.running.discard(name)

    @dlt.resource(name="stargazers", primary_key=("repo", "user_login"), write_disposition="merge",
                  columns=columns("stargazers"))
    def stargazers() -> Iterator[list[dict]]:
        yield from produce("stargazers", gh_settings.STARGAZERS, stargazer_row,
                           lambda r: collector.add(r["user_login"], r["user_id"], r["user_type"]))

    @dlt.resource(name="forks", primary_key=("repo", "id"), write_disposition="merge", columns=columns("forks"))
    def forks() -> Iterator[list[dict]]:
        yield from produce("forks", gh_settings.FORKS, fork_row,
                           lambda r: collector.add(r["owner_login"], r["owner_id"], r["owner_type"]))

    @dlt.resource(name="issues", primary_key="id", write_disposition="merge", columns=columns("issues"))
    def issues() -> Iterator[list[dict]]:
        """Issues only (items with `pull_request` are dropped), per-repo `since` cursor: the
        newest `updated_at` seen, with the ids at that instant so the boundary is not re-loaded."""
        check_repos()
        state = dlt.current.resource_state("issues")
        cursors: dict = state.setdefault("since", {})
        etags = EtagStore(state.get("etags"))
        collector.running.add("issues")
        try:
            path, params, accept = gh_settings.ISSUES
            for repo in repo_list:
                cursor = cursors.get(repo) or {}
                since, known = cursor.get("updated_at"), set(cursor.get("ids", []))
                query = {**params, **({"since": since} if since else {})}
                cursor_at = newest = parse_ts(since)
                newest_ids = set(known)
                for page in client.pages(path.format(repo=repo), query, accept, etags):
                    rows = []
                    for item in page:
                        if "pull_request" in item:
                            continue
                        row = issue_row(repo, item)
                        updated = row["updated_at"]
                        if cursor_at and updated is not None and updated <= cursor_at and row["id"] in known:
                            continue  # loaded last time, at the cursor instant
                        rows.append(row)
                        collector.add(row["user_login"], row["user_id"])
                        if updated is not None:
                            if newest is None or updated > newest:
                                newest, newest_ids = updated, {row["id"]}
                            elif updated == newest:
                                newest_ids.add(row["id"])
                    if rows:
                        yield rows
                if newest is not None:
                    cursors[repo] = {"updated_at": newest.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                     "ids": sorted(newest_ids)}
            state["etags"] = etags.current
        finally:
            collector.running.discard("issues")

    @dlt.resource(name="pull_requests", primary_key="id", write_disposition="merge",
                  columns=columns("pull_requests"))
    def pull_requests() -> Iterator[list[dict]]:
        """`/pulls` has no `since`: it is read newest-updated first and paging stops at the stored
        per-repo cursor (newest `updated_at` + the ids at it). An unchanged first page (304)
        means nothing was updated, so no other page is asked for."""
        check_repos()
        state = dlt.current.resource_state("pull_requests")
        cursors: dict = state.setdefault("updated", {})
        etags = EtagStore(state.get("etags"))
        collector.running.add("pull_requests")
        try:
            path, params, accept = gh_settings.PULLS
            for repo in repo_list:
                cursor = cursors.get(repo) or {}
                cursor_at, known = parse_ts(cursor.get("updated_at")), set(cursor.get("ids", []))
                newest, newest_ids = cursor_at, set(known)
                for page in client.pages(path.format(repo=repo), params, accept, etags, stop_on_not_modified=True):
                    rows, reached = [], False
                    for item in page:
                        row = pull_row(repo, item)
                        updated = row["updated_at"]
                        if cursor_at is not None and updated is not None:
                            if updated < cursor_at:
                                reached = True  # newest first: everything after this was loaded before
                                break
                            if updated == cursor_at and row["id"] in known:
                                continue
                        rows.append(row)
                        collector.add(row["user_login"], row["user_id"])
                        if updated is not None:
                            if newest is None or updated > newest:
                                newest, newest_ids = updated, {row["id"]}
                            elif updated == newest:
                                newest_ids.add(row["id"])
                    if rows:
                        yield rows
                    if reached:
                        break
                if newest is not None:
                    cursors[repo] = {"updated_at": newest.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                     "ids": sorted(newest_ids)}
            state["etags"] = etags.current
        finally:
            collector.running.discard("pull_requests")

    @dlt.resource(name="contributors", primary_key=("repo", "login"), write_disposition="merge",
                  columns=columns("contributors"))
    def contributors() -> Iterator[list[dict]]:
        yield from produce("contributors", gh_settings.CONTRIBUTORS, contributor_row,
                           lambda r: collector.add(r["login"], r["id"], r["type"]))

    @dlt.resource(name="releases", primary_key="id", write_disposition="merge", columns=columns("releases"))
    def releases() -> Iterator[list[dict]]:
        yield from produce("releases", gh_settings.RELEASES, release_row,
                           lambda r: collector.add(r["author_login"]))

    @dlt.resource(name="orgs", primary_key="login", write_disposition="merge", columns=columns("orgs"))
    def orgs() -> Iterator[dict]:
        """The repositories' owners; an owner that is a user (404 on /orgs) goes to `users`."""
        check_repos()
        state = dlt.current.resource_state("orgs")
        etags = EtagStore(state.get("etags"))
        collector.running.add("orgs")
        try:
            for owner in dict.fromkeys(r.split("/")[0] for r in repo_list):
                status, doc = client.one(org_path(owner), etags)
                if status == "ok":
                    yield org_row(doc)
                elif status == "missing":
                    collector.add(owner)
            state["etags"] = etags.current
        finally:
            collector.running.discard("orgs")

    @dlt.resource(name="users", primary_key="login", write_disposition="merge", columns=columns("users"))
    def users() -> Iterator[list[dict]]:
        """A profile for every login seen in this run (bots kept, `is_bot`)."""
        while collector.running:
            yield None  # let the producers finish first
        state = dlt.current.resource_state("users")
        etags = EtagStore(state.get("etags"))
        batch: list[dict] = []
        for _, seen in sorted(collector.seen.items()):
            login = seen["login"]
            status, doc = client.one(user_path(login), etags)
            if status == "ok":
                batch.append(user_row(doc))
            elif status == "missing":  # deleted or renamed since: keep what the listing said
                batch.append({**seen, "is_bot": is_bot(login, seen.get("type"))})
            if len(batch) >= 500:
                yield batch
                batch = []
        if batch:
            yield batch
        # profiles are few and re-read only when a listing shows the login again: keep every ETag
        state["etags"] = {**etags.previous, **etags.current}

    return (stargazers(), forks(), issues(), pull_requests(), contributors(), releases(), orgs(), users())


source = github_source
