"""The one outbox: every side effect of activation is a row in `app.outbox`, sent by `drain()`.

Deciding and doing are split. A decision (a sensor's query, a workflow's `plan()`) only inserts
rows, each with an idempotency key per (event, action), `ON CONFLICT DO NOTHING`: a tick or run
that repeats after a crash adds nothing. `drain()` sends them:

1. claim due rows `for update skip locked`, mark them `sending` (attempts + 1, a lease) and commit,
   so two drains never send the same row at once;
2. call the kind's handler outside any transaction, with the row's idempotency key;
3. record `done` (with the handler's result) or, on error, back off and retry; `failed` after
   MAX_ATTEMPTS, or at once for `PermanentError`.

A row left `sending` by a crash (kill -9 between 1 and 3) is due again when its lease ends and is
retried: handlers dedupe on the key (Slack/webhooks remember what they sent under it), so the
effect still happens once.

    with db.engine().begin() as connection:
        outbox.enqueue(connection, "slack", "hot_account:tier_change:42",
                       {"type": "hot_account", "account_id": "acme.com"}, source_event="tier_change:42")
    outbox.drain()
"""

from __future__ import annotations

import importlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import text

log = logging.getLogger(__name__)

KINDS = ("slack", "webhook", "workflow_action")
MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(seconds=15)   # 15 s, 30 s, 1 min, 2 min, 4 min between attempts
BACKOFF_CAP = timedelta(minutes=30)
# how long a claimed row is someone's: after this, a row still `sending` is retried
SEND_LEASE = timedelta(seconds=60)

Handler = Callable[[dict, str], Any]
HANDLERS: dict[str, Handler] = {}


class PermanentError(Exception):
    """A handler's way to say retrying cannot help (bad payload, unknown channel): fail now."""


def register(kind: str, handler: Handler) -> Handler:
    """Set the handler of `kind`: `handler(payload, idempotency_key) -> result (JSON-able) or None`."""
    _check_kind(kind)
    HANDLERS[kind] = handler
    return handler


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}; expected one of {', '.join(KINDS)}")


# ----------------------------------------------------------------------------- default handlers
# Each sibling package owns its delivery; imported when first needed so this module loads without them.

def _slack(payload: dict, idempotency_key: str):
    return importlib.import_module("orchestration.activation.slack").deliver(payload, idempotency_key)


def _webhook(payload: dict, idempotency_key: str):
    webhooks = importlib.import_module("orchestration.activation.webhooks")
    return webhooks.enqueue(payload["event_type"], payload["payload"], idempotency_key)


def _workflow_action(payload: dict, idempotency_key: str):
    workflows = importlib.import_module("orchestration.activation.workflows")
    return workflows.execute_action(payload, idempotency_key)


DEFAULT_HANDLERS: dict[str, Handler] = {"slack": _slack, "webhook": _webhook, "workflow_action": _workflow_action}


def handler_for(kind: str) -> Handler:
    return HANDLERS.get(kind) or DEFAULT_HANDLERS[kind]


# ----------------------------------------------------------------------------- writing rows

def enqueue(connection, kind: str, idempotency_key: str, payload: dict, source_event: str | None = None) -> bool:
    """Add one side effect in the caller's transaction (a SQLAlchemy connection); True if it is new."""
    return _insert(connection, kind, idempotency_key, payload, source_event, "pending", None)


def skip(connection, kind: str, idempotency_key: str, payload: dict, reason: str,
         source_event: str | None = None) -> bool:
    """Record a side effect that was decided but must not happen (e.g. its source is stale), and why.

    The row is kept under the same key, so the effect cannot fire later for this event either."""
    if not reason:
        raise ValueError("a skipped outbox row needs its reason")
    return _insert(connection, kind, idempotency_key, payload, source_event, "skipped", reason)


def _insert(connection, kind, idempotency_key, payload, source_event, status, reason) -> bool:
    _check_kind(kind)
    if not idempotency_key or not isinstance(idempotency_key, str):
        raise ValueError("an outbox row needs a non-empty idempotency key (one per event and action)")
    if not isinstance(payload, dict):
        raise TypeError(f"outbox payload must be a dict, got {type(payload).__name__}")
    row = connection.execute(
        text("""insert into app.outbox (idempotency_key, kind, payload, source_event, status, last_error, done_at)
                values (:key, :kind, cast(:payload as jsonb), :source_event, :status, :reason,
                        case when :status = 'skipped' then now() end)
                on conflict (idempotency_key) do nothing
                returning outbox_id"""),
        {"key": idempotency_key, "kind": kind, "payload": json.dumps(payload, default=str),
         "source_event": source_event, "status": status, "reason": reason}).first()
    return row is not None


