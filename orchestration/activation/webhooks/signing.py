"""Standard Webhooks v1 signatures (https://www.standardwebhooks.com).

Each request carries `webhook-id` (the message id: the same on every retry of one delivery, so the
receiver can dedupe on it), `webhook-timestamp` (Unix seconds of this attempt) and
`webhook-signature`: `v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`. The body is the
exact bytes sent. During a secret rotation the header carries one `v1,` signature per live secret,
space-separated, so receivers verifying with either the old or the new secret accept it.

Secrets are `whsec_` + base64 of 32 random bytes (the spec allows 24–64), one per endpoint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as random_source
from typing import Sequence

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(random_source.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a `whsec_...` secret; ValueError (without echoing the secret) when malformed."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret must start with 'whsec_'")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret must be 'whsec_' followed by base64") from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise ValueError(f"a webhook secret must hold {MIN_SECRET_BYTES}-{MAX_SECRET_BYTES} bytes, this one holds {len(key)}")
    return key


def message_id(idempotency_key: str) -> str:
    """The `webhook-id` of an event: derived from its idempotency key, so enqueueing the same event
    twice (a re-run sensor, a replay) can never give receivers two different ids for it."""
    return "msg_" + hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of `body` as sent at `timestamp` (Unix seconds)."""
    signed = f"{msg_id}.{int(timestamp)}.".encode("utf-8") + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one signature per live secret (newest first), space-separated."""
    if not secrets:
        raise ValueError("signing needs at least one secret")
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)


def headers(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every header of one attempt (the three Standard Webhooks headers and the content type)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": "DevSignal-Webhooks/1",
    }
