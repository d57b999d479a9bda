"""The sandbox behaves like the real APIs where connectors depend on behaviour, not only on shapes:
paging, conditional requests, rate limits, npm's names and periods, 404s, files, Segment replay."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from ingestion.sandbox import ReplayError, iter_segment_calls, replay_segment, serve

from .tiny_world import END_DATE, FORKS, REPO, SCOPED_PACKAGE, SEGMENT_CALLS, STARGAZERS

STAR_JSON = {"Accept": "application/vnd.github.star+json"}


def rate(response) -> tuple[int, int]:
    return int(response.headers["X-RateLimit-Remaining"]), int(response.headers["X-RateLimit-Used"])


# --- paging ------------------------------------------------------------------------------------


def test_link_paging_walks_every_page_and_last_is_right(tiny_sandbox, http):
    url = f"{tiny_sandbox.url}/github/repos/{REPO}/stargazers?per_page=10"
    first = http.get(url, headers=STAR_JSON)
    assert set(first.links) == {"next", "last"}
    assert first.links["last"]["url"].endswith("per_page=10&page=8")
    seen, pages, response = [], 0, first
    while True:
        pages += 1
        seen += [item["user"]["login"] for item in response.json()]
        if "next" not in response.links:
            break
        response = http.get(response.links["next"]["url"], headers=STAR_JSON)
    assert pages == 8 and len(seen) == len(set(seen)) == STARGAZERS
    assert set(response.links) == {"prev", "first"}  # the last page links back only
    assert response.links["prev"]["url"].endswith("page=7")
    starred = [s["starred_at"] for s in first.json()]
    assert starred == sorted(starred)  # oldest star first, like GitHub


def test_paging_defaults_limits_and_link_base(tiny_sandbox, http):
    base = f"{tiny_sandbox.url}/github/repos/{REPO}/stargazers"
    default = http.get(base)
    assert len(default.json()) == 30 and default.links["last"]["url"].endswith("page=3")
    everything = http.get(base + "?per_page=500")  # capped at 100, so one page and no Link header
    assert len(everything.json()) == STARGAZERS and "Link" not in everything.headers
    middle = http.get(f"{tiny_sandbox.url}/github/repos/{REPO}/issues?state=all&per_page=5&page=3",
                      headers={"Host": "sandbox.example:8080"})
    links = middle.links
    assert list(links) == ["prev", "next", "last", "first"]
    assert links["next"]["url"] == (f"http://sandbox.example:8080/github/repos/{REPO}/issues"
                                    "?state=all&per_page=5&page=4")
    assert http.get(base + "?per_page=10&page=99").json() == []


# --- conditional requests ----------------------------------------------------------------------


def test_etag_and_304_do_not_cost_rate_limit(tiny_sandbox, http):
    url = f"{tiny_sandbox.url}/github/repos/{REPO}/forks"
    http.headers["Authorization"] = "Bearer etag-test"
    first = http.get(url)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and first.json()
    again = http.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    assert rate(again) == rate(first)  # a 304 is free
    weak = http.get(url, headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304
    changed = http.get(url + "?per_page=2", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert rate(changed)[1] == rate(first)[1] + 1


# --- rate limits -------------------------------------------------------------------------------


def test_rate_limit_decrements_per_client(tiny_sandbox, http):
    url = f"{tiny_sandbox.url}/github/users/dev01"
    a1 = http.get(url, headers={"Authorization": "token client-a"})
    a2 = http.get(url, headers={"Authorization": "token client-a"})
    b1 = http.get(url, headers={"Authorization": "token client-b"})
    assert rate(a2) == (rate(a1)[0] - 1, rate(a1)[1] + 1)
    assert rate(b1) == (4999, 1)  # another token has its own budget
    missing = http.get(f"{tiny_sandbox.url}/github/users/no-such-user", headers={"Authorization": "token client-b"})
    assert missing.status_code == 404 and rate(missing) == (4998, 2)  # errors count too, and carry the headers
    for name in ("X-RateLimit-Limit", "X-RateLimit-Reset", "X-RateLimit-Resource"):
        assert name in a1.headers
    assert 0 < int(a1.headers["X-RateLimit-Reset"]) - time.time() <= 3601
    status = http.get(f"{tiny_sandbox.url}/github/rate_limit", headers={"Authorization": "token client-b"})
    assert status.json()["resources"]["core"]["remaining"] == 4998 and rate(status) == (4998, 2)  # free


def test_rate_limit_exhaustion_then_reset(tiny_world_dir, http):
    with serve(tiny_world_dir, rate_limit=3, rate_limit_window=1, secondary_every=0) as server:
        url = f"{server.url}/github/repos/{REPO}"
        answers = [http.get(url) for _ in range(3)]
        assert [rate(r)[0] for r in answers] == [2, 1, 0]
        refused = http.get(url)
        assert refused.status_code == 403 and rate(refused) == (0, 3)
        assert refused.json()["message"].startswith("API rate limit exceeded for 127.0.0.1.")
        with_token = http.get(url, headers={"Authorization": "Bearer t"})
        assert with_token.status_code == 200  # the budget is per client
        time.sleep(max(int(refused.headers["X-RateLimit-Reset"]) - time.time(), 0) + 0.05)
        renewed = http.get(url)
        assert renewed.status_code == 200 and rate(renewed) == (2, 1)
        assert server.stats()["github"]["rate_limited"] == 1


def test_secondary_rate_limit_with_retry_after(tiny_world_dir, http):
    with serve(tiny_world_dir, secondary_every=4, secondary_retry_after=1) as server:
        url = f"{server.url}/github/users/dev02"
        assert [http.get(url).status_code for _ in range(3)] == [200, 200, 200]
        limited = http.get(url)
        assert limited.status_code == 403 and limited.headers["Retry-After"] == "1"
        assert "secondary rate limit" in limited.json()["message"]
        assert rate(limited) == (4997, 3)  # the primary budget is untouched
        assert http.get(url).status_code == 403  # still blocked until Retry-After has passed
        time.sleep(1.05)
        assert http.get(url).status_code == 200
    with serve(tiny_world_dir, secondary_every=1, secondary_status=429) as server:
        limited = http.get(f"{server.url}/github/users/dev02")
        assert limited.status_code == 429 and limited.json()["status"] == "429"


def test_secondary_rate_limit_is_on_by_default_but_rare(tiny_world_dir, http):
    with serve(tiny_world_dir) as server:
        url = f"{server.url}/github/users/dev03"
        statuses = [http.get(url).status_code for _ in range(500)]
        assert statuses[:499] == [200] * 499 and statuses[499] == 403


def test_requests_without_user_agent_are_refused(tiny_sandbox):
    # http.client sends no User-Agent of its own (requests and urllib3 always add one)
    connection = HTTPConnection(tiny_sandbox.host, tiny_sandbox.port, timeout=5)
    connection.request("GET", "/github/users/dev01")
    response = connection.getresponse()
    assert response.status == 403 and "User-Agent" in response.read().decode()
    connection.close()


# --- GitHub list semantics ---------------------------------------------------------------------


def test_issues_filters_and_sorting(tiny_sandbox, http):
    base = f"{tiny_sandbox.url}/github/repos/{REPO}/issues?per_page=100"
    everything = http.get(base + "&state=all").json()
    assert len(everything) == 40 and {i["state"] for i in everything} == {"open", "closed"}
    assert all(i["state"] == "open" for i in http.get(base).json())  # default state=open
    created = [i["created_at"] for i in everything]
    assert created == sorted(created, reverse=True)
    since = sorted(i["updated_at"] for i in everything)[20]
    recent = http.get(base + f"&state=all&since={since}&sort=updated&direction=asc").json()
    updated = [i["updated_at"] for i in recent]
    assert updated == sorted(updated) and min(updated) >= since and len(recent) == 20
    pulls = http.get(f"{tiny_sandbox.url}/github/repos/{REPO}/pulls?state=all&per_page=100").json()
    assert {p["number"] for p in pulls} == {i["number"] for i in everything if "pull_request" in i}
    merged = [p for p in pulls if p["merged_at"]]
    assert merged and all(p["state"] == "closed" for p in merged)
    by_number = {i["number"]: i for i in everything}
    assert all(by_number[p["number"]]["pull_request"]["merged_at"] == p["merged_at"] for p in pulls)


def test_forks_sorting(tiny_sandbox, http):
    base = f"{tiny_sandbox.url}/github/repos/{REPO}/forks?per_page=100"
    newest = [f["created_at"] for f in http.get(base).json()]
    oldest = [f["created_at"] for f in http.get(base + "&sort=oldest").json()]
    assert len(newest) == FORKS and newest == sorted(newest, reverse=True) and oldest == newest[::-1]


def test_bot_users_and_case_insensitive_logins(tiny_sandbox, http):
    bot = http.get(f"{tiny_sandbox.url}/github/users/dependabot%5Bbot%5D").json()
    assert bot["type"] == "Bot" and bot["url"].endswith("/users/dependabot%5Bbot%5D")
    assert http.get(f"{tiny_sandbox.url}/github/users/DEV01").json()["login"] == "dev01"
    assert http.get(f"{tiny_sandbox.url}/github/repos/{REPO.upper()}").status_code == 200


# --- npm names and periods ---------------------------------------------------------------------


def test_scoped_npm_names_in_every_spelling(tiny_sandbox, http):
    api = f"{tiny_sandbox.url}/npm-api"
    spellings = ["@acmedev/cli", "%40acmedev%2Fcli", "@acmedev%2fcli"]
    bodies = [http.get(f"{api}/downloads/point/last-week/{name}").json() for name in spellings]
    assert all(b == bodies[0] for b in bodies) and bodies[0]["package"] == SCOPED_PACKAGE
    versions = http.get(f"{api}/versions/%40acmedev%2Fcli/last-week")
    assert versions.status_code == 200 and set(versions.json()["downloads"]) == {"0.9.0", "1.0.0"}
    assert http.get(f"{api}/versions/@acmedev/cli/last-week").status_code == 404  # the slash must be encoded
    registry = f"{tiny_sandbox.url}/npm-registry"
    documents = [http.get(f"{registry}/{name}").json() for name in spellings]
    assert all(d == documents[0] for d in documents) and documents[0]["name"] == SCOPED_PACKAGE
    assert http.get(f"{registry}/@acmedev%2fcli/latest").json()["version"] == "1.0.0"


def test_npm_periods_and_18_month_clamp(tiny_sandbox, http):
    api = f"{tiny_sandbox.url}/npm-api/downloads"
    end = END_DATE.isoformat()
    for period, days in [("last-day", 1), ("last-week", 7), ("last-month", 30), ("last-year", 365)]:
        body = http.get(f"{api}/range/{period}/acme-sdk").json()
        assert body["end"] == end and len(body["downloads"]) == days
    total = http.get(f"{api}/point/last-month/acme-sdk").json()["downloads"]
    assert total == sum(d["downloads"] for d in http.get(f"{api}/range/last-month/acme-sdk").json()["downloads"])
    clamped = http.get(f"{api}/range/2020-01-01:2030-12-31/acme-sdk")
    assert clamped.status_code == 200
    assert (clamped.json()["start"], clamped.json()["end"]) == ("2023-09-30", end)  # 18 months before the end
    assert len(clamped.json()["downloads"]) == (END_DATE - dt.date(2023, 9, 30)).days + 1
    one_day = http.get(f"{api}/point/{end}/acme-sdk").json()
    assert one_day["start"] == one_day["end"] == end
    backwards = http.get(f"{api}/point/2025-03-10:2025-03-01/acme-sdk")
    assert backwards.status_code == 400 and backwards.json() == {"error": "end date > start date"}
    garbage = http.get(f"{api}/point/yesterday/acme-sdk")
    assert garbage.status_code == 400 and garbage.json() == {"error": "invalid date"}


def test_unknown_packages_everywhere(tiny_sandbox, http):
    url = tiny_sandbox.url
    assert http.get(f"{url}/npm-api/downloads/range/last-week/nope").json() == {"error": "package nope not found"}
    assert http.get(f"{url}/npm-api/versions/nope/last-week").status_code == 404
    assert http.get(f"{url}/npm-registry/nope").json() == {"error": "Not found"}
    assert http.get(f"{url}/pypi/pypi/nope/json").json() == {"message": "Not Found"}
    for endpoint in ("recent", "overall"):
        response = http.get(f"{url}/pypistats/api/packages/nope/{endpoint}")
        assert (response.status_code, response.text) == (404, "404")
    # upstream quirk kept on purpose: these two answer 200 with no data instead of 404
    assert http.get(f"{url}/pypistats/api/packages/nope/python_major").json()["data"] == []
    assert http.get(f"{url}/github/orgs/nope").status_code == 404


def test_pypistats_filters_and_pypi_redirect(tiny_sandbox, http):
    stats = f"{tiny_sandbox.url}/pypistats/api/packages/acme_sdk"
    assert http.get(f"{stats}/recent?period=week").json()["data"].keys() == {"last_week"}
    assert {r["category"] for r in http.get(f"{stats}/overall?mirrors=true").json()["data"]} == {"with_mirrors"}
    assert {r["category"] for r in http.get(f"{stats}/system?os=linux").json()["data"]} == {"Linux"}
    assert {r["category"] for r in http.get(f"{stats}/python_major?version=3").json()["data"]} == {"3"}
    both = http.get(f"{stats}/overall").json()
    assert both["package"] == "acme-sdk" and {r["category"] for r in both["data"]} == {"with_mirrors", "without_mirrors"}
    redirected = http.get(f"{tiny_sandbox.url}/pypi/pypi/Acme_SDK/json")
    assert redirected.history[0].status_code == 301 and redirected.json()["info"]["name"] == "acme-sdk"
    assert redirected.json()["info"]["version"] == "1.1.0"  # the pre-release 1.2.0rc1 is not "latest"
    release = http.get(f"{tiny_sandbox.url}/pypi/pypi/acme-sdk/1.0.0/json").json()
    assert "releases" not in release and release["info"]["version"] == "1.0.0"


# --- files -------------------------------------------------------------------------------------


def test_crm_files_are_served_as_exported(tiny_sandbox, tiny_world_dir, http):
    listing = http.get(f"{tiny_sandbox.url}/crm/").json()["files"]
    assert len(listing) == 6 and all(f["path"].endswith(".csv") for f in listing)
    for entry in listing:
        response = http.get(entry["url"])
        assert response.headers["Content-Type"].startswith("text/csv")
        assert response.content == (tiny_world_dir / "crm" / entry["path"]).read_bytes()
    assert http.get(f"{tiny_sandbox.url}/crm/%2e%2e/meta.json").status_code == 404  # never leaves the folder
    assert http.get(f"{tiny_sandbox.url}/crm/nope.csv").status_code == 404


def test_segment_archive_is_served(tiny_sandbox, tiny_world_dir, http):
    listing = http.get(f"{tiny_sandbox.url}/segment/").json()["files"]
    assert [f["path"] for f in listing] == ["archive/2025/03/30/0.json.gz", "archive/2025/03/30/1.json.gz",
                                            "archive/2025/03/31/0.json.gz"]
    first = http.get(listing[0]["url"])
    assert first.headers["Content-Type"] == "application/gzip"
    assert first.content == (tiny_world_dir / "segment" / listing[0]["path"]).read_bytes()
    assert json.loads(gzip.decompress(first.content).splitlines()[0])["messageId"] == "msg-00000"


class _Intake(BaseHTTPRequestHandler):
    """A tiny Segment-compatible receiver: records each batch; answers what the test scripted."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server = self.server
        server.received.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                "body": json.loads(body)})
        status = server.script.pop(0) if server.script else 200
        payload = json.dumps({"success": status == 200}).encode()
        self.send_response(status)
        if status == 503:
            self.send_header("Retry-After", "0")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture()