# ----------------------------------------------------------------------------- sending rows

def _engine():
    from devsignal import db

    return db.engine()


def backoff(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1` (attempts >= 1)."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def claim(limit: int = 100, now: datetime | None = None, kinds: tuple[str, ...] = KINDS) -> list[dict]:
    """Mark up to `limit` due rows `sending` and commit (step 1 of `drain`); returns them."""
    with _engine().begin() as connection:
        rows = connection.execute(
            text("""with due as (
                        select outbox_id from app.outbox
                        where status in ('pending', 'sending')
                          and next_attempt_at <= coalesce(cast(:now as timestamptz), now())
                          and kind = any(:kinds)
                        order by next_attempt_at, outbox_id
                        limit :limit
                        for update skip locked)
                    update app.outbox o
                    set status = 'sending', attempts = o.attempts + 1,
                        claimed_at = coalesce(cast(:now as timestamptz), now()),
                        next_attempt_at = coalesce(cast(:now as timestamptz), now()) + cast(:lease as interval)
                    from due where o.outbox_id = due.outbox_id
                    returning o.outbox_id, o.idempotency_key, o.kind, o.payload, o.attempts, o.source_event"""),
            {"now": now, "kinds": list(kinds), "limit": limit, "lease": f"{SEND_LEASE.total_seconds()} seconds"})
        return [dict(row._mapping) for row in rows]


def drain(limit: int = 100, now: datetime | None = None, kinds: tuple[str, ...] = KINDS) -> dict:
    """Send every due row (up to `limit`); returns counts and the errors met."""
    summary = {"claimed": 0, "done": 0, "retrying": 0, "failed": 0, "errors": []}
    for row in claim(limit, now, kinds):
        summary["claimed"] += 1
        try:
            result = handler_for(row["kind"])(row["payload"], row["idempotency_key"])
        except Exception as error:  # noqa: BLE001 - any handler error is recorded on its row
            final = isinstance(error, PermanentError) or row["attempts"] >= MAX_ATTEMPTS
            _record_failure(row, error, final, now)
            summary["failed" if final else "retrying"] += 1
            summary["errors"].append({"outbox_id": row["outbox_id"], "kind": row["kind"],
                                      "error": f"{type(error).__name__}: {error}"[:500]})
            log.warning("outbox %s (%s) attempt %s failed: %s", row["outbox_id"], row["kind"], row["attempts"],
                        type(error).__name__)
            continue
        _record_done(row, result, now)
        summary["done"] += 1
    return summary


def _record_done(row: dict, result: Any, now: datetime | None) -> None:
    with _engine().begin() as connection:
        connection.execute(
            text("""update app.outbox set status = 'done', result = cast(:result as jsonb), last_error = null,
                        done_at = coalesce(cast(:now as timestamptz), now())
                    where outbox_id = :id and status = 'sending'"""),
            {"id": row["outbox_id"], "result": json.dumps(result, default=str), "now": now})


def _record_failure(row: dict, error: Exception, final: bool, now: datetime | None) -> None:
    message = f"{type(error).__name__}: {error}"[:2000]
    with _engine().begin() as connection:
        connection.execute(
            text("""update app.outbox
                    set status = case when :final then 'failed' else 'pending' end,
                        last_error = :error,
                        next_attempt_at = coalesce(cast(:now as timestamptz), now()) + cast(:wait as interval),
                        done_at = case when :final then coalesce(cast(:now as timestamptz), now()) end
                    where outbox_id = :id and status = 'sending'"""),
            {"id": row["outbox_id"], "final": final, "error": message, "now": now,
             "wait": f"{backoff(row['attempts']).total_seconds()} seconds"})


def counts(connection=None) -> dict[str, int]:
    """Rows per status (for logs, the bench and tests)."""
    sql = text("select status, count(*) from app.outbox group by status")
    if connection is not None:
        return {status: n for status, n in connection.execute(sql)}
    with _engine().connect() as own:
        return {status: n for status, n in own.execute(sql)}
