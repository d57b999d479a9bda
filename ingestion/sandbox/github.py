"""GitHub REST API (api.github.com): repositories, stargazers, forks, issues, pulls, contributors,
releases, users and organisations, with GitHub's paging, conditional requests and rate limits.

What we rely on, from docs.github.com/rest (API version 2022-11-28) and responses quoted in public issues:
- Lists take `per_page` (default 30, max 100) and `page`, and answer a `Link` header with `rel="prev"`,
  `rel="next"`, `rel="last"`, `rel="first"` (in that order, each only when it applies), built on the
  request's own URL. No Link header when everything fits on page 1.
- Every 200 carries an `ETag`; a request with a matching `If-None-Match` gets 304 with no body, and
  304s do not count against the rate limit.
- Every response carries `X-RateLimit-Limit`, `-Remaining`, `-Reset` (epoch seconds), `-Used` and
  `-Resource`. Budgets are per token (the `Authorization` header) or per IP without one. When spent:
  403 {"message": "API rate limit exceeded for ...", "documentation_url", "status": "403"} with
  remaining 0. `GET /rate_limit` does not count.
- Secondary rate limit: 403 (or 429) {"message": "You have exceeded a secondary rate limit. ..."}
  with `Retry-After: <seconds>`; the client must wait that long.
- Requests without a `User-Agent` header are refused (403, plain text).
- Stargazers with `Accept: application/vnd.github.star+json` -> [{"starred_at", "user"}], otherwise a
  list of users. `/issues` lists pull requests too (they carry a `pull_request` key), default
  state=open, sort=created, direction=desc; `since` keeps items updated at or after it. `/pulls`:
  state=open|closed|all, sort=created|updated|popularity|long-running, direction desc by default for
  created, asc otherwise. `/forks`: sort=newest|oldest|stargazers|watchers. `/contributors`: most
  contributions first. `/releases`: newest first.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import quote, unquote

from .web import (
    Request,
    Response,
    Stats,
    etag_matches,
    iso_z,
    json_response,
    parse_iso,
    stable_hex,
    stable_int,
    strong_etag,
    text_response,
)
from .world_data import Repo, World

API_VERSION = "2022-11-28"
DOCS = "https://docs.github.com/rest"
RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
NOT_FOUND_DOCS = {
    "repo": f"{DOCS}/repos/repos#get-a-repository",
    "stargazers": f"{DOCS}/activity/starring#list-stargazers",
    "forks": f"{DOCS}/repos/forks#list-forks",
    "issues": f"{DOCS}/issues/issues#list-repository-issues",
    "pulls": f"{DOCS}/pulls/pulls#list-pull-requests",
    "contributors": f"{DOCS}/repos/repos#list-repository-contributors",
    "releases": f"{DOCS}/releases/releases#list-releases",
    "user": f"{DOCS}/users/users#get-a-user",
    "org": f"{DOCS}/orgs/orgs#get-an-organization",
}
NO_USER_AGENT = (
    "Request forbidden by administrative rules. Please make sure your request has a User-Agent header "
    "(https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). "
    "Check https://developer.github.com for other possible causes.\n"
)


@dataclass
class GitHubLimits:
    """Knobs for GitHub's two rate limits. Tests shrink them; the demo keeps the defaults."""

    rate_limit: int = 5000  # requests per window per token (or per IP without one)
    rate_limit_window: float = 3600.0  # seconds until X-RateLimit-Reset
    secondary_every: int = 500  # every Nth request of a client trips the secondary limit (0 = never)
    secondary_retry_after: int = 1  # seconds in Retry-After
    secondary_status: int = 403  # GitHub answers 403 or 429


@dataclass
class ClientBudget:
    reset_at: float
    used: int = 0
    requests_seen: int = 0  # for the deterministic secondary limit
    blocked_until: float = 0.0  # secondary limit in force until then


