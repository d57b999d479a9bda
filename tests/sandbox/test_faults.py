"""Fault injection and the request log: scripted answers per path, resets, stalls, mutated bodies,
controlled over HTTP (`/_sandbox/faults`) or from Python (`add_fault`)."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from ingestion.sandbox import FaultError, serve

from .tiny_world import REPO, SCOPED_PACKAGE

POINT = "/npm-api/downloads/point/last-week/"


@pytest.fixture()
def server(tiny_world_dir):
    with serve(tiny_world_dir, secondary_every=0) as sandbox:
        yield sandbox


def test_a_script_answers_in_order_then_the_requests_pass(server, http):
    server.add_fault(POINT, {"status": 503, "times": 2}, {"status": 429, "headers": {"Retry-After": "7"}})
    url = f"{server.url}{POINT}{SCOPED_PACKAGE}"
    answers = [http.get(url) for _ in range(4)]
    assert [a.status_code for a in answers] == [503, 503, 429, 200]
    assert answers[2].headers["Retry-After"] == "7"
    assert answers[3].json()["package"] == SCOPED_PACKAGE
    log = server.requests("npm-api")
    assert [(e["status"], e["fault"] is not None) for e in log] == [(503, True), (503, True), (429, True), (200, False)]
    assert server.faults()[0]["spent"] and server.stats()["faults"] == {"status": 3}


def test_repeat_keeps_the_last_step_and_other_paths_are_untouched(server, http):
    server.add_fault("/npm-api/downloads/range/", {"status": 401, "body": {"error": "nope"}}, repeat=True)
    ranged = f"{server.url}/npm-api/downloads/range/last-week/{SCOPED_PACKAGE}"
    assert [http.get(ranged).status_code for _ in range(3)] == [401, 401, 401]
    assert http.get(f"{server.url}{POINT}{SCOPED_PACKAGE}").status_code == 200
    server.clear_faults()
    assert http.get(ranged).status_code == 200


def test_reset_cuts_the_connection(server, http):
    server.add_fault(POINT, {"reset": True})
    with pytest.raises(requests.ConnectionError):
        http.get(f"{server.url}{POINT}{SCOPED_PACKAGE}")
    assert http.get(f"{server.url}{POINT}{SCOPED_PACKAGE}").status_code == 200
    assert [e["status"] for e in server.requests("npm-api")] == ["reset", 200]


def test_a_stall_outlasts_the_client_timeout_and_can_be_released(server, http):
    server.add_fault(POINT, {"stall": 30})
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        http.get(f"{server.url}{POINT}{SCOPED_PACKAGE}", timeout=0.5)
    assert time.monotonic() - started < 5
    assert server.requests("npm-api")[0]["status"] is None  # still stalled: logged on arrival
    released = threading.Timer(0.3, server.release_stalls)
    released.start()
    assert http.get(f"{server.url}{POINT}{SCOPED_PACKAGE}").status_code == 200  # the fault is spent
    deadline = time.monotonic() + 5
    while server.requests("npm-api")[0]["status"] is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.requests("npm-api")[0]["status"] == 200


def test_mutations_stringify_counts_and_add_fields_with_a_new_etag(server, http):
    server.add_fault("/npm-api/downloads/range/", {"mutate": {"stringify": ["downloads"]}})
    body = http.get(f"{server.url}/npm-api/downloads/range/last-week/{SCOPED_PACKAGE}").json()
    assert body["downloads"] and all(isinstance(d["downloads"], str) for d in body["downloads"])

    issues = f"{server.url}/github/repos/{REPO}/issues?per_page=3"
    plain = http.get(issues)
    server.add_fault("/github/repos/", {"mutate": {"add_fields": {"pinned_reason": "spotlight"}}}, repeat=True)
    changed = http.get(issues, headers={"If-None-Match": plain.headers["ETag"]})
    assert changed.status_code == 200  # the old ETag no longer matches the changed body
    assert all(item["pinned_reason"] == "spotlight" for item in changed.json())
    assert changed.headers["ETag"] != plain.headers["ETag"]
    again = http.get(issues, headers={"If-None-Match": changed.headers["ETag"]})
    assert again.status_code == 304


def test_control_endpoint_over_http(server, http):
    created = http.post(f"{server.url}/_sandbox/faults",
                        json=[{"path": POINT, "steps": [{"status": 500}]},
                              {"path": "/pypistats/", "steps": [{"pass": True}], "contains": "mirrors=true"}])
    assert created.status_code == 201 and len(created.json()["ids"]) == 2
    assert http.get(f"{server.url}{POINT}{SCOPED_PACKAGE}").status_code == 500
    listed = http.get(f"{server.url}/_sandbox/faults").json()["faults"]
    assert [f["hits"] for f in listed] == [1, 0]
    log = http.get(f"{server.url}/_sandbox/requests", params={"prefix": "npm-api"}).json()["requests"]
    assert [e["status"] for e in log] == [500]
    assert http.get(f"{server.url}/_sandbox/requests", params={"since": log[-1]["n"]}).json()["requests"] == []
    assert http.post(f"{server.url}/_sandbox/faults", json={"path": "nope", "steps": []}).status_code == 400
    assert http.delete(f"{server.url}/_sandbox/faults").json() == {"faults": []}
    assert http.delete(f"{server.url}/_sandbox/requests").json() == {"requests": []}


def test_bad_fault_descriptions_are_refused(server):
    with pytest.raises(FaultError):
        server.add_fault(POINT)
    with pytest.raises(FaultError):
        server.add_fault(POINT, {"status": 503, "reset": True})
    with pytest.raises(FaultError):
        server.add_fault("npm-api", {"status": 503})


def test_faults_can_be_in_force_from_the_start(tiny_world_dir, http):
    spec = {"path": POINT, "steps": [{"status": 502}], "repeat": True}
    with serve(tiny_world_dir, secondary_every=0, faults=[spec]) as sandbox:
        assert http.get(f"{sandbox.url}{POINT}{SCOPED_PACKAGE}").status_code == 502
