"""Outbound webhook endpoints and dead-letter replay: the writes people make (ADMIN and above).

Registering vets the URL with the SSRF guard (the same check runs again at every delivery, on the
address actually connected to) and makes the endpoint's signing secret, which is returned once,
here, and never again: no read, log line or audit row carries a secret. The deliverer
(`orchestration.activation.webhooks.deliveries`) disables endpoints through `disable_endpoint`
too, as `system:webhook-deliverer`, so every disable is audited.

    endpoint = webhooks.register_endpoint(admin, "https://hooks.acme.dev/devsignal", ["deal.created"])
    endpoint["secret"]   # whsec_... : give it to the receiver now
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from orchestration.activation.webhooks import endpoints, signing, ssrf

from . import Actor, NotFound, command, row_dict

MIN_ROLE = "ADMIN"
# How long the old secret keeps signing after a rotation (receivers swap secrets in this window).
DEFAULT_ROTATION_OVERLAP = timedelta(hours=24)


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    if now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware (e.g. datetime.now(timezone.utc))")
    return now


def _endpoint(connection, endpoint_id: int, *, lock: bool = False) -> dict:
    row = connection.execute(text("select * from app.webhook_endpoints where endpoint_id = :id"
                                  + (" for update" if lock else "")), {"id": endpoint_id}).first()
    if row is None:
        raise NotFound(f"webhook endpoint {endpoint_id} does not exist")
    return row_dict(row)


def _public(endpoint: dict) -> dict:
    return {key: value for key, value in endpoint.items() if key not in ("secret", "previous_secret")}


def register_endpoint(actor: Actor, url: str, event_types: list[str], *, description: str | None = None,
                      resolver: ssrf.Resolver | None = None, connection=None) -> dict:
    """Add a receiver for `event_types` (or ['*']); returns it with its `secret` (shown only now).

    Raises ssrf.UnsafeWebhookURL when the URL may not be reached, ValueError for bad event types."""
    checked_types = endpoints.check_event_types(event_types)
    with command(actor, MIN_ROLE, "webhook.register", "webhook_endpoint", connection=connection) as (conn, audit):
        target = ssrf.vet(url, resolver)
        secret = signing.generate_secret()
        row = conn.execute(
            text("""insert into app.webhook_endpoints (url, description, event_types, secret, created_by)
                    values (:url, :description, :event_types, :secret, :actor) returning *"""),
            {"url": target.url, "description": description, "event_types": checked_types, "secret": secret,
             "actor": actor.email}).first()
        endpoint = row_dict(row)
        audit.entity_id, audit.after = endpoint["endpoint_id"], _public(endpoint)
    return endpoint


def update_endpoint(actor: Actor, endpoint_id: int, *, url: str | None = None, event_types: list[str] | None = None,
                    description: str | None = None, resolver: ssrf.Resolver | None = None, connection=None) -> dict:
    """Change an endpoint's URL (vetted again), subscriptions or description; the secret stays."""
    changes: dict = {}
    if event_types is not None:
        changes["event_types"] = endpoints.check_event_types(event_types)
    if description is not None:
        changes["description"] = description
    with command(actor, MIN_ROLE, "webhook.update", "webhook_endpoint", endpoint_id, connection=connection) as (conn, audit):
        before = _endpoint(conn, endpoint_id, lock=True)
        if url is not None:
            changes["url"] = ssrf.vet(url, resolver).url
        changed = {key: value for key, value in changes.items() if before[key] != value}
        audit.before, audit.after = {key: before[key] for key in changed}, changed
        if not changed:
            return _public(before)
        assignments = ", ".join(f"{key} = :{key}" for key in changed)  # keys are ours, not the caller's
        row = conn.execute(text(f"update app.webhook_endpoints set {assignments}, updated_at = now() "
                                f"where endpoint_id = :id returning *"), {**changed, "id": endpoint_id}).first()
        return _public(row_dict(row))


def rotate_secret(actor: Actor, endpoint_id: int, *, overlap: timedelta = DEFAULT_ROTATION_OVERLAP,
                  now: datetime | None = None, connection=None) -> str:
    """Make a new secret (returned, shown only now); the old one keeps signing for `overlap`, so
    each request carries both signatures until the receiver has switched."""
    now = _now(now)
    if overlap < timedelta(0):
        raise ValueError("the rotation overlap cannot be negative")
    with command(actor, MIN_ROLE, "webhook.rotate_secret", "webhook_endpoint", endpoint_id,
                 connection=connection) as (conn, audit):
        before = _endpoint(conn, endpoint_id, lock=True)
        secret = signing.generate_secret()
        old_valid_until = now + overlap if overlap > timedelta(0) else None
        conn.execute(
            text("""update app.webhook_endpoints
                    set secret = :secret, previous_secret = :previous, previous_secret_expires_at = :until,
                        updated_at = :now
                    where endpoint_id = :id"""),
            {"secret": secret, "previous": before["secret"] if old_valid_until else None, "until": old_valid_until,
             "now": now, "id": endpoint_id})
        audit.after = {"secret_rotated": True, "previous_secret_valid_until": old_valid_until}
    return secret


