"""`POST /slack/interactions`: Slack's button clicks (form-encoded `payload=<JSON>`), signed.

1. no DEVSIGNAL_SLACK_SIGNING_SECRET -> 503 (the endpoint is off; unsigned clicks are never accepted);
2. `X-Slack-Signature` must be `v0=` + HMAC-SHA256(secret, `v0:{X-Slack-Request-Timestamp}:{raw body}`)
   over the bytes as received, with the timestamp within 300 s of now -> else 401;
3. the click is stored (`app.slack_interactions`, unique per trigger_id/action_ts + action_id, so a
   replay or an `X-Slack-Retry-Num` redelivery stores nothing) and answered 200 at once; the work
   (`orchestration.activation.slack.interactions.process`) runs afterwards on a small thread pool
   of its own, so a slow downstream never delays an ack. A click the pool never finished (the
   process died) is picked up by `process_pending()`, here every minute and from Dagster.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Optional
from urllib.parse import parse_qs

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

log = logging.getLogger("apps.api.slack")

router = APIRouter(tags=["Slack"])

SIGNING_SECRET_SETTING = "DEVSIGNAL_SLACK_SIGNING_SECRET"
# Slack's own window (slack_sdk SignatureVerifier: |now - ts| > 60 * 5 is refused)
MAX_AGE_SECONDS = 300
# a block_actions payload carries the whole message; Slack's messages stay well under this
MAX_BODY_BYTES = 1024 * 1024
WORKERS = 4
SWEEP_EVERY_SECONDS = 60

_pool: Optional[ThreadPoolExecutor] = None
_pool_lock = threading.Lock()
_last_sweep = 0.0


def _workers() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="slack-interactions")
        return _pool


def _run(work, *args) -> None:
    try:
        work(*args)
    except Exception:  # noqa: BLE001 - the row stays pending; process_pending retries it
        log.exception("slack interaction work failed")


def _after_ack(interaction_id: Optional[int]) -> None:
    from orchestration.activation.slack import interactions

    global _last_sweep
    if interaction_id is not None:
        _workers().submit(_run, interactions.process, interaction_id)
    if time.monotonic() - _last_sweep > SWEEP_EVERY_SECONDS:
        _last_sweep = time.monotonic()
        _workers().submit(_run, interactions.process_pending)


def _refuse(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "code": code, "message": message}, status_code=status)


def verify(secret: str, body: bytes, timestamp: Optional[str], signature: Optional[str],
           now: Optional[float] = None) -> Optional[str]:
    """None if the request is Slack's; else why not (never says what the right signature is)."""
    from slack_sdk.signature import Clock, SignatureVerifier

    if not timestamp or not signature:
        return "missing X-Slack-Request-Timestamp or X-Slack-Signature"
    try:
        sent_at = int(timestamp)
    except ValueError:
        return "X-Slack-Request-Timestamp is not a number of seconds"
    current = time.time() if now is None else now
    if abs(current - sent_at) > MAX_AGE_SECONDS:
        return f"the request timestamp is more than {MAX_AGE_SECONDS} s from now (replayed or clock skew)"

    class _At(Clock):
        def now(self) -> float:
            return current

    if not SignatureVerifier(secret, clock=_At()).is_valid(body=body, timestamp=timestamp, signature=signature):
        return "X-Slack-Signature does not match the body"
    return None


@router.post("/slack/interactions", summary="Slack interactivity (buttons on DevSignal's alerts)")
async def slack_interactions(request: Request) -> Response:
    """Slack's Request URL for interactivity. Answers 200 (empty) once the click is stored; 401 for
    a bad or stale signature, 400 for a malformed payload, 503 when not configured or when the
    database is down (Slack then retries)."""
    from devsignal import settings
    from orchestration.activation.slack import interactions

    secret = settings.get(SIGNING_SECRET_SETTING)
    if not secret:
        return _refuse(503, "not_configured", f"Slack interactivity is off: set {SIGNING_SECRET_SETTING}")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return _refuse(413, "too_large", f"the body is over {MAX_BODY_BYTES} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return _refuse(413, "too_large", f"the body is over {MAX_BODY_BYTES} bytes")
    problem = verify(secret, body, request.headers.get("x-slack-request-timestamp"),
                     request.headers.get("x-slack-signature"))
    if problem:
        return _refuse(401, "unauthorized", problem)
    try:
        fields = parse_qs(body.decode("utf-8"), strict_parsing=False)
        payload = json.loads(fields["payload"][0])
        click = interactions.parse(payload)
    except (UnicodeDecodeError, KeyError, IndexError):
        return _refuse(400, "bad_request", "expected a form-encoded body with a payload field")
    except ValueError as error:  # json errors and BadInteraction
        return _refuse(400, "bad_request", f"bad payload: {error}")
    if click is None:
        return Response(status_code=200)  # not a button click (e.g. view_closed): nothing to do
    try:
        interaction_id = await anyio.to_thread.run_sync(interactions.store, payload, click)
    except Exception as error:  # noqa: BLE001 - unknown whether stored: 503 makes Slack retry, the dedup key absorbs it
        log.warning("slack interaction not stored: %s: %s", type(error).__name__, error)
        return _refuse(503, "database_unavailable", "the click was not stored; Slack will send it again")
    _after_ack(interaction_id)
    return Response(status_code=200)