@dataclass
class RateLimiter:
    limits: GitHubLimits
    clock: Callable[[], float] = time.time
    lock: threading.Lock = field(default_factory=threading.Lock)
    _budgets: dict[str, ClientBudget] = field(default_factory=dict)

    def budget(self, client: str) -> ClientBudget:
        """The client's budget, starting a new window when the previous one has reset. Hold `lock`."""
        now = self.clock()
        budget = self._budgets.get(client)
        if budget is None or now >= budget.reset_at:
            budget = ClientBudget(reset_at=math.ceil(now + self.limits.rate_limit_window))
            self._budgets[client] = budget
        return budget

    def headers(self, budget: ClientBudget) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limits.rate_limit),
            "X-RateLimit-Remaining": str(max(self.limits.rate_limit - budget.used, 0)),
            "X-RateLimit-Reset": str(int(budget.reset_at)),
            "X-RateLimit-Used": str(budget.used),
            "X-RateLimit-Resource": "core",
        }


class GitHubApi:
    """api.github.com"""

    def __init__(self, world: World, limits: GitHubLimits, stats: Stats, clock: Callable[[], float] = time.time):
        self.world = world
        self.limits = limits
        self.limiter = RateLimiter(limits, clock)
        self.stats = stats
        self.clock = clock
        self._request_counter = 0
        self._counter_lock = threading.Lock()
        self._repo_facts: dict[str, dict] = {}

    # --- the request pipeline: user agent, limits, route, conditional request ------------------

    def handle(self, request: Request) -> Response:
        if not request.header("user-agent"):
            return text_response(403, NO_USER_AGENT)
        request_id = self._next_request_id()
        client = request.header("authorization") or f"ip:{request.client_ip}"
        if request.path.rstrip("/") == "/rate_limit":
            with self.limiter.lock:
                headers = self.limiter.headers(self.limiter.budget(client))
            return self._finish(self.rate_limit_status(client), headers, request_id)

        with self.limiter.lock:
            budget = self.limiter.budget(client)
            refusal = self._refusal(request, budget, request_id)
            headers = self.limiter.headers(budget)
        if refusal is not None:
            return self._finish(refusal, headers, request_id)

        response = self.route(request)
        if response.status == 200:
            etag = strong_etag(response.body)
            response.headers["ETag"] = etag
            if etag_matches(request.header("if-none-match"), etag):
                self.stats.add("github", "not_modified")
                response = Response(304, b"", {"ETag": etag})
        with self.limiter.lock:
            budget = self.limiter.budget(client)
            if response.status != 304:  # like GitHub: a 304 costs nothing
                budget.used += 1
            headers = self.limiter.headers(budget)
        return self._finish(response, headers, request_id)

    def _refusal(self, request: Request, budget: ClientBudget, request_id: str) -> Response | None:
        """A secondary- or primary-rate-limit refusal, or None when the request may go on."""
        now = self.clock()
        if now < budget.blocked_until:
            return self._secondary_refusal(math.ceil(budget.blocked_until - now), request_id)
        budget.requests_seen += 1
        every = self.limits.secondary_every
        if every and budget.requests_seen % every == 0:
            budget.blocked_until = now + self.limits.secondary_retry_after
            return self._secondary_refusal(self.limits.secondary_retry_after, request_id)
        if budget.used >= self.limits.rate_limit:
            self.stats.add("github", "rate_limited")
            if request.header("authorization"):
                who = f"user ID {stable_int('token:' + request.header('authorization'), digits=8)}."
            else:
                who = (f"{request.client_ip}. (But here's the good news: Authenticated requests get a higher "
                       "rate limit. Check out the documentation for more details.)")
            message = f"API rate limit exceeded for {who}{self._support_note(request_id)}"
            return json_response(403, {"message": message, "documentation_url": RATE_LIMIT_DOCS, "status": "403"})
        return None

    def _secondary_refusal(self, retry_after: int, request_id: str) -> Response:
        self.stats.add("github", "secondary_rate_limited")
        status = self.limits.secondary_status
        message = ("You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
                   + self._support_note(request_id))
        body = {"message": message, "documentation_url": f"{RATE_LIMIT_DOCS}#about-secondary-rate-limits",
                "status": str(status)}
        return json_response(status, body, headers={"Retry-After": str(max(retry_after, 1))})

    def _support_note(self, request_id: str) -> str:
        stamp = dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        return (f" If you reach out to GitHub Support for help, please include the request ID {request_id} "
                f"and timestamp {stamp} UTC.")

    def _next_request_id(self) -> str:
        with self._counter_lock:
            self._request_counter += 1
            n = self._request_counter
        return f"{n % 0xFFFF:04X}:{(n * 7919) % 0xFFFFF:05X}:{n:07X}:{n * 3:07X}:{int(self.clock()):08X}"

    @staticmethod
    def _finish(response: Response, rate_headers: dict[str, str], request_id: str) -> Response:
        response.headers.update(rate_headers)
        response.headers["X-GitHub-Request-Id"] = request_id
        response.headers["X-GitHub-Api-Version-Selected"] = API_VERSION
        response.headers.setdefault("X-GitHub-Media-Type", "github.v3; format=json")
        return response

    def rate_limit_status(self, client: str) -> Response:
        """`GET /rate_limit` (free of charge, like GitHub's). Only the `core` resource is modelled."""
        with self.limiter.lock:
            budget = self.limiter.budget(client)
            core = {"limit": self.limits.rate_limit, "used": budget.used,
                    "remaining": max(self.limits.rate_limit - budget.used, 0),
                    "reset": int(budget.reset_at), "resource": "core"}
        return json_response(200, {"resources": {"core": core}, "rate": dict(core)})

    # --- routing --------------------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        api = request.base_url
        if len(parts) == 2 and parts[0] == "users":
            return self.get_user(api, parts[1])
        if len(parts) == 2 and parts[0] == "orgs":
            return self.get_org(api, parts[1])
        if len(parts) in (3, 4) and parts[0] == "repos":
            repo = self.world.repos.get(f"{parts[1]}/{parts[2]}".lower())
            what = parts[3] if len(parts) == 4 else "repo"
            listings = {
                "stargazers": self.list_stargazers,
                "forks": self.list_forks,
                "issues": self.list_issues,
                "pulls": self.list_pulls,
                "contributors": self.list_contributors,
                "releases": self.list_releases,
            }
            if what != "repo" and what not in listings:
                return not_found(DOCS)
            if repo is None:
                return not_found(NOT_FOUND_DOCS[what])
            if what == "repo":
                return json_response(200, self.repository(api, repo, full=True))
            return listings[what](request, repo)
        return not_found(DOCS)

    # --- endpoints ------------------------------------------------------------------------------

    def get_user(self, api: str, login: str) -> Response:
        row = self.world.users.get(login.lower())
        if row is not None:
            return json_response(200, full_user(api, row))
        org = self.world.orgs.get(login.lower())
        if org is not None:  # /users/{org} answers the organisation in user shape
            return json_response(200, full_user(api, {**org, "type": "Organization", "company": None,
                                                      "bio": org.get("description"),
                                                      "updated_at": org.get("created_at")}))
        return not_found(NOT_FOUND_DOCS["user"])

    def get_org(self, api: str, login: str) -> Response:
        row = self.world.orgs.get(login.lower())
        if row is None:
            return not_found(NOT_FOUND_DOCS["org"])
        public_repos = sum(1 for repo in self.world.repos.values() if repo.owner.lower() == login.lower())
        return json_response(200, organization(api, row, public_repos))

    def list_stargazers(self, request: Request, repo: Repo) -> Response:
        api = request.base_url
        if "star+json" in request.header("accept"):
            def build(row: dict) -> dict:
                return {"starred_at": iso_z(row["starred_at"]), "user": self.simple_user(api, row["login"])}
            return paginate(request, repo.stargazers, build, media_type="github.v3; param=star; format=json")
        return paginate(request, repo.stargazers, lambda row: self.simple_user(api, row["login"]))

    def list_forks(self, request: Request, repo: Repo) -> Response:
        rows = repo.forks  # newest first
        if request.query.get("sort") == "oldest":
            rows = rows[::-1]
        parent = self.repository(request.base_url, repo)
        return paginate(request, rows, lambda row: self.fork(request.base_url, parent, row))

    def list_issues(self, request: Request, repo: Repo) -> Response:
        rows = filter_state(repo.issues, request.query.get("state", "open"))
        since = parse_iso(request.query["since"]) if request.query.get("since") else None
        if since is not None:
            cutoff = iso_z(since)
            rows = [r for r in rows if (iso_z(r["updated_at"]) or "") >= cutoff]
        creator = request.query.get("creator")
        if creator:
            rows = [r for r in rows if r["login"].lower() == creator.lower()]
        sort = request.query.get("sort", "created")
        rows = sort_items(rows, "updated_at" if sort == "updated" else "created_at",
                          descending=request.query.get("direction", "desc") != "asc")
        contributors = {c["login"].lower() for c in repo.contributors}
        api = request.base_url
        return paginate(request, rows, lambda row: self.issue(api, repo, row, contributors))

    def list_pulls(self, request: Request, repo: Repo) -> Response:
        pulls = [r for r in repo.issues if r["is_pull_request"]]
        rows = filter_state(pulls, request.query.get("state", "open"))
        sort = request.query.get("sort", "created")
        default_direction = "desc" if sort == "created" else "asc"
        rows = sort_items(rows, "updated_at" if sort == "updated" else "created_at",
                          descending=request.query.get("direction", default_direction) == "desc")
        contributors = {c["login"].lower() for c in repo.contributors}
        api = request.base_url
        base_repo = self.repository(api, repo)
        return paginate(request, rows, lambda row: self.pull(api, repo, base_repo, row, contributors))

    def list_contributors(self, request: Request, repo: Repo) -> Response:
        api = request.base_url

        def build(row: dict) -> dict:
            return {**self.simple_user(api, row["login"]), "contributions": int(row["contributions"])}
        return paginate(request, repo.contributors, build)

    def list_releases(self, request: Request, repo: Repo) -> Response:
        api = request.base_url
        return paginate(request, repo.releases, lambda row: self.release(api, repo, row))

    # --- object builders (field lists follow the documented response schemas) ------------------

    def account(self, login: str) -> dict:
        """The world's row for a login: a user, an organisation, or a stand-in for an unknown login."""
        row = self.world.users.get(login.lower())
        if row is not None:
            return row
        org = self.world.orgs.get(login.lower())
        if org is not None:
            return {**org, "type": "Organization"}
        return {"login": login, "id": stable_int(f"user:{login.lower()}", digits=8), "type": "User"}

    def simple_user(self, api: str, login: str) -> dict:
        return simple_user(api, self.account(login))

    def owner_of(self, repo: Repo) -> dict:
        return self.account(repo.owner)

    def repo_facts(self, repo: Repo) -> dict:
        """Dates and counts the world implies for a repository (computed once, they never change)."""
        facts = self._repo_facts.get(repo.full_name)
        if facts is None:
            owner = self.owner_of(repo)
            # The repository exists before its first star, fork or issue, and no earlier than its owner.
            firsts = [iso_z(owner.get("created_at"))]
            firsts += [iso_z(r["starred_at"]) for r in repo.stargazers[:1]]  # oldest first
            firsts += [iso_z(r["created_at"]) for r in repo.forks[-1:] + repo.issues[-1:]]  # newest first
            known = [t for t in firsts if t]
            created_at = min(known) if known else iso_z(self.world.start_date)
            lasts = [iso_z(r["updated_at"]) for r in repo.issues] + [iso_z(r["published_at"]) for r in repo.releases]
            facts = {
                "created_at": created_at,
                "updated_at": max([created_at] + [t for t in lasts if t]),
                "open_issues": sum(1 for r in repo.issues if issue_state(r) == "open"),
            }
            self._repo_facts[repo.full_name] = facts
        return facts

    def repository(self, api: str, repo: Repo, full: bool = False) -> dict:
        owner = self.owner_of(repo)
        facts = self.repo_facts(repo)
        body = repository_object(
            api,
            repo_id=stable_int(f"repo:{repo.full_name.lower()}", digits=9),
            owner=simple_user(api, owner),
            name=repo.name,
            description=None,
            fork=False,
            created_at=facts["created_at"],
            updated_at=facts["updated_at"],
            pushed_at=facts["updated_at"],
            stargazers=len(repo.stargazers),
            forks=len(repo.forks),
            open_issues=facts["open_issues"],
        )
        if full:
            if owner.get("type") == "Organization":
                body["organization"] = simple_user(api, owner)
            body["network_count"] = len(repo.forks)
            body["subscribers_count"] = len(repo.contributors)
        return body

    def fork(self, api: str, parent: dict, row: dict) -> dict:
        created_at = iso_z(row["created_at"])
        return repository_object(
            api,
            repo_id=int(row["id"]),
            owner=self.simple_user(api, row["owner_login"]),
            name=parent["name"],
            description=parent["description"],
            fork=True,
            created_at=created_at,
            updated_at=created_at,
            pushed_at=created_at,
            stargazers=0,
            forks=0,
            open_issues=0,
        )

    def issue(self, api: str, repo: Repo, row: dict, contributors: set[str]) -> dict:
        number = int(row["number"])
        full = repo.full_name
        state = issue_state(row)
        is_pull = bool(row["is_pull_request"])
        html_url = f"https://github.com/{full}/{'pull' if is_pull else 'issues'}/{number}"
        body = {
            "url": f"{api}/repos/{full}/issues/{number}",
            "repository_url": f"{api}/repos/{full}",
            "labels_url": f"{api}/repos/{full}/issues/{number}/labels{{/name}}",
            "comments_url": f"{api}/repos/{full}/issues/{number}/comments",
            "events_url": f"{api}/repos/{full}/issues/{number}/events",
            "html_url": html_url,
            "id": int(row["id"]),
            "node_id": node_id("05:Issue", int(row["id"])),
            "number": number,
            "title": row["title"],
            "user": self.simple_user(api, row["login"]),
            "labels": [],
            "state": state,
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": 0,
            "created_at": iso_z(row["created_at"]),
            "updated_at": iso_z(row["updated_at"]),
            "closed_at": iso_z(row["closed_at"]),
            "author_association": association(row["login"], contributors),
            "active_lock_reason": None,
            "body": None,
            "reactions": reactions(f"{api}/repos/{full}/issues/{number}/reactions"),
            "timeline_url": f"{api}/repos/{full}/issues/{number}/timeline",
            "performed_via_github_app": None,
            "state_reason": "completed" if state == "closed" and not is_pull else None,
        }
        if is_pull:
            body["draft"] = False
            body["pull_request"] = {
                "url": f"{api}/repos/{full}/pulls/{number}",
                "html_url": html_url,
                "diff_url": f"{html_url}.diff",
                "patch_url": f"{html_url}.patch",
                "merged_at": iso_z(row.get("merged_at")),
            }
        return body

    def pull(self, api: str, repo: Repo, base_repo: dict, row: dict, contributors: set[str]) -> dict:
        number = int(row["number"])
        full = repo.full_name
        html_url = f"https://github.com/{full}/pull/{number}"
        author = self.simple_user(api, row["login"])
        merged_at = iso_z(row.get("merged_at"))
        head_sha = stable_hex(f"head:{full}:{number}")
        links = {
            "self": f"{api}/repos/{full}/pulls/{number}",
            "html": html_url,
            "issue": f"{api}/repos/{full}/issues/{number}",
            "comments": f"{api}/repos/{full}/issues/{number}/comments",
            "review_comments": f"{api}/repos/{full}/pulls/{number}/comments",
            "review_comment": f"{api}/repos/{full}/pulls/comments{{/number}}",
            "commits": f"{api}/repos/{full}/pulls/{number}/commits",
            "statuses": f"{api}/repos/{full}/statuses/{head_sha}",
        }
        return {
            "url": links["self"],
            "id": int(row["id"]),
            "node_id": node_id("011:PullRequest", int(row["id"])),
            "html_url": html_url,
            "diff_url": f"{html_url}.diff",
            "patch_url": f"{html_url}.patch",
            "issue_url": links["issue"],
            "number": number,
            "state": issue_state(row),
            "locked": False,
            "title": row["title"],
            "user": author,
            "body": None,
            "created_at": iso_z(row["created_at"]),
            "updated_at": iso_z(row["updated_at"]),
            "closed_at": iso_z(row["closed_at"]),
            "merged_at": merged_at,
            "merge_commit_sha": stable_hex(f"merge:{full}:{number}") if merged_at else None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "labels": [],
            "milestone": None,
            "draft": False,
            "commits_url": links["commits"],
            "review_comments_url": links["review_comments"],
            "review_comment_url": links["review_comment"],
            "comments_url": links["comments"],
            "statuses_url": links["statuses"],
            "head": {"label": f"{row['login']}:patch-{number}", "ref": f"patch-{number}", "sha": head_sha,
                     "user": author, "repo": base_repo},
            "base": {"label": f"{repo.owner}:main", "ref": "main", "sha": stable_hex(f"base:{full}:{number}"),
                     "user": base_repo["owner"], "repo": base_repo},
            "_links": {name: {"href": href} for name, href in links.items()},
            "author_association": association(row["login"], contributors),
            "auto_merge": None,
            "active_lock_reason": None,
        }

    def release(self, api: str, repo: Repo, row: dict) -> dict:
        full = repo.full_name
        release_id = int(row["id"])
        tag = row["tag_name"]
        published_at = iso_z(row["published_at"])
        return {
            "url": f"{api}/repos/{full}/releases/{release_id}",
            "assets_url": f"{api}/repos/{full}/releases/{release_id}/assets",
            "upload_url": f"https://uploads.github.com/repos/{full}/releases/{release_id}/assets{{?name,label}}",
            "html_url": f"https://github.com/{full}/releases/tag/{tag}",
            "id": release_id,
            "author": self.simple_user(api, row["author_login"]),
            "node_id": node_id("07:Release", release_id),
            "tag_name": tag,
            "target_commitish": "main",
            "name": row["name"],
            "draft": False,
            "prerelease": False,
            "created_at": published_at,
            "published_at": published_at,
            "assets": [],
            "tarball_url": f"{api}/repos/{full}/tarball/{tag}",
            "zipball_url": f"{api}/repos/{full}/zipball/{tag}",
            "body": None,
        }