def disable_endpoint(actor: Actor, endpoint_id: int, reason: str, *, now: datetime | None = None,
                     connection=None) -> dict:
    """Stop sending to an endpoint. Its pending deliveries move to the dead-letter list as the
    deliverer reaches them (replayable once it is enabled again); new events skip it."""
    now = _now(now)
    if not (reason or "").strip():
        raise ValueError("disabling an endpoint needs a reason (it is shown to whoever enables it again)")
    with command(actor, MIN_ROLE, "webhook.disable", "webhook_endpoint", endpoint_id, connection=connection) as (conn, audit):
        before = _endpoint(conn, endpoint_id, lock=True)
        audit.before = {"enabled": before["enabled"], "disabled_reason": before["disabled_reason"]}
        if not before["enabled"]:
            audit.after, audit.detail = audit.before, "already disabled"
            return _public(before)
        row = conn.execute(
            text("""update app.webhook_endpoints set enabled = false, disabled_at = :now, disabled_reason = :reason,
                           updated_at = :now
                    where endpoint_id = :id returning *"""), {"now": now, "reason": reason.strip(), "id": endpoint_id}).first()
        audit.after = {"enabled": False, "disabled_reason": reason.strip()}
        return _public(row_dict(row))


def enable_endpoint(actor: Actor, endpoint_id: int, *, resolver: ssrf.Resolver | None = None,
                    now: datetime | None = None, connection=None) -> dict:
    """Send to an endpoint again (its URL is vetted again first; the failure count starts over)."""
    now = _now(now)
    with command(actor, MIN_ROLE, "webhook.enable", "webhook_endpoint", endpoint_id, connection=connection) as (conn, audit):
        before = _endpoint(conn, endpoint_id, lock=True)
        ssrf.vet(before["url"], resolver)
        audit.before = {"enabled": before["enabled"], "disabled_reason": before["disabled_reason"]}
        row = conn.execute(
            text("""update app.webhook_endpoints set enabled = true, disabled_at = null, disabled_reason = null,
                           consecutive_failures = 0, updated_at = :now
                    where endpoint_id = :id returning *"""), {"now": now, "id": endpoint_id}).first()
        audit.after = {"enabled": True}
        return _public(row_dict(row))


def replay(actor: Actor, delivery_id: int, *, now: datetime | None = None, connection=None) -> dict:
    """Send a dead letter again: a new round of the full retry schedule, first attempt due at once,
    with the same `webhook-id` and body (receivers that already have it dedupe)."""
    now = _now(now)
    with command(actor, MIN_ROLE, "webhook.replay", "webhook_delivery", delivery_id, connection=connection) as (conn, audit):
        row = conn.execute(
            text("""select d.*, e.enabled, e.url from app.webhook_deliveries d
                    join app.webhook_endpoints e using (endpoint_id)
                    where d.delivery_id = :id for update of d"""), {"id": delivery_id}).first()
        if row is None:
            raise NotFound(f"webhook delivery {delivery_id} does not exist")
        delivery = row_dict(row)
        if delivery["status"] != "failed":
            raise ValueError(f"webhook delivery {delivery_id} is {delivery['status']}, not in the dead-letter list; "
                             f"only failed deliveries can be replayed")
        if not delivery["enabled"]:
            raise ValueError(f"webhook delivery {delivery_id} goes to endpoint {delivery['endpoint_id']}, which is "
                             f"disabled; enable it first (apps.state.webhooks.enable_endpoint)")
        audit.before = {"status": "failed", "attempts": delivery["attempts"], "last_error": delivery["last_error"]}
        updated = conn.execute(
            text("""update app.webhook_deliveries
                    set status = 'pending', attempts = 0, next_attempt_at = :now, failed_at = null,
                        replays = replays + 1
                    where delivery_id = :id returning *"""), {"now": now, "id": delivery_id}).first()
        result = row_dict(updated)
        audit.after = {"status": "pending", "replays": result["replays"]}
        return result
