"""RELIABILITY 17 (signatures): 1,000 random payloads (unicode, up to 20 KB) sent over real HTTP and
verified by the official `standardwebhooks` package, with the secret rotated half-way: during the
overlap every request verifies with the old *and* the new secret; after it, only with the new."""

from __future__ import annotations

import json
import random
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from apps import state
from apps.state import webhooks as commands
from orchestration.activation.webhooks import deliveries, signing

from .conftest import ADMIN

# Code points from many scripts and planes (no surrogates: they are not text), plus the characters
# that break naive signing: quotes, backslashes, newlines, NUL, RTL marks, combining accents, emoji.
ALPHABETS = ["abcXYZ019 ", "\"\\/\n\r\t\x00\x1f\x7f", "éüßñçø", "Ωλπ", "Жюя", "日本語漢字", "한국어", "עברית\u200f",
             "العربية", "हिन्दी", "e\u0301a\u0308", "😀🚀👩‍💻🏳️‍🌈", "\U00010348\U0001d11e", "\ufeff\u2028\u2029"]


def random_text(rng: random.Random, max_bytes: int) -> str:
    chars, size = [], 0
    while True:
        char = rng.choice(rng.choice(ALPHABETS))
        size += len(char.encode("utf-8"))
        if size > max_bytes:
            return "".join(chars)
        chars.append(char)


def random_payload(rng: random.Random) -> dict:
    """A nested JSON object; the request body is anywhere from ~100 bytes to 20 KB (many near the top)."""
    target = rng.choice([100, 1000, 5000, 12_000, 18_000])
    payload: dict = {"id": rng.randrange(10**12), "ok": rng.random() < 0.5, "none": None, "ratio": rng.random(),
                     random_text(rng, 24): [random_text(rng, 60), rng.randint(-10**9, 10**9), {"k": "v"}]}
    payload["text"] = random_text(rng, rng.randint(target // 2, target))
    return payload


def test_1000_random_payloads_verify_with_the_official_library_across_a_rotation(receiver_factory):
    receiver = receiver_factory()
    endpoint = commands.register_endpoint(ADMIN, receiver.url(), ["signal.received"])
    old_secret = endpoint["secret"]
    rng = random.Random(1000)
    payloads = [random_payload(rng) for _ in range(1000)]
    started = time.monotonic()
    with state.engine().begin() as conn:   # one transaction, as an outbox batch would
        for n, payload in enumerate(payloads[:500]):
            deliveries.enqueue("signal.received", payload, f"signal:{n}", connection=conn)
    enqueued = time.monotonic()
    assert deliveries.deliver_due(limit=1000).delivered == 500
    sent = time.monotonic()
    new_secret = commands.rotate_secret(ADMIN, endpoint["endpoint_id"], overlap=timedelta(hours=1))
    assert new_secret != old_secret
    for n, payload in enumerate(payloads[500:], start=500):
        deliveries.enqueue("signal.received", payload, f"signal:{n}")
    assert deliveries.deliver_due(limit=1000).delivered == 500

    requests = receiver.requests
    assert len(requests) == 1000
    sizes = [len(r.body) for r in requests]
    assert max(sizes) > 15_000 and max(sizes) <= 20 * 1024
    verified_old = verified_new = 0
    for n, request in enumerate(requests):
        data = Webhook(old_secret).verify(request.body, request.headers) if n < 500 else None
        if n >= 500:  # overlap: both secrets verify, and the header carries two signatures
            assert len(request.headers["webhook-signature"].split(" ")) == 2
            data = Webhook(old_secret).verify(request.body, request.headers)
            assert Webhook(new_secret).verify(request.body, request.headers) == data
            verified_new += 1
        verified_old += 1
        assert data["type"] == "signal.received"
    # what arrived is what was sent, byte for byte, in order
    assert [json.loads(r.body)["data"] for r in requests] == payloads
    print(f"\n[R17] signatures verified by standardwebhooks: {verified_old}/1000 with the old secret, "
          f"{verified_new}/500 with the new one during the overlap (100%); largest body {max(sizes)} bytes; "
          f"500 enqueued in {enqueued - started:.1f} s, sent in {sent - enqueued:.1f} s")


def test_after_the_overlap_only_the_new_secret_signs(receiver_factory):
    receiver = receiver_factory()
    endpoint = commands.register_endpoint(ADMIN, receiver.url(), ["deal.created"])
    now = datetime.now(timezone.utc)
    new_secret = commands.rotate_secret(ADMIN, endpoint["endpoint_id"], overlap=timedelta(minutes=10),
                                        now=now - timedelta(minutes=11))
    deliveries.enqueue("deal.created", {"deal_id": 1}, "deal.created:1")
    deliveries.deliver_due()
    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    assert Webhook(new_secret).verify(request.body, request.headers)["data"] == {"deal_id": 1}
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(request.body, request.headers)


def test_a_tampered_body_or_a_wrong_secret_does_not_verify(receiver_factory):
    receiver = receiver_factory()
    endpoint = commands.register_endpoint(ADMIN, receiver.url(), ["deal.created"])
    deliveries.enqueue("deal.created", {"amount": 100}, "deal.created:100")
    deliveries.deliver_due()
    [request] = receiver.requests
    Webhook(endpoint["secret"]).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(request.body.replace(b"100", b"900"), request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.generate_secret()).verify(request.body, request.headers)


def test_secrets_are_shown_once_and_never_audited_or_listed(receiver_factory):
    with state.engine().connect() as conn:
        first_audit_id = conn.execute(text("select coalesce(max(audit_id), 0) + 1 from app.audit_log")).scalar()
    receiver = receiver_factory()
    endpoint = commands.register_endpoint(ADMIN, receiver.url(), ["deal.created"])
    commands.rotate_secret(ADMIN, endpoint["endpoint_id"])
    from orchestration.activation.webhooks import endpoints

    assert "secret" not in endpoints.get_endpoint(endpoint["endpoint_id"])
    assert all("whsec_" not in json.dumps(row, default=str) for row in endpoints.list_endpoints())
    with state.engine().connect() as conn:
        audit = conn.execute(text("select coalesce(before::text, '') || coalesce(after::text, '') || coalesce(detail, '') "
                                  "from app.audit_log where audit_id >= :first"), {"first": first_audit_id}).scalars().all()
        anywhere = conn.execute(text("select count(*) from app.audit_log where concat(before, after, detail) like '%whsec%'")).scalar()
    assert len(audit) == 2 and not any("whsec_" in row for row in audit) and anywhere == 0


def test_secret_format_follows_the_spec():
    secret = signing.generate_secret()
    assert secret.startswith("whsec_") and len(signing.secret_key(secret)) == 32
    for bad, reason in [("abc", "start with 'whsec_'"), ("whsec_!!!", "base64"), ("whsec_" + "QUJD", "24-64 bytes, this one holds 3")]:
        with pytest.raises(ValueError, match=reason):
            signing.secret_key(bad)
    assert signing.message_id("deal.created:1") == signing.message_id("deal.created:1") != signing.message_id("x")