# --- plain helpers -----------------------------------------------------------------------------


def not_found(documentation_url: str) -> Response:
    return json_response(404, {"message": "Not Found", "documentation_url": documentation_url, "status": "404"})


def issue_state(row: dict) -> str:
    return "open" if str(row["state"]).lower() == "open" else "closed"


def filter_state(rows: list[dict], state: str) -> list[dict]:
    """`state=open|closed|all`; anything else is read as the default, open."""
    wanted = state if state in ("open", "closed", "all") else "open"
    return [r for r in rows if wanted == "all" or issue_state(r) == wanted]


def sort_items(rows: list[dict], key: str, descending: bool) -> list[dict]:
    return sorted(rows, key=lambda r: (iso_z(r[key]) or "", int(r["number"])), reverse=descending)


def association(login: str, contributors: set[str]) -> str:
    return "CONTRIBUTOR" if login.lower() in contributors else "NONE"


def node_id(prefix: str, number: int) -> str:
    """GitHub's legacy global node ids are base64 of "<length>:<Type><id>"."""
    return base64.b64encode(f"{prefix}{number}".encode()).decode()


def reactions(url: str) -> dict:
    return {"url": url, "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0, "confused": 0,
            "heart": 0, "rocket": 0, "eyes": 0}


def page_numbers(request: Request) -> tuple[int, int]:
    def as_int(name: str, default: int) -> int:
        try:
            return int(request.query.get(name, default))
        except ValueError:
            return default
    per_page = min(max(as_int("per_page", 30), 1), 100)
    page = max(as_int("page", 1), 1)
    return page, per_page


