"""GitHub REST endpoints and limits. Base URL and token come from devsignal.settings at run time."""

API_URL_SETTING = "DEVSIGNAL_GITHUB_API_URL"  # https://api.github.com
REPOS_SETTING = "DEVSIGNAL_GITHUB_REPOS"
TOKEN_SETTING = "GITHUB_TOKEN"

API_VERSION = "2022-11-28"
ACCEPT_JSON = "application/vnd.github+json"
ACCEPT_STARS = "application/vnd.github.star+json"  # adds `starred_at`
PER_PAGE = 100

# per repository: (resource, path, query parameters, Accept)
# stable, oldest-first orders where the API allows one, so new items land on the last page and the
# earlier pages keep their ETags
STARGAZERS = ("/repos/{repo}/stargazers", {}, ACCEPT_STARS)
FORKS = ("/repos/{repo}/forks", {"sort": "oldest"}, ACCEPT_JSON)
ISSUES = ("/repos/{repo}/issues", {"state": "all", "sort": "updated", "direction": "asc"}, ACCEPT_JSON)
PULLS = ("/repos/{repo}/pulls", {"state": "all", "sort": "created", "direction": "asc"}, ACCEPT_JSON)
CONTRIBUTORS = ("/repos/{repo}/contributors", {"anon": "false"}, ACCEPT_JSON)
RELEASES = ("/repos/{repo}/releases", {}, ACCEPT_JSON)
USER = "/users/{login}"
ORG = "/orgs/{login}"

# rate limits: never sleep longer than this in one go (the primary window resets hourly); give up
# on one request after this many rate-limit waits
MAX_RATE_LIMIT_SLEEP = 900.0
MAX_RATE_LIMIT_WAITS = 6
# a secondary limit without Retry-After: GitHub says wait at least a minute
SECONDARY_LIMIT_DEFAULT_WAIT = 60.0

# column types of each table (declared so every column exists and never changes type)
TEXT, TS, BIGINT, BOOL = "text", "timestamp", "bigint", "bool"

COLUMN_TYPES = {
    "stargazers": {"repo": TEXT, "user_login": TEXT, "user_id": BIGINT, "user_type": TEXT, "starred_at": TS},
    "forks": {"repo": TEXT, "id": BIGINT, "full_name": TEXT, "owner_login": TEXT, "owner_id": BIGINT,
              "owner_type": TEXT, "created_at": TS, "updated_at": TS},
    "issues": {"id": BIGINT, "repo": TEXT, "number": BIGINT, "user_login": TEXT, "user_id": BIGINT,
               "title": TEXT, "state": TEXT, "author_association": TEXT, "comments": BIGINT,
               "created_at": TS, "updated_at": TS, "closed_at": TS},
    "pull_requests": {"id": BIGINT, "repo": TEXT, "number": BIGINT, "user_login": TEXT, "user_id": BIGINT,
                      "title": TEXT, "state": TEXT, "draft": BOOL, "author_association": TEXT,
                      "created_at": TS, "updated_at": TS, "closed_at": TS, "merged_at": TS},
    "contributors": {"repo": TEXT, "login": TEXT, "id": BIGINT, "type": TEXT, "contributions": BIGINT,
                     "is_bot": BOOL},
    "releases": {"id": BIGINT, "repo": TEXT, "tag_name": TEXT, "name": TEXT, "draft": BOOL,
                 "prerelease": BOOL, "created_at": TS, "published_at": TS, "author_login": TEXT},
    "users": {"login": TEXT, "id": BIGINT, "type": TEXT, "name": TEXT, "company": TEXT, "email": TEXT,
              "blog": TEXT, "location": TEXT, "bio": TEXT, "twitter_username": TEXT,
              "public_repos": BIGINT, "followers": BIGINT, "created_at": TS, "updated_at": TS,
              "is_bot": BOOL},
    "orgs": {"login": TEXT, "id": BIGINT, "name": TEXT, "blog": TEXT, "email": TEXT, "location": TEXT,
             "description": TEXT, "public_repos": BIGINT, "created_at": TS},
}