def intake():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Intake)
    server.received, server.script = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_replay_segment_posts_batches_like_a_segment_library(tiny_world_dir, intake):
    intake.script = [503]  # the first attempt fails once: the batch is retried, not lost
    url = "http://%s:%d" % intake.server_address
    summary = replay_segment(tiny_world_dir, url, "wk_test", batch_size=100)
    assert (summary.calls, summary.batches, summary.retries) == (SEGMENT_CALLS, 3, 1)
    assert all(r["path"] == "/v1/batch" for r in intake.received)
    assert {r["auth"] for r in intake.received} == {"Basic " + base64.b64encode(b"wk_test:").decode()}
    delivered = [call["messageId"] for r in intake.received[1:] for call in r["body"]["batch"]]
    assert delivered == [c["messageId"] for c in iter_segment_calls(tiny_world_dir)]
    assert delivered[:2] == ["msg-00000", "msg-00001"] and len(delivered) == SEGMENT_CALLS
    sent_at = intake.received[-1]["body"]["sentAt"]
    assert sent_at.endswith("Z") and dt.datetime.fromisoformat(sent_at.replace("Z", "+00:00"))


def test_replay_segment_stops_on_a_refusal(tiny_world_dir, intake):
    intake.script = [400]
    with pytest.raises(ReplayError, match="400"):
        replay_segment(tiny_world_dir, "http://%s:%d/v1/batch" % intake.server_address, "wk_test")