def paginate(request: Request, rows: list, build: Callable[[dict], dict],
             media_type: str = "github.v3; format=json") -> Response:
    page, per_page = page_numbers(request)
    last_page = max(math.ceil(len(rows) / per_page), 1)
    items = [build(row) for row in rows[(page - 1) * per_page: page * per_page]]
    links = []
    if page > 1:
        links.append(f'<{request.url_with(page=page - 1)}>; rel="prev"')
    if page < last_page:
        links.append(f'<{request.url_with(page=page + 1)}>; rel="next"')
        links.append(f'<{request.url_with(page=last_page)}>; rel="last"')
    if page > 1:
        links.append(f'<{request.url_with(page=1)}>; rel="first"')
    headers = {"X-GitHub-Media-Type": media_type}
    if links:
        headers["Link"] = ", ".join(links)
    return json_response(200, items, headers=headers)


def user_urls(api: str, login: str) -> dict:
    base = f"{api}/users/{quote(login)}"  # bots: /users/dependabot%5Bbot%5D
    html_url = (f"https://github.com/apps/{login.removesuffix('[bot]')}" if login.endswith("[bot]")
                else f"https://github.com/{login}")
    return {
        "url": base,
        "html_url": html_url,
        "followers_url": f"{base}/followers",
        "following_url": f"{base}/following{{/other_user}}",
        "gists_url": f"{base}/gists{{/gist_id}}",
        "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{base}/subscriptions",
        "organizations_url": f"{base}/orgs",
        "repos_url": f"{base}/repos",
        "events_url": f"{base}/events{{/privacy}}",
        "received_events_url": f"{base}/received_events",
    }


