"""Fan events out to subscribed endpoints and send them: signed, retried, dead-lettered.

`enqueue` turns one event into one delivery per enabled, subscribed endpoint (idempotent on
(idempotency key, endpoint)). `deliver_due` sends what is due, one delivery per transaction: the
row is locked `for update skip locked` while its request is in flight, so two workers never send
the same delivery, and a crash mid-request rolls back to `pending` (sent again later; the receiver
dedupes on `webhook-id`, which never changes). Outcomes:

- 2xx: delivered.
- 410 Gone: failed at once, and the endpoint is disabled.
- anything else (3xx — redirects are not followed —, 4xx, 5xx, timeouts, network errors, a URL the
  SSRF guard refuses): retried on SCHEDULE with jitter; after the last attempt the delivery is
  `failed` and sits in `app.webhook_dead_letters` until someone replays it. DISABLE_AFTER
  consecutive failed deliveries disable the endpoint.

Time is a parameter (`now`), so tests run a three-hour outage without sleeping.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import urllib3
from sqlalchemy import text

from . import endpoints, signing, ssrf

# Wait before attempt n+1 after attempt n failed (attempt 1 is sent when enqueued). Svix's schedule:
# 8 attempts over about 27.6 hours.
SCHEDULE = (timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
            timedelta(hours=5), timedelta(hours=10), timedelta(hours=10))
MAX_ATTEMPTS = len(SCHEDULE) + 1
JITTER = 0.2                      # each wait is scaled by a uniform factor in [0.8, 1.2]
RETRY_AFTER_CAP = timedelta(hours=24)
DISABLE_AFTER = 5                 # consecutive failed deliveries (no success between) disable an endpoint
MAX_BODY_BYTES = 256 * 1024       # Standard Webhooks prefers < 20 KB; past this, send a reference instead
DELIVERER = "webhook-deliverer"


@dataclass
class DeliveryRun:
    """What one `deliver_due` call did."""

    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0                  # ran out of attempts, or 410
    skipped_disabled: int = 0        # endpoint disabled: moved to dead letters without a request
    endpoints_disabled: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    if now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware (e.g. datetime.now(timezone.utc))")
    return now


def _engine():
    from devsignal import db

    return db.engine()


def retry_wait(attempts_made: int, rng: random.Random | None = None) -> timedelta | None:
    """The jittered wait before the next attempt, after `attempts_made` failed ones; None = no more."""
    if attempts_made >= MAX_ATTEMPTS:
        return None
    base = SCHEDULE[attempts_made - 1]
    return base * (rng or random).uniform(1 - JITTER, 1 + JITTER)


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def body_for(event_type: str, payload: dict, at: datetime) -> str:
    """The request body, Standard Webhooks' recommended envelope: {type, timestamp, data}."""
    try:
        body = json.dumps({"type": event_type, "timestamp": at.isoformat(), "data": payload},
                          ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_default)
    except (TypeError, ValueError) as error:
        raise ValueError(f"webhook payload for {event_type} cannot be sent as JSON: {error}") from None
    try:
        size = len(body.encode("utf-8"))
    except UnicodeEncodeError as error:
        raise ValueError(f"webhook payload for {event_type} holds text that is not valid Unicode "
                         f"(a lone surrogate at character {error.start} of the body)") from None
    if size > MAX_BODY_BYTES:
        raise ValueError(f"webhook payload for {event_type} is {size} bytes; "
                         f"the limit is {MAX_BODY_BYTES} (send an id and let receivers fetch the rest)")
    return body


def enqueue(event_type: str, payload: dict, idempotency_key: str, *, now: datetime | None = None,
            connection=None) -> list[int]:
    """Create a delivery of this event for every enabled endpoint subscribed to `event_type`; returns
    the ids of this event's deliveries (the same list when called again with the same key).

    Pass `connection` to enqueue inside the caller's transaction (an outbox row and its deliveries
    commit together)."""
    endpoints.check_event_type(event_type)
    if not isinstance(payload, dict):
        raise TypeError(f"webhook payload must be a dict, got {type(payload).__name__}")
    if not isinstance(idempotency_key, str) or not idempotency_key.strip():
        raise ValueError("a webhook event needs a non-empty idempotency key (one per event)")
    now = _now(now)
    params = {"event_type": event_type, "key": idempotency_key, "msg_id": signing.message_id(idempotency_key),
              "body": body_for(event_type, payload, now), "now": now}
    sql = text("""
        with new as (
            insert into app.webhook_deliveries (endpoint_id, idempotency_key, message_id, event_type, body,
                                                next_attempt_at, created_at)
            select endpoint_id, :key, :msg_id, :event_type, :body, :now, :now
            from app.webhook_endpoints
            where enabled and (:event_type = any(event_types) or '*' = any(event_types))
            on conflict (idempotency_key, endpoint_id) do nothing
            returning delivery_id)
        select delivery_id from new
        union
        select delivery_id from app.webhook_deliveries where idempotency_key = :key
        order by delivery_id""")
    if connection is not None:
        return [row[0] for row in connection.execute(sql, params)]
    with _engine().begin() as own:
        return [row[0] for row in own.execute(sql, params)]


