"""Reading webhook endpoints, and the checks a registration needs (URL, event types).

Endpoints are written only by `apps.state.webhooks` (register, rotate secret, disable/enable,
replay: audited, ADMIN+). Reads here never return secrets; `live_secrets` is for the deliverer.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Sequence

from sqlalchemy import text

# Event types the product emits (SPEC §11.11 lists them; the outbox decides which fire). An
# endpoint may also subscribe to '*' (every type) or any other well-formed `noun.verb` name, so a
# new event needs no migration.
KNOWN_EVENT_TYPES = ("signal.received", "contact.created", "contact.updated", "deal.created", "deal.updated",
                     "score.changed")
ALL_EVENTS = "*"
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")

# columns safe to show (everything but the secrets)
PUBLIC_COLUMNS = ("endpoint_id, url, description, event_types, enabled, disabled_at, disabled_reason, "
                  "consecutive_failures, previous_secret_expires_at, created_by, created_at, updated_at")


def check_event_type(event_type: str) -> str:
    if not isinstance(event_type, str) or not _EVENT_TYPE.match(event_type):
        raise ValueError(f"event type {event_type!r} is not a dotted lower-case name like 'deal.created' "
                         f"(known: {', '.join(KNOWN_EVENT_TYPES)})")
    return event_type


def check_event_types(event_types: Sequence[str]) -> list[str]:
    """A subscription list: non-empty, each a well-formed type or '*'; duplicates dropped, order kept."""
    if isinstance(event_types, str) or not event_types:
        raise ValueError("an endpoint needs a non-empty list of event types to receive (or ['*'] for all)")
    checked: list[str] = []
    for event_type in event_types:
        if event_type != ALL_EVENTS:
            check_event_type(event_type)
        if event_type not in checked:
            checked.append(event_type)
    return checked


def live_secrets(endpoint: dict, now: datetime) -> list[str]:
    """The secrets that sign a request sent at `now`: the current one, plus the previous one while
    its rotation overlap lasts (newest first)."""
    secrets = [endpoint["secret"]]
    if endpoint.get("previous_secret") and endpoint["previous_secret_expires_at"] > now:
        secrets.append(endpoint["previous_secret"])
    return secrets


def _engine():
    from devsignal import db

    return db.engine()


def get_endpoint(endpoint_id: int, connection=None) -> dict | None:
    sql = text(f"select {PUBLIC_COLUMNS} from app.webhook_endpoints where endpoint_id = :id")
    if connection is not None:
        row = connection.execute(sql, {"id": endpoint_id}).first()
    else:
        with _engine().connect() as own:
            row = own.execute(sql, {"id": endpoint_id}).first()
    return None if row is None else dict(row._mapping)


def list_endpoints() -> list[dict]:
    """Every endpoint with its delivery counts per status (no secrets)."""
    with _engine().connect() as connection:
        rows = connection.execute(text(f"""
            select {', '.join('e.' + c.strip() for c in PUBLIC_COLUMNS.split(','))},
                   count(d.delivery_id) filter (where d.status = 'pending') as pending,
                   count(d.delivery_id) filter (where d.status = 'delivered') as delivered,
                   count(d.delivery_id) filter (where d.status = 'failed') as failed
            from app.webhook_endpoints e
            left join app.webhook_deliveries d using (endpoint_id)
            group by e.endpoint_id
            order by e.endpoint_id"""))
        return [dict(row._mapping) for row in rows]