def simple_user(api: str, row: dict) -> dict:
    login = row["login"]
    account_id = int(row["id"])
    kind = row.get("type") or "User"
    node_prefix = {"Organization": "012:Organization", "Bot": "03:Bot"}.get(kind, "04:User")
    urls = user_urls(api, login)
    return {
        "login": login,
        "id": account_id,
        "node_id": node_id(node_prefix, account_id),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{account_id}?v=4",
        "gravatar_id": "",
        "url": urls["url"],
        "html_url": urls["html_url"],
        "followers_url": urls["followers_url"],
        "following_url": urls["following_url"],
        "gists_url": urls["gists_url"],
        "starred_url": urls["starred_url"],
        "subscriptions_url": urls["subscriptions_url"],
        "organizations_url": urls["organizations_url"],
        "repos_url": urls["repos_url"],
        "events_url": urls["events_url"],
        "received_events_url": urls["received_events_url"],
        "type": kind,
        "user_view_type": "public",
        "site_admin": False,
    }


def full_user(api: str, row: dict) -> dict:
    created_at = iso_z(row.get("created_at"))
    return {
        **simple_user(api, row),
        "name": row.get("name"),
        "company": row.get("company"),
        "blog": row.get("blog") or "",  # GitHub answers "" rather than null for an empty blog
        "location": row.get("location"),
        "email": row.get("email"),
        "hireable": None,
        "bio": row.get("bio"),
        "twitter_username": None,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": created_at,
        "updated_at": iso_z(row.get("updated_at")) or created_at,
    }