def _claim(connection, now: datetime) -> dict | None:
    row = connection.execute(text("""
        select d.delivery_id, d.endpoint_id, d.message_id, d.body, d.attempts, d.replays, d.event_type,
               e.url, e.secret, e.previous_secret, e.previous_secret_expires_at, e.enabled, e.disabled_reason
        from app.webhook_deliveries d
        join app.webhook_endpoints e using (endpoint_id)
        where d.status = 'pending' and d.next_attempt_at <= :now
        order by d.next_attempt_at, d.delivery_id
        limit 1
        for update of d skip locked"""), {"now": now}).first()
    return None if row is None else dict(row._mapping)


def _retry_after(headers: dict[str, str]) -> timedelta | None:
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return min(timedelta(seconds=int(value)), RETRY_AFTER_CAP)
    return None


def _send(delivery: dict, now: datetime, resolver, ca_certs) -> tuple[ssrf.Response | None, str | None]:
    body = delivery["body"].encode("utf-8")
    secrets = endpoints.live_secrets(delivery, now)
    headers = signing.headers(secrets, delivery["message_id"], int(now.timestamp()), body)
    try:
        return ssrf.post(delivery["url"], body, headers, resolver=resolver, ca_certs=ca_certs), None
    except ssrf.HostDoesNotResolve as error:
        return None, str(error)
    except ssrf.UnsafeWebhookURL as error:
        return None, f"refused by the SSRF guard: {error}"
    except (urllib3.exceptions.HTTPError, OSError) as error:
        return None, f"{type(error).__name__}: {error}"[:1000]
    except Exception as error:  # noqa: BLE001 - one odd endpoint must not stop every other delivery
        return None, f"unexpected {type(error).__name__}: {error}"[:1000]


def _judge(response: ssrf.Response | None, error: str | None, attempt: int,
           rng: random.Random | None) -> tuple[str, str | None, timedelta | None, str | None]:
    """(outcome, error, wait before the next attempt, reason to disable the endpoint) of one attempt."""
    status = response.status if response else None
    if status is not None and 200 <= status < 300:
        return "delivered", None, None, None
    if status is not None and 300 <= status < 400:
        error = f"HTTP {status} redirect to {response.headers.get('location', '?')!r}: webhooks do not follow redirects"
    elif status is not None:
        error = f"HTTP {status}"
    if status == 410:
        return "failed", error, None, "receiver answered 410 Gone"
    wait = retry_wait(attempt, rng)
    if wait is None:
        return "failed", error, None, None
    if status in (429, 503):
        wait = max(wait, _retry_after(response.headers) or wait)
    return "retrying", error, wait, None


def _record(conn, delivery: dict, attempt: int, now: datetime, response: ssrf.Response | None, error: str | None,
            outcome: str, wait: timedelta | None, duration_ms: int) -> None:
    status = response.status if response else None
    conn.execute(
        text("""insert into app.webhook_attempts (delivery_id, attempt, round, attempted_at, status_code, error,
                                                  duration_ms, outcome, peer, response)
                values (:id, :attempt, :round, :now, :status, :error, :duration, :outcome, :peer, :response)"""),
        {"id": delivery["delivery_id"], "attempt": attempt, "round": delivery["replays"], "now": now,
         "status": status, "error": error, "duration": duration_ms, "outcome": outcome,
         "peer": response.peer if response else None, "response": response.excerpt if response else None})
    conn.execute(
        text("""update app.webhook_deliveries
                set attempts = :attempt, last_status_code = :status, last_error = :error,
                    status = case :outcome when 'retrying' then 'pending' else :outcome end,
                    next_attempt_at = cast(:next as timestamptz),
                    delivered_at = case when :outcome = 'delivered' then cast(:now as timestamptz) end,
                    failed_at = case when :outcome = 'failed' then cast(:now as timestamptz) end
                where delivery_id = :id"""),
        {"attempt": attempt, "status": status, "error": error, "outcome": outcome, "now": now,
         "next": now + wait if wait is not None else None, "id": delivery["delivery_id"]})


