"""The intake API (FastAPI): Segment-compatible tracking endpoints, Segment's webhook destination,
custom signals with API keys, and health. See apps/api/README.md for the contract.

Every endpoint that accepts events follows the same path: authenticate (before reading the
body), read the body within its limit, parse, check each call, then store the whole request in
one transaction and only then answer 2xx. PostgreSQL down -> 503, so the sender retries.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import logging
import uuid
from contextlib import asynccontextmanager
from typing import Optional

import anyio
from fastapi import FastAPI, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

from . import config, intake, keys, openapi_docs, store
from .intake import IntakeError
from .slack import router as slack_router

log = logging.getLogger("apps.api")

# requests that may hold a database connection at once; the others wait here, in the event loop
_database_slots: Optional[anyio.CapacityLimiter] = None


def _slots() -> anyio.CapacityLimiter:
    global _database_slots
    if _database_slots is None:
        _database_slots = anyio.CapacityLimiter(config.POOL_SIZE)
    return _database_slots


async def in_database(work, *args):
    return await anyio.to_thread.run_sync(work, *args, limiter=_slots())


@asynccontextmanager
async def lifespan(_app: FastAPI):
    # migrate now if we can; if PostgreSQL is down the API still starts, answers 503, and
    # migrates on the first request that finds the database back
    try:
        await anyio.to_thread.run_sync(store.ensure_schema)
    except Exception as error:  # noqa: BLE001 - reported, retried later
        log.warning("database not ready at startup (%s: %s); intake answers 503 until it is",
                    type(error).__name__, error)
    yield
    store.dispose()


app = FastAPI(title="DevSignal intake API", version="0.2.0", lifespan=lifespan,
              description=openapi_docs.DESCRIPTION)
app.include_router(slack_router)


# -- responses ------------------------------------------------------------------------------------


def _error(request_id: str, status: int, code: str, message: str, headers: Optional[dict] = None,
           **details) -> JSONResponse:
    # {"code", "message"}: what the Segment and RudderStack clients read from an error
    body = {"success": False, "code": code, "message": message, "requestId": request_id, **details}
    return JSONResponse(body, status_code=status, headers={"X-Request-Id": request_id, **(headers or {})})


def _intake_error(request_id: str, error: IntakeError) -> JSONResponse:
    # a body we stopped reading: close the connection rather than drain the rest of it
    headers = {"Connection": "close"} if error.status == 413 else None
    return _error(request_id, error.status, error.code, error.message, headers, **error.details)


def _unavailable(request_id: str, error: Exception) -> JSONResponse:
    log.warning("request %s not stored, database unavailable: %s", request_id, error)
    return _error(request_id, 503, "database_unavailable",
                  "the event store is unavailable; nothing was stored, send the request again",
                  {"Retry-After": "2"})


def _stored(request_id: str, received: int, result: store.Stored, rejected: list[intake.Rejected]) -> JSONResponse:
    body = {"success": True, "requestId": request_id, "received": received, "stored": result.stored,
            "duplicates": result.duplicates, "rejected": [r.listed() for r in rejected]}
    return JSONResponse(body, headers={"X-Request-Id": request_id})


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# -- authentication -------------------------------------------------------------------------------


def _basic_user(request: Request) -> Optional[str]:
    """The user name of an HTTP Basic header (Segment's write key), or None."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0] or None


def _setting_key_id(write_key: str) -> Optional[str]:
    for configured in config.write_keys():
        if hmac.compare_digest(configured.encode(), write_key.encode()):
            return "writekey:" + hashlib.sha256(write_key.encode()).hexdigest()[:12]
    return None


async def _write_key_id(write_key: Optional[str]) -> str:
    """Which write key this is ("writekey:<hash>" or "key:<prefix>"); IntakeError 401 if none.
    Write keys come from DEVSIGNAL_SEGMENT_WRITE_KEYS, or are API keys with the write scope."""
    if not write_key:
        raise IntakeError(401, "unauthorized", "missing write key: send it as the HTTP Basic user name")
    key_id = _setting_key_id(write_key)
    if key_id:
        return key_id
    if keys.looks_like_key(write_key):
        api_key = await _verify_api_key(write_key, "write")
        return api_key.key_id
    raise IntakeError(401, "unauthorized", "unknown write key")


async def _verify_api_key(key: str, scope: str) -> keys.ApiKey:
    try:
        return await in_database(store.run, keys.verify_key, key, scope)
    except keys.InvalidKey as error:
        raise IntakeError(401, "unauthorized", str(error)) from None
    except keys.MissingScope as error:
        raise IntakeError(403, "forbidden", str(error)) from None


def _api_key_from(request: Request) -> Optional[str]:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key", "").strip() or None


async def _body(request: Request, limit: int) -> bytes:
    try:
        return await intake.read_body(request.stream(), limit=limit,
                                      content_length=request.headers.get("content-length"),
                                      content_encoding=request.headers.get("content-encoding"))
    except ClientDisconnect:  # the sender went away mid-body: nothing to store, nobody to answer
        raise IntakeError(400, "client_disconnected", "the connection closed before the body was complete") from None


# -- Segment HTTP Tracking API --------------------------------------------------------------------


async def _segment(request: Request, call_type: Optional[str]) -> JSONResponse:
    """One Segment call (`call_type` from the path) or a batch (`call_type` None)."""
    request_id = uuid.uuid4().hex
    received_at = _now()
    try:
        header_key = _basic_user(request)
        key_id = await _write_key_id(header_key) if header_key else None
        limit = config.MAX_EVENT_BYTES if call_type else config.MAX_BATCH_BYTES
        document = intake.parse_json(await _body(request, limit))
        if key_id is None:  # Segment also takes the write key in the body
            body_key = document.get("writeKey") if isinstance(document, dict) else None
            key_id = await _write_key_id(body_key if isinstance(body_key, str) else None)
        if call_type:
            calls, sent_at = [document], None
        else:
            calls, sent_at = intake.batch_calls(document)
        accepted, rejected = intake.prepare_calls(calls, call_type=call_type, batch_sent_at=sent_at,
                                                  received_at=received_at)
        result = await in_database(store.store_calls, "segment_api", key_id, request_id, accepted, rejected)
    except IntakeError as error:
        return _intake_error(request_id, error)
    except store.DatabaseUnavailable as error:
        return _unavailable(request_id, error)
    return _stored(request_id, len(calls), result, rejected)


@app.post("/v1/batch", tags=["Segment HTTP Tracking API"], summary="Send a batch of calls",
          openapi_extra=openapi_docs.segment(batch=True), responses=openapi_docs.RESPONSES)
async def segment_batch(request: Request) -> JSONResponse:
    """Up to 2,500 calls of any type (≤ 500 KB, ≤ 32 KB per call); what the official Segment and
    RudderStack libraries send."""
    return await _segment(request, None)


@app.post("/v1/import", tags=["Segment HTTP Tracking API"], summary="Same as /v1/batch (Segment's older name)",
          openapi_extra=openapi_docs.segment(batch=True), responses=openapi_docs.RESPONSES)
async def segment_import(request: Request) -> JSONResponse:
    return await _segment(request, None)


def _single(call_type: str):
    async def endpoint(request: Request) -> JSONResponse:
        return await _segment(request, call_type)

    endpoint.__name__ = f"segment_{call_type}"
    endpoint.__doc__ = f"One `{call_type}` call (≤ 32 KB)."
    return endpoint


for _call_type in intake.CALL_TYPES:
    app.post(f"/v1/{_call_type}", tags=["Segment HTTP Tracking API"], summary=f"Send one {_call_type} call",
             openapi_extra=openapi_docs.segment(batch=False), responses=openapi_docs.RESPONSES)(_single(_call_type))


# -- Segment webhook destination ------------------------------------------------------------------


@app.post("/v1/webhooks/segment", tags=["Segment webhook destination"], summary="Receive Segment's webhook",
          openapi_extra=openapi_docs.webhook(), responses=openapi_docs.RESPONSES)
async def segment_webhook(request: Request) -> JSONResponse:
    """A call (or `{"batch": [...]}`) from Segment's Webhook destination, signed with
    `X-Signature` = hex HMAC-SHA1 of the raw body with the shared secret. The signature has no
    timestamp, so replay safety comes from messageId: a replay is stored once."""
    request_id = uuid.uuid4().hex
    received_at = _now()
    secret = config.webhook_secret()
    if not secret:
        return _error(request_id, 503, "not_configured",
                      f"the webhook is not configured: set {config.WEBHOOK_SECRET_SETTING}")
    signature = request.headers.get("x-signature", "").strip().lower()
    if not signature:
        return _error(request_id, 401, "unauthorized", "missing X-Signature header")
    try:
        body = await _body(request, config.MAX_BATCH_BYTES)
        # the raw bytes as received: re-serialised JSON would not reproduce them
        expected = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return _error(request_id, 401, "unauthorized", "X-Signature does not match the body")
        document = intake.parse_json(body)
        if isinstance(document, dict) and isinstance(document.get("batch"), list):
            calls, sent_at = intake.batch_calls(document)
        else:
            calls, sent_at = [document], None
        accepted, rejected = intake.prepare_calls(calls, call_type=None, batch_sent_at=sent_at,
                                                  received_at=received_at, trust_received_at=True)
        result = await in_database(store.store_calls, "segment_webhook", "webhook", request_id, accepted, rejected)
    except IntakeError as error:
        return _intake_error(request_id, error)
    except store.DatabaseUnavailable as error:
        return _unavailable(request_id, error)
    return _stored(request_id, len(calls), result, rejected)


# -- custom signals -------------------------------------------------------------------------------


@app.post("/v1/signals", tags=["Custom signals"], summary="Send custom signals (API key, write scope)",
          openapi_extra=openapi_docs.signals(), responses=openapi_docs.RESPONSES)
async def post_signals(request: Request) -> JSONResponse:
    """One signal, an array, or `{"signals": [...]}` (≤ 2,500, ≤ 500 KB). Each is stored as a
    Segment `track` call, so it reaches `raw_segment.tracks` like any product event."""
    request_id = uuid.uuid4().hex
    received_at = _now()
    try:
        key = _api_key_from(request)
        if not key:
            raise IntakeError(401, "unauthorized", "missing API key: send Authorization: Bearer ds_live_…")
        api_key = await _verify_api_key(key, "write")
        document = intake.parse_json(await _body(request, config.MAX_BATCH_BYTES))
        signals = intake.signal_calls(document)
        calls = [intake.signal_to_call(signal, received_at) for signal in signals]
        accepted, rejected = intake.prepare_calls(calls, call_type=None, batch_sent_at=None,
                                                  received_at=received_at)
        result = await in_database(store.store_calls, "signals", api_key.key_id, request_id, accepted, rejected)
    except IntakeError as error:
        return _intake_error(request_id, error)
    except store.DatabaseUnavailable as error:
        return _unavailable(request_id, error)
    return _stored(request_id, len(calls), result, rejected)


@app.get("/v1/signals", tags=["Custom signals"], summary="Read received custom signals (API key, read scope)",
         openapi_extra={"security": [{"ApiKey": []}, {"BearerKey": []}]})
async def get_signals(request: Request, limit: int = Query(100, ge=1, le=1000),
                      after_id: int = Query(0, ge=0, description="return signals with an id above this")) -> JSONResponse:
    """Custom signals in the order they arrived; page with `after_id` = the last `id` seen."""
    request_id = uuid.uuid4().hex
    try:
        key = _api_key_from(request)
        if not key:
            raise IntakeError(401, "unauthorized", "missing API key: send Authorization: Bearer ds_live_…")
        await _verify_api_key(key, "read")
        signals = await in_database(store.recent_signals, limit, after_id)
    except IntakeError as error:
        return _intake_error(request_id, error)
    except store.DatabaseUnavailable as error:
        return _unavailable(request_id, error)
    return JSONResponse({"signals": signals, "next_after_id": signals[-1]["id"] if signals else after_id})


# -- health ---------------------------------------------------------------------------------------


@app.get("/health", tags=["Health"])
def health() -> JSONResponse:
    """200 when the database answers, 503 (with the reason) when it does not."""
    import sqlalchemy as sa

    try:
        with store.engine().connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:  # report, don't crash: this is what a load balancer polls
        return JSONResponse({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def _openapi() -> dict:
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema.setdefault("components", {})["securitySchemes"] = openapi_docs.SECURITY_SCHEMES
        app.openapi_schema = schema
    return app.openapi_schema


app.openapi = _openapi