def organization(api: str, row: dict, public_repos: int) -> dict:
    login = row["login"]
    org_id = int(row["id"])
    base = f"{api}/orgs/{login}"
    created_at = iso_z(row.get("created_at"))
    return {
        "login": login,
        "id": org_id,
        "node_id": node_id("012:Organization", org_id),
        "url": base,
        "repos_url": f"{base}/repos",
        "events_url": f"{base}/events",
        "hooks_url": f"{base}/hooks",
        "issues_url": f"{base}/issues",
        "members_url": f"{base}/members{{/member}}",
        "public_members_url": f"{base}/public_members{{/member}}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{org_id}?v=4",
        "description": row.get("description"),
        "name": row.get("name"),
        "company": None,
        "blog": row.get("blog") or "",
        "location": row.get("location"),
        "email": row.get("email"),
        "twitter_username": None,
        "is_verified": False,
        "has_organization_projects": True,
        "has_repository_projects": True,
        "public_repos": public_repos,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "html_url": f"https://github.com/{login}",
        "created_at": created_at,
        "updated_at": created_at,
        "archived_at": None,
        "type": "Organization",
    }


def repository_object(api: str, *, repo_id: int, owner: dict, name: str, description: str | None, fork: bool,
                      created_at: str | None, updated_at: str | None, pushed_at: str | None,
                      stargazers: int, forks: int, open_issues: int) -> dict:
    full = f"{owner['login']}/{name}"
    base = f"{api}/repos/{full}"
    return {
        "id": repo_id,
        "node_id": node_id("010:Repository", repo_id),
        "name": name,
        "full_name": full,
        "private": False,
        "owner": owner,
        "html_url": f"https://github.com/{full}",
        "description": description,
        "fork": fork,
        "url": base,
        "forks_url": f"{base}/forks",
        "keys_url": f"{base}/keys{{/key_id}}",
        "collaborators_url": f"{base}/collaborators{{/collaborator}}",
        "teams_url": f"{base}/teams",
        "hooks_url": f"{base}/hooks",
        "issue_events_url": f"{base}/issues/events{{/number}}",
        "events_url": f"{base}/events",
        "assignees_url": f"{base}/assignees{{/user}}",
        "branches_url": f"{base}/branches{{/branch}}",
        "tags_url": f"{base}/tags",
        "blobs_url": f"{base}/git/blobs{{/sha}}",
        "git_tags_url": f"{base}/git/tags{{/sha}}",
        "git_refs_url": f"{base}/git/refs{{/sha}}",
        "trees_url": f"{base}/git/trees{{/sha}}",
        "statuses_url": f"{base}/statuses/{{sha}}",
        "languages_url": f"{base}/languages",
        "stargazers_url": f"{base}/stargazers",
        "contributors_url": f"{base}/contributors",
        "subscribers_url": f"{base}/subscribers",
        "subscription_url": f"{base}/subscription",
        "commits_url": f"{base}/commits{{/sha}}",
        "git_commits_url": f"{base}/git/commits{{/sha}}",
        "comments_url": f"{base}/comments{{/number}}",
        "issue_comment_url": f"{base}/issues/comments{{/number}}",
        "contents_url": f"{base}/contents/{{+path}}",
        "compare_url": f"{base}/compare/{{base}}...{{head}}",
        "merges_url": f"{base}/merges",
        "archive_url": f"{base}/{{archive_format}}{{/ref}}",
        "downloads_url": f"{base}/downloads",
        "issues_url": f"{base}/issues{{/number}}",
        "pulls_url": f"{base}/pulls{{/number}}",
        "milestones_url": f"{base}/milestones{{/number}}",
        "notifications_url": f"{base}/notifications{{?since,all,participating}}",
        "labels_url": f"{base}/labels{{/name}}",
        "releases_url": f"{base}/releases{{/id}}",
        "deployments_url": f"{base}/deployments",
        "created_at": created_at,
        "updated_at": updated_at,
        "pushed_at": pushed_at,
        "git_url": f"git://github.com/{full}.git",
        "ssh_url": f"git@github.com:{full}.git",
        "clone_url": f"https://github.com/{full}.git",
        "svn_url": f"https://github.com/{full}",
        "homepage": None,
        "size": 0 if fork else stable_int(f"size:{full}", digits=4),
        "stargazers_count": stargazers,
        "watchers_count": stargazers,
        "language": None,
        "has_issues": not fork,
        "has_projects": True,
        "has_downloads": True,
        "has_wiki": True,
        "has_pages": False,
        "has_discussions": False,
        "forks_count": forks,
        "mirror_url": None,
        "archived": False,
        "disabled": False,
        "open_issues_count": open_issues,
        "license": None,
        "allow_forking": True,
        "is_template": False,
        "web_commit_signoff_required": False,
        "topics": [],
        "visibility": "public",
        "forks": forks,
        "open_issues": open_issues,
        "watchers": stargazers,
        "default_branch": "main",
    }
