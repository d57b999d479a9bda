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
# /pulls takes no `since`: newest-updated first, and paging stops at the stored cursor
PULLS = ("/repos/{repo}/pulls", {"state": "all", "sort": "updated", "direction": "desc"}, ACCEPT_JSON)
CONTRIBUTORS = ("/repos/{repo}/contributors", {"anon": "false"}, ACCEPT_JSON)
RELEASES = ("/repos/{repo}/releases", {}, ACCEPT_JSON)
USER = "/users/{login}"
ORG = "/orgs/{login}"

# rate limits: never sleep longer than this in one go (the primary window resets hourly); give up
# on one request after this many rate-limit waits (with the transport retries, at most 5 attempts)
MAX_RATE_LIMIT_SLEEP = 900.0
MAX_RATE_LIMIT_WAITS = 4
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


# Top-level fields each object has in GitHub's documented schemas (API version 2022-11-28). Anything
# else an answer carries is new: it is loaded as a text column (JSON for non-strings) and reported
# as a new column by ingestion.pipelines.load, so an API change is visible, never silently dropped.
_SIMPLE_USER = ("login", "id", "node_id", "avatar_url", "gravatar_id", "url", "html_url", "followers_url",
                "following_url", "gists_url", "starred_url", "subscriptions_url", "organizations_url",
                "repos_url", "events_url", "received_events_url", "type", "user_view_type", "site_admin",
                "name", "email", "starred_at")
_REPOSITORY = (
    "id", "node_id", "name", "full_name", "private", "owner", "html_url", "description", "fork", "url",
    "forks_url", "keys_url", "collaborators_url", "teams_url", "hooks_url", "issue_events_url", "events_url",
    "assignees_url", "branches_url", "tags_url", "blobs_url", "git_tags_url", "git_refs_url", "trees_url",
    "statuses_url", "languages_url", "stargazers_url", "contributors_url", "subscribers_url",
    "subscription_url", "commits_url", "git_commits_url", "comments_url", "issue_comment_url",
    "contents_url", "compare_url", "merges_url", "archive_url", "downloads_url", "issues_url", "pulls_url",
    "milestones_url", "notifications_url", "labels_url", "releases_url", "deployments_url", "created_at",
    "updated_at", "pushed_at", "git_url", "ssh_url", "clone_url", "svn_url", "homepage", "size",
    "stargazers_count", "watchers_count", "language", "has_issues", "has_projects", "has_downloads",
    "has_wiki", "has_pages", "has_discussions", "forks_count", "mirror_url", "archived", "disabled",
    "open_issues_count", "license", "allow_forking", "is_template", "web_commit_signoff_required", "topics",
    "visibility", "forks", "open_issues", "watchers", "default_branch", "permissions", "temp_clone_token",
    "role_name", "organization", "network_count", "subscribers_count", "parent", "source",
    "template_repository", "code_of_conduct", "security_and_analysis", "custom_properties",
    "delete_branch_on_merge", "allow_squash_merge", "allow_merge_commit", "allow_rebase_merge",
    "allow_auto_merge", "allow_update_branch", "use_squash_pr_title_as_default",
    "squash_merge_commit_title", "squash_merge_commit_message", "merge_commit_title",
    "merge_commit_message", "has_pull_requests", "pull_request_creation_policy")
KNOWN_FIELDS = {
    "stargazers": frozenset(("starred_at", "user") + _SIMPLE_USER),
    "forks": frozenset(_REPOSITORY),
    "issues": frozenset((
        "url", "repository_url", "labels_url", "comments_url", "events_url", "html_url", "id", "node_id",
        "number", "title", "user", "labels", "state", "locked", "assignee", "assignees", "milestone",
        "comments", "created_at", "updated_at", "closed_at", "author_association", "active_lock_reason",
        "body", "body_html", "body_text", "reactions", "timeline_url", "performed_via_github_app",
        "state_reason", "draft", "pull_request", "closed_by", "repository", "type", "sub_issues_summary",
        "issue_dependencies_summary", "parent_issue_url", "pinned_comment", "issue_field_values")),
    "pull_requests": frozenset((
        "url", "id", "node_id", "html_url", "diff_url", "patch_url", "issue_url", "number", "state", "locked",
        "title", "user", "body", "created_at", "updated_at", "closed_at", "merged_at", "merge_commit_sha",
        "assignee", "assignees", "requested_reviewers", "requested_teams", "labels", "milestone", "draft",
        "commits_url", "review_comments_url", "review_comment_url", "comments_url", "statuses_url", "head",
        "base", "_links", "author_association", "auto_merge", "active_lock_reason")),
    "contributors": frozenset(_SIMPLE_USER + ("contributions",)),
    "releases": frozenset((
        "url", "assets_url", "upload_url", "html_url", "id", "author", "node_id", "tag_name",
        "target_commitish", "name", "draft", "prerelease", "immutable", "created_at", "updated_at",
        "published_at", "assets", "tarball_url", "zipball_url", "body", "body_html", "body_text",
        "mentions_count", "discussion_url", "reactions")),
    "users": frozenset(_SIMPLE_USER + (
        "company", "blog", "location", "hireable", "bio", "twitter_username", "public_repos", "public_gists",
        "followers", "following", "created_at", "updated_at", "notification_email", "private_gists",
        "total_private_repos", "owned_private_repos", "disk_usage", "collaborators",
        "two_factor_authentication", "plan", "business_plus", "ldap_dn", "suspended_at", "description",
        "archived_at", "is_verified", "has_organization_projects", "has_repository_projects", "members_url",
        "public_members_url", "hooks_url", "issues_url")),
    "orgs": frozenset((
        "login", "id", "node_id", "url", "repos_url", "events_url", "hooks_url", "issues_url", "members_url",
        "public_members_url", "avatar_url", "description", "name", "company", "blog", "location", "email",
        "twitter_username", "is_verified", "has_organization_projects", "has_repository_projects",
        "public_repos", "public_gists", "followers", "following", "html_url", "created_at", "updated_at",
        "archived_at", "type", "total_private_repos", "owned_private_repos", "private_gists", "disk_usage",
        "collaborators", "billing_email", "plan", "default_repository_permission",
        "default_repository_branch", "members_can_create_repositories", "two_factor_requirement_enabled",
        "members_allowed_repository_creation_type", "members_can_create_public_repositories",
        "members_can_create_private_repositories", "members_can_create_internal_repositories",
        "members_can_create_pages", "members_can_create_public_pages", "members_can_create_private_pages",
        "members_can_fork_private_repositories", "members_can_delete_repositories",
        "members_can_change_repo_visibility", "members_can_invite_outside_collaborators",
        "members_can_delete_issues", "display_commenter_full_name_setting_enabled",
        "readers_can_create_discussions", "members_can_create_teams", "members_can_view_dependency_insights",
        "web_commit_signoff_required", "advanced_security_enabled_for_new_repositories",
        "dependabot_alerts_enabled_for_new_repositories",
        "dependabot_security_updates_enabled_for_new_repositories",
        "dependency_graph_enabled_for_new_repositories", "secret_scanning_enabled_for_new_repositories",
        "secret_scanning_push_protection_enabled_for_new_repositories",
        "secret_scanning_push_protection_custom_link_enabled", "secret_scanning_push_protection_custom_link",
        "secret_scanning_validity_checks_enabled", "deploy_keys_enabled_for_repositories")),
}