def _settle_endpoint(conn, endpoint_id: int, outcome: str, disable_reason: str | None) -> str | None:
    """Count the endpoint's failed deliveries in a row (a success resets it); returns why to disable it, if so."""
    if outcome == "delivered":
        conn.execute(text("update app.webhook_endpoints set consecutive_failures = 0 "
                          "where endpoint_id = :id and consecutive_failures <> 0"), {"id": endpoint_id})
    elif outcome == "failed":
        failures = conn.execute(text("""update app.webhook_endpoints set consecutive_failures = consecutive_failures + 1
                                        where endpoint_id = :id returning consecutive_failures"""),
                                {"id": endpoint_id}).scalar()
        if disable_reason is None and failures >= DISABLE_AFTER:
            return f"{failures} deliveries in a row failed after every retry"
    return disable_reason


def deliver_due(now: datetime | None = None, limit: int = 100, *, resolver: ssrf.Resolver | None = None,
                rng: random.Random | None = None, ca_certs: str | None = None) -> DeliveryRun:
    """Send up to `limit` deliveries due at `now` (default: the current time); see the module doc.

    `resolver` replaces DNS (tests), `rng` the jitter's randomness, `ca_certs` the trusted CAs."""
    from apps.state import Actor
    from apps.state import webhooks as commands

    now = _now(now)
    if limit < 1:
        raise ValueError("limit must be at least 1")
    run = DeliveryRun()
    while run.attempted + run.skipped_disabled < limit:
        with _engine().begin() as conn:   # one delivery per transaction; its row stays locked while sending
            delivery = _claim(conn, now)
            if delivery is None:
                break
            if not delivery["enabled"]:
                conn.execute(text("""update app.webhook_deliveries
                                     set status = 'failed', failed_at = :now, next_attempt_at = null, last_error = :error
                                     where delivery_id = :id"""),
                             {"now": now, "id": delivery["delivery_id"],
                              "error": f"endpoint disabled: {delivery['disabled_reason']}"})
                run.skipped_disabled += 1
                continue
            started = time.monotonic()
            response, error = _send(delivery, now, resolver, ca_certs)
            duration_ms = int((time.monotonic() - started) * 1000)
            attempt = delivery["attempts"] + 1
            outcome, error, wait, disable_reason = _judge(response, error, attempt, rng)
            _record(conn, delivery, attempt, now, response, error, outcome, wait, duration_ms)
            run.attempted += 1
            setattr(run, outcome, getattr(run, outcome) + 1)   # DeliveryRun has a counter per outcome
            disable_reason = _settle_endpoint(conn, delivery["endpoint_id"], outcome, disable_reason)
            if disable_reason:
                commands.disable_endpoint(Actor.system(DELIVERER), delivery["endpoint_id"], disable_reason,
                                          now=now, connection=conn)
                run.endpoints_disabled.append(delivery["endpoint_id"])
    return run


# --------------------------------------------------------------------------- reads

def next_due_at() -> datetime | None:
    """When the earliest pending delivery is due (a scheduler can sleep until then)."""
    with _engine().connect() as connection:
        return connection.execute(text("select min(next_attempt_at) from app.webhook_deliveries "
                                       "where status = 'pending'")).scalar()


def get_delivery(delivery_id: int) -> dict | None:
    with _engine().connect() as connection:
        row = connection.execute(text("select * from app.webhook_deliveries where delivery_id = :id"),
                                 {"id": delivery_id}).first()
        return None if row is None else dict(row._mapping)


def attempts(delivery_id: int) -> list[dict]:
    with _engine().connect() as connection:
        rows = connection.execute(text("select * from app.webhook_attempts where delivery_id = :id order by attempt_id"),
                                  {"id": delivery_id})
        return [dict(row._mapping) for row in rows]


def dead_letters(endpoint_id: int | None = None) -> list[dict]:
    """The dead-letter list (newest failure first), optionally for one endpoint."""
    with _engine().connect() as connection:
        rows = connection.execute(
            text("""select * from app.webhook_dead_letters
                    where cast(:endpoint_id as bigint) is null or endpoint_id = cast(:endpoint_id as bigint)
                    order by failed_at desc, delivery_id desc"""), {"endpoint_id": endpoint_id})
        return [dict(row._mapping) for row in rows]
