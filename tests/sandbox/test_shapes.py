"""Each sandbox endpoint answers with the keys, value types, status and headers of the real API's
recorded example (tests/fixtures/http/<upstream>/<name>.json)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from ingestion.sandbox import serve

from .conftest import busiest
from .shapes import assert_has_keys, assert_same_shape, recorded
from .tiny_world import REPO

STAR_JSON = {"Accept": "application/vnd.github.star+json"}


def check(response, record: dict, maps: tuple[str, ...] = (), lenient: tuple[str, ...] = ()) -> object:
    """Status, header names, media type and body shape as in the recording; returns the parsed body."""
    assert response.status_code == record["status"], response.text[:300]
    for name in record["headers"]:
        if name != "Link":  # paging links are checked in test_protocol.py
            assert name in response.headers, f"header {name} missing"
    media_type = record["headers"]["Content-Type"].split(";")[0]
    assert response.headers["Content-Type"].split(";")[0] == media_type
    if "body_text" in record:
        assert response.text == record["body_text"]
        return response.text
    body = response.json()
    assert_same_shape(body, record["body"], maps=maps, lenient=lenient)
    return body


# --- npm ---------------------------------------------------------------------------------------


def test_npm_point_and_range(sandbox, meta, http):
    package = meta["npm_packages"][0]
    point = check(http.get(f"{sandbox.url}/npm-api/downloads/point/last-week/{package}"),
                  recorded("npm-api", "downloads_point"))
    assert list(point) == ["downloads", "start", "end", "package"]  # the real key order
    days = check(http.get(f"{sandbox.url}/npm-api/downloads/range/last-month/{package}"),
                 recorded("npm-api", "downloads_range"))
    assert list(days) == ["start", "end", "package", "downloads"] and len(days["downloads"]) == 30


def test_npm_range_beyond_18_months_is_clamped_not_refused(sandbox, meta, http):
    package = meta["npm_packages"][0]
    body = check(http.get(f"{sandbox.url}/npm-api/downloads/point/2015-01-01:{meta['end_date']}/{package}"),
                 recorded("npm-api", "downloads_range_clamped"))
    assert body["end"] == meta["end_date"] and body["start"] > "2015-01-01"


def test_npm_versions_last_week(sandbox, meta, http):
    package = meta["npm_packages"][0]
    body = check(http.get(f"{sandbox.url}/npm-api/versions/{quote(package, safe='')}/last-week"),
                 recorded("npm-api", "versions_last_week"), maps=("$.downloads",))
    assert body["package"] == package and body["downloads"]


def test_npm_errors(sandbox, meta, http):
    check(http.get(f"{sandbox.url}/npm-api/downloads/point/last-week/no-such-package-xyz"),
          recorded("npm-api", "not_found"))
    body = check(http.get(f"{sandbox.url}/npm-api/downloads/point/2014-01-01:2014-01-31/{meta['npm_packages'][0]}"),
                 recorded("npm-api", "end_before_start"))
    assert body == recorded("npm-api", "end_before_start")["body"]


def test_npm_packument_is_the_worlds_document_in_registry_shape(sandbox, meta, http):
    package = meta["npm_packages"][0]
    # The world supplies the document: no invented top-level or version fields, types as npm's.
    body = check(http.get(f"{sandbox.url}/npm-registry/{quote(package, safe='@')}"),
                 recorded("npm-registry", "packument"), maps=("$.versions", "$.time", "$.versions.*.scripts"),
                 lenient=("$", "$.versions.*", "$.author", "$.versions.*.author", "$.versions.*._npmUser",
                          "$.maintainers[]", "$.versions.*.maintainers[]", "$.versions.*.dist"))
    assert_has_keys(body, ("_id", "name", "dist-tags", "versions", "time"))
    assert body["dist-tags"]["latest"] in body["versions"]
    for version, document in body["versions"].items():
        assert_has_keys(document, ("name", "version", "dist"), f"$.versions.{version}")
        assert_has_keys(document["dist"], ("tarball", "shasum"), f"$.versions.{version}.dist")


def test_npm_abbreviated_packument(sandbox, meta, http):
    package = meta["npm_packages"][0]
    body = check(http.get(f"{sandbox.url}/npm-registry/{quote(package, safe='@')}",
                          headers={"Accept": "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8"}),
                 recorded("npm-registry", "packument_abbreviated"), maps=("$.versions",),
                 lenient=("$.versions.*", "$.versions.*.dist"))
    allowed = {"name", "version", "dependencies", "optionalDependencies", "devDependencies", "bundleDependencies",
               "peerDependencies", "peerDependenciesMeta", "bin", "directories", "dist", "engines",
               "_hasShrinkwrap", "deprecated"}
    for document in body["versions"].values():
        assert set(document) <= allowed


def test_npm_registry_not_found(sandbox, http):
    check(http.get(f"{sandbox.url}/npm-registry/no-such-package-xyz"), recorded("npm-registry", "not_found"))


# --- pypistats and pypi ------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["recent", "overall", "python_major", "system"])
def test_pypistats(sandbox, meta, http, endpoint):
    package = meta["pypi_packages"][0]
    body = check(http.get(f"{sandbox.url}/pypistats/api/packages/{package}/{endpoint}"),
                 recorded("pypistats", endpoint))
    assert body["data"], "empty series: the comparison would prove nothing"


def test_pypistats_not_found(sandbox, http):
    check(http.get(f"{sandbox.url}/pypistats/api/packages/no-such-package-xyz/recent"),
          recorded("pypistats", "not_found"))


def test_pypi_project(sandbox, meta, http):
    package = meta["pypi_packages"][0]
    files = ("$.releases.*[]", "$.urls[]")  # file dicts come from the world's releases.json
    body = check(http.get(f"{sandbox.url}/pypi/pypi/{package}/json"), recorded("pypi", "project"),
                 maps=("$.releases",), lenient=files)
    for file in body["urls"] + [f for files in body["releases"].values() for f in files]:
        assert_has_keys(file, ("filename", "packagetype", "upload_time_iso_8601"))
    assert body["info"]["version"] in body["releases"]


def test_pypi_not_found(sandbox, http):
    check(http.get(f"{sandbox.url}/pypi/pypi/no-such-package-xyz/json"), recorded("pypi", "not_found"))


# --- github ------------------------------------------------------------------------------------


def test_github_repo(sandbox, meta, http):
    body = check(http.get(f"{sandbox.url}/github/repos/{meta['github_repos'][0]}"), recorded("github", "repo"))
    assert body["full_name"].lower() == meta["github_repos"][0].lower()


def test_github_stargazers(sandbox, world_dir, http):
    repo = busiest(world_dir, "github/stargazers.parquet")
    url = f"{sandbox.url}/github/repos/{repo}/stargazers?per_page=5"
    assert check(http.get(url, headers=STAR_JSON), recorded("github", "stargazers_star_json"))
    assert check(http.get(url), recorded("github", "stargazers"))


def test_github_forks(sandbox, world_dir, http):
    repo = busiest(world_dir, "github/forks.parquet")
    assert check(http.get(f"{sandbox.url}/github/repos/{repo}/forks?per_page=5"), recorded("github", "forks"))


def test_github_issues_include_pull_requests(sandbox, world_dir, http):
    repo = busiest(world_dir, "github/issues.parquet")
    body = check(http.get(f"{sandbox.url}/github/repos/{repo}/issues?state=all&per_page=100"),
                 recorded("github", "issues"))
    kinds = {"pull_request" in item for item in body}
    assert kinds == {True, False}, "the page should hold both issues and pull requests"


def test_github_pulls(sandbox, world_dir, http):
    repo = busiest(world_dir, "github/issues.parquet")
    body = check(http.get(f"{sandbox.url}/github/repos/{repo}/pulls?state=all&per_page=5"), recorded("github", "pulls"))
    assert body


def test_github_contributors_and_releases(sandbox, world_dir, http):
    repo = busiest(world_dir, "github/contributors.parquet")
    contributors = check(http.get(f"{sandbox.url}/github/repos/{repo}/contributors"), recorded("github", "contributors"))
    counts = [c["contributions"] for c in contributors]
    assert counts and counts == sorted(counts, reverse=True)
    repo = busiest(world_dir, "github/releases.parquet")
    releases = check(http.get(f"{sandbox.url}/github/repos/{repo}/releases"), recorded("github", "releases"))
    dates = [r["published_at"] for r in releases]
    assert dates and dates == sorted(dates, reverse=True)


def test_github_user_and_org(sandbox, world_dir, meta, http):
    login = busiest(world_dir, "github/stargazers.parquet", column="login")
    check(http.get(f"{sandbox.url}/github/users/{quote(login)}"), recorded("github", "user"))
    check(http.get(f"{sandbox.url}/github/orgs/{meta['vendor']['github_org']}"), recorded("github", "org"))


def test_github_not_found_and_rate_limit_status(sandbox, http):
    check(http.get(f"{sandbox.url}/github/repos/nobody/no-such-repo"), recorded("github", "not_found"))
    body = check(http.get(f"{sandbox.url}/github/rate_limit"), recorded("github", "rate_limit"),
                 lenient=("$.resources",))
    assert "core" in body["resources"]


def test_github_limit_refusals(tiny_world_dir, http):
    with serve(tiny_world_dir, rate_limit=1, secondary_every=3) as server:
        url = f"{server.url}/github/repos/{REPO}"
        assert http.get(url).status_code == 200  # request 1 spends the budget
        check(http.get(url), recorded("github", "rate_limit_exceeded"))  # request 2
        body = check(http.get(url), recorded("github", "secondary_rate_limit"))  # request 3
        assert body["message"].startswith("You have exceeded a secondary rate limit")


def test_recordings_are_valid_json_with_a_source():
    from .shapes import FIXTURES
    for path in FIXTURES.rglob("*.json"):
        record = json.loads(path.read_text())
        assert {"source", "request", "status", "headers"} <= record.keys(), path
        assert ("body" in record) != ("body_text" in record), path