# --- the server itself -------------------------------------------------------------------------


def test_stats_count_prefixes_304s_and_limits(tiny_world_dir, http):
    with serve(tiny_world_dir, rate_limit=2, secondary_every=0) as server:
        url = f"{server.url}/github/repos/{REPO}"
        etag = http.get(url).headers["ETag"]
        http.get(url, headers={"If-None-Match": etag})
        http.get(url)
        http.get(url)  # over the limit
        http.get(f"{server.url}/npm-api/downloads/point/last-week/acme-sdk")
        stats = http.get(f"{server.url}/_sandbox/stats").json()
    assert stats["requests"] == {"github": 4, "npm-api": 1}
    assert stats["github"] == {"not_modified": 1, "rate_limited": 1, "secondary_rate_limited": 0}
    assert stats["statuses"] == {"200": 3, "304": 1, "403": 1}


def test_start_settings_head_and_read_only(world_dir, http):
    started = time.perf_counter()
    with serve(world_dir) as server:
        assert time.perf_counter() - started < 2.0
        settings = server.settings()
        assert settings["DEVSIGNAL_GITHUB_API_URL"] == f"{server.url}/github"
        assert settings["DEVSIGNAL_NPM_API_URL"] == f"{server.url}/npm-api"
        assert Path(settings["DEVSIGNAL_CRM_DIR"]) == world_dir / "crm"
        assert http.get(server.url).json()["pypistats"]["setting"] == "DEVSIGNAL_PYPISTATS_URL"
        head = http.head(f"{server.url}/crm/")
        assert head.status_code == 200 and head.content == b""
        assert http.post(f"{server.url}/github/repos/{REPO}", json={}).status_code == 405


def test_command_line_serves_in_the_foreground(tiny_world_dir):
    process = subprocess.Popen([sys.executable, "-m", "ingestion.sandbox", "--world", str(tiny_world_dir),
                                "--port", "0"], stdout=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parents[2])
    try:
        first_line = process.stdout.readline()
        url = first_line.split(" at ")[1].split()[0]
        prefixes = [process.stdout.readline().split()[0] for _ in range(7)]
        assert prefixes[0] == f"{url}/npm-api" and prefixes[-1] == f"{url}/segment"
        assert requests.get(f"{url}/npm-api/downloads/point/last-day/acme-sdk").status_code == 200
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:  # a busy machine: a slow shutdown is not what this tests
            process.kill()
            process.wait(30)
