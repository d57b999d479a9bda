"""What /docs shows for the endpoints that read their body themselves (to enforce the limits
while streaming, FastAPI does not parse those bodies, so their shape is described here)."""

from __future__ import annotations

DESCRIPTION = """
The DevSignal intake edge. Events are committed to the `intake.inbox` table **before** the 2xx;
the Segment source moves them into `raw_segment.*`.

* **Segment HTTP Tracking API** (`/v1/batch`, `/v1/track`, …): point any Segment or RudderStack
  library's `host` here; the write key is the HTTP Basic user name.
* **Segment webhook destination** (`/v1/webhooks/segment`): `X-Signature` = hex HMAC-SHA1 of the body.
* **Custom signals** (`/v1/signals`): an API key (`devsignal keys create`) as `Authorization: Bearer`.

Limits (Segment's): 32 KB per call, 500 KB and 2,500 calls per request, JSON nested at most 64
deep; `Content-Encoding: gzip` accepted (the inflated body is held to the same limit).
A duplicate `messageId` is accepted and stored once; a call without one gets a stable id derived
from its content. Calls that cannot be kept (no timestamp, no user id, …) are quarantined with the
reason and listed under `rejected`. 503 means nothing was stored: send again.
"""

SECURITY_SCHEMES = {
    "WriteKey": {"type": "http", "scheme": "basic",
                 "description": "Segment write key as the user name, empty password"},
    "BearerKey": {"type": "http", "scheme": "bearer", "description": "DevSignal API key ds_live_…"},
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "DevSignal API key ds_live_…"},
    "SegmentSignature": {"type": "apiKey", "in": "header", "name": "X-Signature",
                         "description": "hex HMAC-SHA1 of the raw body with DEVSIGNAL_SEGMENT_WEBHOOK_SECRET"},
}

_CALL = {
    "type": "object",
    "required": ["timestamp"],
    "properties": {
        "type": {"type": "string", "enum": ["identify", "track", "page", "screen", "group", "alias"]},
        "messageId": {"type": "string", "description": "dedup key; derived from the content when absent"},
        "userId": {"type": "string"},
        "anonymousId": {"type": "string"},
        "event": {"type": "string", "description": "track: the event name (required)"},
        "groupId": {"type": "string", "description": "group: required"},
        "previousId": {"type": "string", "description": "alias: required"},
        "name": {"type": "string"},
        "traits": {"type": "object"},
        "properties": {"type": "object"},
        "context": {"type": "object"},
        "timestamp": {"type": "string", "format": "date-time", "description": "event time on the sender's clock"},
        "originalTimestamp": {"type": "string", "format": "date-time"},
        "sentAt": {"type": "string", "format": "date-time", "description": "sender's clock at send time"},
    },
}

_EXAMPLE_CALL = {"type": "track", "messageId": "0b4c7f4e-7a4f-4a0e-9a53-2f3d5c3f7a10", "userId": "usr_42",
                 "event": "API Call", "properties": {"endpoint": "/v1/pipelines"},
                 "timestamp": "2026-11-23T10:00:00.000Z"}

_RESULT = {
    "type": "object",
    "properties": {
        "success": {"type": "boolean"},
        "requestId": {"type": "string"},
        "received": {"type": "integer", "description": "calls in the request"},
        "stored": {"type": "integer", "description": "new rows in the inbox"},
        "duplicates": {"type": "integer", "description": "calls whose messageId was already stored"},
        "rejected": {"type": "array", "description": "calls quarantined, with the reason",
                     "items": {"type": "object", "properties": {
                         "index": {"type": "integer"}, "messageId": {"type": "string"}, "reason": {"type": "string"}}}},
    },
}

_ERROR = {"type": "object", "properties": {"success": {"type": "boolean"}, "code": {"type": "string"},
                                            "message": {"type": "string"}, "requestId": {"type": "string"}}}

RESPONSES = {
    200: {"description": "stored (see `rejected` for calls that were quarantined)",
          "content": {"application/json": {"schema": _RESULT}}},
    400: {"description": "malformed body, too many calls, nested too deep",
          "content": {"application/json": {"schema": _ERROR}}},
    401: {"description": "missing or wrong write key / API key / signature"},
    403: {"description": "API key without the needed scope"},
    413: {"description": "body (or inflated gzip body) over the limit; refused before reading further"},
    415: {"description": "Content-Encoding other than gzip"},
    503: {"description": "the database is unavailable: nothing stored, retry"},
}


def _body(schema: dict, example: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema, "example": example}}}


def segment(batch: bool) -> dict:
    if batch:
        schema = {"type": "object", "required": ["batch"],
                  "properties": {"batch": {"type": "array", "maxItems": 2500, "items": _CALL},
                                 "sentAt": {"type": "string", "format": "date-time"},
                                 "context": {"type": "object"}, "integrations": {"type": "object"}}}
        example = {"batch": [_EXAMPLE_CALL], "sentAt": "2026-11-23T10:00:01.000Z"}
    else:
        schema, example = _CALL, {k: v for k, v in _EXAMPLE_CALL.items() if k != "type"}
    return {"requestBody": _body(schema, example), "security": [{"WriteKey": []}]}


def webhook() -> dict:
    example = {**_EXAMPLE_CALL, "originalTimestamp": "2026-11-23T10:00:00.000Z",
               "sentAt": "2026-11-23T10:00:01.000Z", "receivedAt": "2026-11-23T10:00:01.200Z"}
    return {"requestBody": _body(_CALL, example), "security": [{"SegmentSignature": []}]}


def signals() -> dict:
    signal = {"type": "object", "required": ["event"],
              "properties": {"event": {"type": "string", "description": "the signal's name (alias: type)"},
                             "userId": {"type": "string", "description": "alias: actorId"},
                             "anonymousId": {"type": "string"},
                             "accountId": {"type": "string", "description": "stored as context.groupId"},
                             "properties": {"type": "object", "description": "alias: metadata"},
                             "timestamp": {"type": "string", "format": "date-time",
                                           "description": "default: when received"},
                             "messageId": {"type": "string", "description": "alias: idempotencyKey"}}}
    schema = {"oneOf": [signal, {"type": "array", "items": signal},
                        {"type": "object", "properties": {"signals": {"type": "array", "items": signal}}}]}
    example = {"event": "Deployed", "userId": "usr_42", "accountId": "acme.io",
               "properties": {"environment": "production"}, "timestamp": "2026-11-23T10:00:00Z"}
    return {"requestBody": _body(schema, example), "security": [{"BearerKey": []}, {"ApiKey": []}]}
