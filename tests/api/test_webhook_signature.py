"""RELIABILITY §12 test 1, scaled to 1,000 requests: Segment's webhook signature (hex HMAC-SHA1
of the raw body) and replays. Every forged or altered request -> 401 and no row; a replay -> 200
and no new row (messageId is unique); false accepts = 0, false rejects = 0."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random
import time

import requests

from .conftest import WEBHOOK_SECRET, new_id, scalar

REQUESTS = 1_000
VALID_SHARE = 0.4
FORGERIES = ("one_byte_changed", "wrong_secret", "missing_header", "other_body_signature", "reserialised")


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def segment_event(rng: random.Random) -> bytes:
    """A call as Segment's webhook destination posts it: JSON text, with Segment's own fields."""
    now = dt.datetime.now(dt.timezone.utc)
    call = {"type": "track", "messageId": new_id("wh"), "userId": f"usr_{rng.randrange(10**6)}",
            "event": "Feature Used", "properties": {"feature": rng.choice(["sso", "audit", "api"]), "n": rng.random()},
            "originalTimestamp": (now - dt.timedelta(seconds=3)).isoformat(),
            "sentAt": (now - dt.timedelta(seconds=2)).isoformat(), "receivedAt": (now - dt.timedelta(seconds=1)).isoformat(),
            "timestamp": (now - dt.timedelta(seconds=2)).isoformat()}
    return json.dumps(call).encode()


def forge(kind: str, body: bytes, other: bytes) -> tuple[bytes, dict]:
    headers = {"Content-Type": "application/json"}
    if kind == "one_byte_changed":
        position = body.index(b'"Feature Used"') + 2
        altered = body[:position] + (b"f" if body[position:position + 1] != b"f" else b"g") + body[position + 1:]
        return altered, {**headers, "X-Signature": sign(body)}
    if kind == "wrong_secret":
        return body, {**headers, "X-Signature": sign(body, "not-the-secret")}
    if kind == "missing_header":
        return body, headers
    if kind == "other_body_signature":
        return body, {**headers, "X-Signature": sign(other)}
    if kind == "reserialised":  # same JSON value, other bytes: key order and whitespace
        value = json.loads(body)
        return json.dumps(dict(reversed(list(value.items()))), indent=1).encode(), {**headers, "X-Signature": sign(body)}
    raise ValueError(kind)


def test_webhook_signature_and_replay(api, clean_intake):
    rng = random.Random(1)
    url = f"{api.url}/v1/webhooks/segment"
    http = requests.Session()
    valid_bodies: list[bytes] = []
    plan: list[tuple[str, bytes, dict]] = []
    for index in range(REQUESTS):
        if index < REQUESTS * VALID_SHARE:
            body = segment_event(rng)
            valid_bodies.append(body)
            plan.append(("valid", body, {"Content-Type": "application/json", "X-Signature": sign(body)}))
        else:
            kind = FORGERIES[index % len(FORGERIES)]
            body = segment_event(rng)
            plan.append((kind, *forge(kind, body, segment_event(rng))))
    # replays: some valid requests again, byte for byte, later on
    replays = [("replay", body, {"Content-Type": "application/json", "X-Signature": sign(body)})
               for body in rng.sample(valid_bodies, 100)]
    plan = plan[:len(valid_bodies)] + rng.sample(plan[len(valid_bodies):], len(plan) - len(valid_bodies)) + replays

    outcomes: dict[str, list[int]] = {}
    latencies: list[float] = []
    forged_before = 0
    for kind, body, headers in plan:
        rows_before = scalar("select count(*) from intake.inbox") if kind in FORGERIES and forged_before < 20 else None
        started = time.perf_counter()
        response = http.post(url, data=body, headers=headers, timeout=10)
        latencies.append(time.perf_counter() - started)
        outcomes.setdefault(kind, []).append(response.status_code)
        if rows_before is not None:  # spot-check: a rejected request writes nothing at all
            forged_before += 1
            assert scalar("select count(*) from intake.inbox") == rows_before
        if kind == "replay":
            assert response.json()["stored"] == 0 and response.json()["duplicates"] == 1

    false_accepts = sum(status < 400 for kind in FORGERIES for status in outcomes[kind])
    false_rejects = sum(status != 200 for kind in ("valid", "replay") for status in outcomes[kind])
    latencies.sort()
    p99_ms = latencies[int(len(latencies) * 0.99)] * 1000
    print(f"\nwebhook: {len(plan)} requests, false accepts {false_accepts}, false rejects {false_rejects}, "
          f"p99 request time {p99_ms:.1f} ms")
    assert false_accepts == 0
    assert false_rejects == 0
    assert all(status == 401 for kind in FORGERIES for status in outcomes[kind])
    assert scalar("select count(*) from intake.inbox") == len(valid_bodies)
    assert scalar("select count(distinct message_id) from intake.inbox") == len(valid_bodies)
    assert scalar("select count(*) from intake.quarantine") == 0
    # through Segment, the skew correction uses Segment's receivedAt, so it lands on Segment's own timestamp
    assert scalar("select count(*) from intake.inbox where \"timestamp\" <> (payload->>'timestamp')::timestamptz") == 0


def test_webhook_refuses_everything_without_a_configured_secret(api_database, tmp_path):
    from .conftest import start_api

    server = start_api(tmp_path / "api.log", api_database, DEVSIGNAL_SEGMENT_WEBHOOK_SECRET="")
    try:
        body = b'{"type":"track","userId":"u","event":"E","timestamp":"2026-01-01T00:00:00Z"}'
        response = requests.post(f"{server.url}/v1/webhooks/segment", data=body,
                                 headers={"X-Signature": sign(body, "")}, timeout=10)
        assert response.status_code == 503
        assert "DEVSIGNAL_SEGMENT_WEBHOOK_SECRET" in response.json()["message"]
    finally:
        server.stop()
