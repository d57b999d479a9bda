"""GitHub REST: a client that pages by `Link: rel="next"`, sends remembered ETags, and waits out
rate limits; plus the row shapes of each table.

Rate limits (GitHub's documented behaviour):
- a 403/429 with `Retry-After` (secondary limit) -> sleep that long, then retry;
- a 403/429 with `X-RateLimit-Remaining: 0` (primary limit) -> sleep until `X-RateLimit-Reset`;
- a 403/429 whose message mentions a rate limit but gives no header -> sleep a minute (doubling);
- any answer with `X-RateLimit-Remaining: 0` -> the next request first sleeps until the reset.
Every sleep is capped (`max_sleep`) and logged; a request gives up after `max_waits` waits, or
once it has made the session's attempt budget (5) counting the transport retries: transport
errors and 5xx are retried by the shared retrying session (ingestion/sources/_common.py) with
backoff. A 401, or a 403 that is not a rate limit, is terminal (UpstreamAuthError).

Row shapes keep the columns of Contract 3 plus, as text, any top-level field the documented schema
lacks (settings.KNOWN_FIELDS): when GitHub adds a field it is loaded and reported, not dropped.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import time
from collections import Counter
from typing import Any, Callable, Iterator, Optional
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit, urlunsplit

from .._common import (
    HTTP_MAX_ATTEMPTS,
    SchemaDriftError,
    UpstreamError,
    check_response,
    http_session,
    parse_ts,
    unknown_fields,
)
from . import settings as gh_settings

log = logging.getLogger("ingestion.sources.github")


class RateLimitExhausted(UpstreamError):
    """GitHub kept rate-limiting one request through every wait allowed."""


class EtagStore:
    """ETags by URL (relative to the API base) from the previous run, and the ones seen in this
    run. Only URLs visited in this run are kept, so the state does not grow without bound."""

    def __init__(self, previous: Optional[dict] = None):
        self.previous: dict = dict(previous or {})
        self.current: dict = {}

    def lookup(self, key: str) -> Optional[dict]:
        return self.previous.get(key) or self.current.get(key)

    def keep(self, key: str) -> None:
        entry = self.previous.get(key)
        if entry is not None:
            self.current[key] = entry

    def put(self, key: str, etag: Optional[str], next_key: Optional[str], full: bool = False) -> None:
        if etag:
            self.current[key] = {"etag": etag, "next": next_key, "full": full}
        else:
            self.current.pop(key, None)


class GitHubClient:
    def __init__(
        self,
        base_url: str,
        token: Optional[str] = None,
        max_sleep: float = gh_settings.MAX_RATE_LIMIT_SLEEP,
        max_waits: int = gh_settings.MAX_RATE_LIMIT_WAITS,
        sleep: Callable[[float], None] = time.sleep,
        session: Any = None,
        per_page: int = gh_settings.PER_PAGE,
    ):
        self.base_url = base_url.rstrip("/")
        self.session = session or http_session(retry_429=False, source="github")  # 403/429 are handled here
        self.session.headers["X-GitHub-Api-Version"] = gh_settings.API_VERSION
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.max_sleep = max_sleep
        self.max_waits = max_waits
        self.max_attempts = getattr(self.session, "max_attempts", HTTP_MAX_ATTEMPTS)
        self.per_page = per_page
        self._sleep = sleep
        self._pause_until = 0.0
        self.stats: Counter = Counter()

    # -- URLs ---------------------------------------------------------------------------------
    def absolute(self, path_or_url: str, params: Optional[dict] = None) -> str:
        url = path_or_url if path_or_url.startswith(("http://", "https://")) else self.base_url + path_or_url
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        return url

    def relative(self, url: Optional[str]) -> Optional[str]:
        if url and url.startswith(self.base_url):
            return url[len(self.base_url):]
        return url

    # -- one request, rate limits waited out ------------------------------------------------------
    def _wait(self, seconds: float, why: str, url: str) -> None:
        capped = min(max(seconds, 0.0), self.max_sleep)
        note = f" (capped from {seconds:.0f}s)" if capped < seconds else ""
        log.warning("GitHub %s on %s: sleeping %.1fs%s", why, self.relative(url), capped, note)
        self.stats["rate_limit_waits"] += 1
        self.stats["slept_seconds"] += capped
        if capped > 0:
            self._sleep(capped)

    @staticmethod
    def _retry_after(value: str) -> Optional[float]:
        value = value.strip()
        if value.isdigit():
            return float(value)
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None

    def _limit_wait(self, response, secondary_waits: int) -> Optional[tuple[str, float]]:
        """(kind, seconds) when `response` is a rate-limit answer; None for any other status."""
        if response.status_code not in (403, 429):
            return None
        retry_after = response.headers.get("Retry-After")
        if retry_after and (seconds := self._retry_after(retry_after)) is not None:
            return "secondary rate limit (Retry-After)", seconds
        if response.headers.get("X-RateLimit-Remaining") == "0":
            reset = float(response.headers.get("X-RateLimit-Reset") or 0)
            return "primary rate limit", reset - time.time() + 1.0
        try:
            message = str(response.json().get("message", ""))
        except ValueError:
            message = response.text[:200]
        if "rate limit" in message.lower():
            return "secondary rate limit", gh_settings.SECONDARY_LIMIT_DEFAULT_WAIT * 2**secondary_waits
        return None

    def get(self, url: str, headers: dict) -> Any:
        waits = attempts = 0
        while True:
            pause = self._pause_until - time.time()
            if pause > 0:
                self._pause_until = 0.0
                self._wait(pause, "rate limit exhausted (X-RateLimit-Remaining: 0), until reset", url)
            response = self.session.get(url, headers=headers)
            attempts += getattr(response, "attempts", 1)  # the session's own retries count too
            self.stats["requests"] += 1
            limited = self._limit_wait(response, waits)
            if limited is None:
                if response.headers.get("X-RateLimit-Remaining") == "0":
                    reset = float(response.headers.get("X-RateLimit-Reset") or 0)
                    self._pause_until = reset + 1.0
                return response
            if waits >= self.max_waits or attempts >= self.max_attempts:
                raise RateLimitExhausted(
                    f"github: GET {self.relative(url)} was still rate-limited ({response.status_code}) after "
                    f"{attempts} attempts and {waits} waits; try again later", url=self.relative(url),
                    status=response.status_code, attempts=attempts)
            waits += 1
            kind, seconds = limited
            self._wait(seconds, kind, url)

    # -- paging with ETags ------------------------------------------------------------------------
    def pages(self, path: str, params: dict, accept: str, etags: EtagStore,
              stop_on_not_modified: bool = False) -> Iterator[list]:
        """Every page of a list endpoint, following `Link: rel="next"`. A 304 page is skipped
        (its rows were loaded when its ETag was stored) and paging goes on from the next link
        remembered with it, or stops there with `stop_on_not_modified` (newest-first lists: an
        unchanged first page means nothing changed). A 404 (no such repository) yields nothing."""
        url: Optional[str] = self.absolute(path, {**params, "per_page": self.per_page})
        visited = set()
        while url and url not in visited:
            visited.add(url)
            key = self.relative(url)
            cached = etags.lookup(key)
            headers = {"Accept": accept}
            if cached:
                headers["If-None-Match"] = cached["etag"]
            response = self.get(url, headers)
            if response.status_code == 304 and cached:
                self.stats["not_modified"] += 1
                etags.keep(key)
                if stop_on_not_modified:
                    return
                if cached.get("next"):
                    url = self.absolute(cached["next"])
                elif cached.get("full"):
                    # the last page was full: its body (so its ETag) stays the same when a new page
                    # starts after it, and a 304 carries no Link header, so ask for that page
                    url = with_page(url, page_of(url) + 1)
                else:
                    url = None
                continue
            if response.status_code == 404:
                log.warning("GitHub: %s not found; skipped", key.split("?")[0])
                return
            if response.status_code == 204:  # an empty repository's contributors
                return
            check_response(response, "github")
            next_url = response.links.get("next", {}).get("url")
            body = response.json()
            rows = body if isinstance(body, list) else [body]
            etags.put(key, response.headers.get("ETag"), self.relative(next_url), full=len(rows) >= self.per_page)
            self.stats["pages"] += 1
            yield rows
            url = next_url

    def one(self, path: str, etags: EtagStore, accept: str = gh_settings.ACCEPT_JSON) -> tuple[str, Optional[dict]]:
        """("ok", document) | ("unchanged", None) on 304 | ("missing", None) on 404."""
        url = self.absolute(path)
        key = self.relative(url)
        cached = etags.lookup(key)
        headers = {"Accept": accept}
        if cached:
            headers["If-None-Match"] = cached["etag"]
        response = self.get(url, headers)
        if response.status_code == 304 and cached:
            self.stats["not_modified"] += 1
            etags.keep(key)
            return "unchanged", None
        if response.status_code == 404:
            return "missing", None
        check_response(response, "github")
        etags.put(key, response.headers.get("ETag"), None)
        return "ok", response.json()


def page_of(url: str) -> int:
    values = parse_qs(urlsplit(url).query).get("page")
    return int(values[0]) if values and values[0].isdigit() else 1


def with_page(url: str, page: int) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "page"]
    return urlunsplit(parts._replace(query=urlencode(query + [("page", str(page))])))


def columns(table: str) -> dict:
    """Fresh column hints for `table` (dlt annotates hint dicts in place: never share them)."""
    types = gh_settings.COLUMN_TYPES[table]
    return {name: {"data_type": data_type, "nullable": True} for name, data_type in types.items()}


class LoginCollector:
    """Logins the repository resources yielded in this run, for `users`.

    `users` must run after them: each producer registers when its generator starts and
    finishes in a `finally`; `users` yields None (dlt's "nothing now, ask the others") until no
    producer is running. dlt starts generators in declaration order (round robin and fifo alike),
    so every selected producer has registered before `users` first asks.
    """

    def __init__(self) -> None:
        self.seen: dict[str, dict] = {}
        self.running: set[str] = set()

    def add(self, login: Optional[str], user_id=None, user_type: Optional[str] = None) -> None:
        # logins are case-insensitive on GitHub: one profile request per account
        if login and login.lower() not in self.seen:
            self.seen[login.lower()] = {"login": login, "id": user_id, "type": user_type}


def user_path(login: str) -> str:
    return gh_settings.USER.format(login=quote(login, safe=""))


def org_path(login: str) -> str:
    return gh_settings.ORG.format(login=quote(login, safe=""))


def is_bot(login: Optional[str], user_type: Optional[str]) -> bool:
    return user_type == "Bot" or bool(login and login.endswith("[bot]"))


def _login(user: Optional[dict]) -> Optional[str]:
    return (user or {}).get("login")


# -- rows -------------------------------------------------------------------------------------------


_PYTHON_TYPES = {gh_settings.BIGINT: int, gh_settings.BOOL: bool, gh_settings.TEXT: str, gh_settings.TS: dt.datetime}


def _drift(table: str, column: str, value, expected: str, item: dict) -> SchemaDriftError:
    where = f"{table} id {item.get('id')}" if item.get("id") is not None else table
    return SchemaDriftError(
        f"github: `{table}.{column}` is {type(value).__name__} {value!r} ({where}), but its raw column is "
        f"{expected} and column types are frozen (schema contract data_type: freeze). GitHub changed the type "
        f"of this field: the load stops before anything is written, and no variant column is added.")


def finish_row(table: str, row: dict, item: dict) -> dict:
    """Timestamps parsed, every value checked against its declared column type (a changed type is a
    SchemaDriftError raised while extracting, so nothing loads and no cursor moves), and the fields
    of `item` GitHub's documented schema lacks added as text (see settings.KNOWN_FIELDS)."""
    for column, declared in gh_settings.COLUMN_TYPES[table].items():
        value = row.get(column)
        if value is None:
            continue
        if declared == gh_settings.TS and isinstance(value, str):
            try:
                row[column] = value = parse_ts(value)
            except ValueError:
                raise _drift(table, column, value, "an ISO-8601 timestamp", item) from None
        wanted = _PYTHON_TYPES[declared]
        if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
            raise _drift(table, column, value, declared, item)
    for key, value in unknown_fields(item, gh_settings.KNOWN_FIELDS[table]).items():
        row.setdefault(key, value)
    return row


def stargazer_row(repo: str, item: dict) -> Optional[dict]:
    user = item.get("user") if "starred_at" in item or "user" in item else item
    login = _login(user)
    if not login:
        return None
    row = {"repo": repo, "user_login": login, "user_id": user.get("id"), "user_type": user.get("type"),
           "starred_at": item.get("starred_at")}
    return finish_row("stargazers", row, item)


def fork_row(repo: str, item: dict) -> dict:
    owner = item.get("owner") or {}
    row = {"repo": repo, "id": item["id"], "full_name": item.get("full_name"),
           "owner_login": owner.get("login"), "owner_id": owner.get("id"), "owner_type": owner.get("type"),
           "created_at": item.get("created_at"), "updated_at": item.get("updated_at")}
    return finish_row("forks", row, item)


def issue_row(repo: str, item: dict) -> dict:
    user = item.get("user") or {}
    row = {"id": item["id"], "repo": repo, "number": item.get("number"), "user_login": user.get("login"),
           "user_id": user.get("id"), "title": item.get("title"), "state": item.get("state"),
           "author_association": item.get("author_association"), "comments": item.get("comments"),
           "created_at": item.get("created_at"), "updated_at": item.get("updated_at"),
           "closed_at": item.get("closed_at")}
    return finish_row("issues", row, item)


def pull_row(repo: str, item: dict) -> dict:
    user = item.get("user") or {}
    row = {"id": item["id"], "repo": repo, "number": item.get("number"), "user_login": user.get("login"),
           "user_id": user.get("id"), "title": item.get("title"), "state": item.get("state"),
           "draft": item.get("draft"), "author_association": item.get("author_association"),
           "created_at": item.get("created_at"), "updated_at": item.get("updated_at"),
           "closed_at": item.get("closed_at"), "merged_at": item.get("merged_at")}
    return finish_row("pull_requests", row, item)


def contributor_row(repo: str, item: dict) -> Optional[dict]:
    login = item.get("login")
    if not login:  # anonymous contributors (anon=true) carry no login
        return None
    row = {"repo": repo, "login": login, "id": item.get("id"), "type": item.get("type"),
           "contributions": item.get("contributions"), "is_bot": is_bot(login, item.get("type"))}
    return finish_row("contributors", row, item)


def release_row(repo: str, item: dict) -> dict:
    row = {"id": item["id"], "repo": repo, "tag_name": item.get("tag_name"), "name": item.get("name"),
           "draft": item.get("draft"), "prerelease": item.get("prerelease"),
           "created_at": item.get("created_at"), "published_at": item.get("published_at"),
           "author_login": _login(item.get("author"))}
    return finish_row("releases", row, item)


def user_row(doc: dict) -> dict:
    login = doc.get("login")
    row = {"login": login, "id": doc.get("id"), "type": doc.get("type"), "name": doc.get("name"),
           "company": doc.get("company"), "email": doc.get("email"), "blog": doc.get("blog") or None,
           "location": doc.get("location"), "bio": doc.get("bio"),
           "twitter_username": doc.get("twitter_username"), "public_repos": doc.get("public_repos"),
           "followers": doc.get("followers"), "created_at": doc.get("created_at"),
           "updated_at": doc.get("updated_at"), "is_bot": is_bot(login, doc.get("type"))}
    return finish_row("users", row, doc)


def org_row(doc: dict) -> dict:
    row = {"login": doc.get("login"), "id": doc.get("id"), "name": doc.get("name"),
           "blog": doc.get("blog") or None, "email": doc.get("email"), "location": doc.get("location"),
           "description": doc.get("description"), "public_repos": doc.get("public_repos"),
           "created_at": doc.get("created_at")}
    return finish_row("orgs", row, doc)
