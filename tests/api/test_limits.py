"""RELIABILITY §12 test 2: size limits and decompression bombs. Oversize or malformed input gets a
413/400 that says what was wrong, before the server reads past the limit (it reports how much it
read), nothing is written, and the server's memory barely moves."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from apps.api.config import MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_EVENT_BYTES

from .conftest import WRITE_KEY, RssSampler, new_id, raw_post, scalar

AUTH = {"Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()}
CHUNK = 64 * 1024
# uvicorn hands the app at most this much past what it asked for (its read buffer)
SLACK = 2 * CHUNK


def call(**fields) -> dict:
    return {"type": "track", "messageId": new_id("lim"), "userId": "usr_1", "event": "API Call",
            "timestamp": "2026-11-23T10:00:00Z", **fields}


def padded(target_bytes: int, **fields) -> bytes:
    """A single call whose JSON is exactly `target_bytes` long."""
    base = call(properties={"pad": ""}, **fields)
    pad = target_bytes - len(json.dumps(base, separators=(",", ":")).encode())
    base["properties"]["pad"] = "x" * pad
    body = json.dumps(base, separators=(",", ":")).encode()
    assert len(body) == target_bytes
    return body


def pieces(body: bytes, size: int = CHUNK):
    for start in range(0, len(body), size):
        yield body[start:start + size]


def endless(total: int, size: int = CHUNK):
    """`total` bytes of a JSON batch that never ends, in chunks (never held in memory at once)."""
    yield b'{"batch":['
    filler = (json.dumps(call()) + ",").encode()
    chunk = filler * (size // len(filler))
    for _ in range(total // len(chunk)):
        yield chunk


def gzip_bomb(megabytes: int) -> bytes:
    """A JSON batch with `megabytes` MB of zeros in a string, gzipped at ~1,000:1: one gzip member
    per MB (a gzip file may hold many; every inflater reads them all), so building a 1 GB bomb
    compresses only 1 MB, once."""
    zeros = b"0" * 2**20
    middle = gzip.compress(zeros, 9)
    return (gzip.compress(b'{"batch":[{"pad":"' + zeros, 9) + middle * (megabytes - 2)
            + gzip.compress(zeros + b'"}]}', 9))


@pytest.fixture(scope="module")
def bomb() -> bytes:
    bomb = gzip_bomb(1024)  # 1 GB of zeros in ~1 MB
    assert len(bomb) < 1.1 * 2**20
    return bomb


def test_limits_refuse_early_and_write_nothing(api, clean_intake, bomb):
    results = {}
    with RssSampler(api.process.pid) as rss:
        # one call of 32 KB + 1 to a single-call endpoint: refused on its Content-Length
        body = padded(MAX_EVENT_BYTES + 1)
        answer = raw_post(api.port, "/v1/track", pieces(body), headers=AUTH, content_length=len(body))
        assert (answer.status, answer.body["code"], answer.body["bytesRead"]) == (413, "payload_too_large", 0)
        results["event 32 KB + 1"] = answer

        # exactly 32 KB is fine
        body = padded(MAX_EVENT_BYTES)
        answer = raw_post(api.port, "/v1/track", pieces(body), headers=AUTH, content_length=len(body))
        assert answer.status == 200 and answer.body["stored"] == 1

        # a batch of 500 KB + 1, streamed without a length: counted as it arrives
        batch = json.dumps({"batch": [call(properties={"pad": "y" * 1000}) for _ in range(600)]}).encode()
        batch = batch[:MAX_BATCH_BYTES + 1]
        answer = raw_post(api.port, "/v1/batch", pieces(batch), headers=AUTH)
        assert answer.status == 413 and MAX_BATCH_BYTES < answer.body["bytesRead"] <= MAX_BATCH_BYTES + SLACK
        results["batch 500 KB + 1"] = answer

        # 2,501 calls (well under 500 KB)
        batch = json.dumps({"batch": [{"type": "track"} for _ in range(MAX_BATCH_EVENTS + 1)]}).encode()
        answer = raw_post(api.port, "/v1/batch", pieces(batch), headers=AUTH, content_length=len(batch))
        assert answer.status == 400 and answer.body["code"] == "too_many_events"
        assert "2,501" in answer.body["message"]
        results["2,501 calls"] = answer

        # 10 MB, chunked: the server stops at the limit and closes; the client never gets it all out
        answer = raw_post(api.port, "/v1/batch", endless(10 * 2**20), headers=AUTH)
        assert answer.status == 413 and answer.body["bytesRead"] <= MAX_BATCH_BYTES + SLACK
        assert answer.bytes_sent < 10 * 2**20
        results["10 MB chunked"] = answer

        # 10 MB announced: refused before a byte of the body is read
        answer = raw_post(api.port, "/v1/batch", endless(10 * 2**20), headers=AUTH, content_length=10 * 2**20)
        assert answer.status == 413 and answer.body["bytesRead"] == 0
        results["10 MB announced"] = answer

        # gzip bomb, 1 MB -> 1 GB: its compressed size alone is over the limit
        answer = raw_post(api.port, "/v1/batch", pieces(bomb), headers={**AUTH, "Content-Encoding": "gzip"},
                          content_length=len(bomb))
        assert answer.status == 413 and answer.body["bytesRead"] == 0
        results["gzip bomb 1 MB -> 1 GB"] = answer

        # a bomb small enough to pass as compressed bytes: inflation stops at the limit
        small_bomb = bomb[:300 * 1024]  # 300 KB of it would inflate to ~300 MB
        answer = raw_post(api.port, "/v1/batch", pieces(small_bomb), headers={**AUTH, "Content-Encoding": "gzip"})
        assert answer.status == 413 and answer.body["bytesInflated"] <= MAX_BATCH_BYTES + 1
        results["gzip bomb 300 KB -> 300 MB"] = answer

        # JSON nested 10,000 deep, and just past our depth limit
        deep = b'{"batch":[' + b"[" * 10_000 + b"]" * 10_000 + b"]}"
        answer = raw_post(api.port, "/v1/batch", pieces(deep), headers=AUTH, content_length=len(deep))
        assert answer.status == 400 and answer.body["code"] == "too_deep"
        results["nesting 10,000"] = answer
        nested: dict = {}
        for _ in range(64):
            nested = {"n": nested}
        body = json.dumps({"batch": [call(properties=nested)]}).encode()
        answer = raw_post(api.port, "/v1/batch", pieces(body), headers=AUTH, content_length=len(body))
        assert answer.status == 400 and answer.body["code"] == "too_deep"

        # not JSON, an encoding we do not take
        answer = raw_post(api.port, "/v1/batch", [b'{"batch": [nope'], headers=AUTH, content_length=15)
        assert answer.status == 400 and answer.body["code"] == "invalid_json"
        answer = raw_post(api.port, "/v1/batch", [b"{}"], headers={**AUTH, "Content-Encoding": "br"}, content_length=2)
        assert answer.status == 415
    print("\nlimits (status, bytes read by the server, body bytes the client got out):")
    for case, answer in results.items():
        print(f"  {case:<28} {answer.status}  read {answer.body.get('bytesRead', '-')!s:>8}  "
              f"sent {answer.bytes_sent:>10,}  {answer.body['message']}")
    print(f"  server RSS growth (peak - start): {rss.growth_mb:.1f} MB")
    assert rss.growth_mb < 50
    assert scalar("select count(*) from intake.inbox") == 1  # only the exactly-32 KB call
    assert scalar("select count(*) from intake.quarantine") == 0


def test_per_call_rejects_are_listed_and_quarantined(api, clean_intake):
    good = [call(), call()]
    oversize = json.loads(padded(MAX_EVENT_BYTES + 1))
    no_user = {k: v for k, v in call().items() if k != "userId"}
    batch = json.dumps({"batch": [good[0], oversize, no_user, "not an object", good[1]]}).encode()
    answer = raw_post(api.port, "/v1/batch", pieces(gzip.compress(batch)),
                      headers={**AUTH, "Content-Encoding": "gzip"})
    assert answer.status == 200
    assert (answer.body["received"], answer.body["stored"]) == (5, 2)
    reasons = {item["index"]: item["reason"] for item in answer.body["rejected"]}
    assert set(reasons) == {1, 2, 3}
    assert reasons[1].startswith(f"the call is {MAX_EVENT_BYTES + 1:,} bytes")
    assert reasons[2] == "missing userId and anonymousId (one is required)"
    assert reasons[3] == "a call must be a JSON object, not str"
    assert scalar("select count(*) from intake.inbox") == 2
    assert scalar("select count(*) from intake.quarantine") == 3


def test_write_key_is_required(api, clean_intake):
    body = json.dumps({"batch": [call()]}).encode()
    for headers in ({}, {"Authorization": "Basic " + base64.b64encode(b"wrong-key:").decode()}):
        answer = raw_post(api.port, "/v1/batch", [body], headers=headers, content_length=len(body))
        assert answer.status == 401
    # Segment also accepts the write key inside the body
    body = json.dumps({"batch": [call()], "writeKey": WRITE_KEY}).encode()
    answer = raw_post(api.port, "/v1/batch", [body], content_length=len(body))
    assert answer.status == 200 and answer.body["stored"] == 1
    assert scalar("select count(*) from intake.inbox where payload ? 'writeKey'") == 0
