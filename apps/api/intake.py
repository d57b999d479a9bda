"""What the intake does to a request before it touches the database: read the body within its
limit, parse it, and turn each call into an inbox row or a reject with a reason.

Nothing here knows about HTTP frameworks or PostgreSQL, so it is tested and reused on its own.

Request-level problems (too big, not JSON, too deep, too many calls) raise `IntakeError`: the
request gets a 4xx and nothing is written. Call-level problems (no timestamp, no user id, an
oversize call inside a batch, ...) become `Rejected` items: they are kept in the quarantine with
the reason and listed in the response, and the rest of the batch is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zlib
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Optional

import orjson

from .config import MAX_BATCH_EVENTS, MAX_EVENT_BYTES, MAX_JSON_DEPTH, MAX_MESSAGE_ID_CHARS

CALL_TYPES = ("identify", "track", "page", "screen", "group", "alias")
# fields about one delivery, not about the event: left out of a derived messageId, so a re-send
# of the same call gets the same id
TRANSPORT_FIELDS = ("messageId", "sentAt", "receivedAt", "writeKey")

_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


@dataclass
class IntakeError(Exception):
    """A whole request refused: `status` with a readable `message` (and what was read)."""

    status: int
    code: str
    message: str
    details: dict = field(default_factory=dict)

    def body(self, request_id: str) -> dict:
        return {"success": False, "code": self.code, "message": self.message, "requestId": request_id,
                **self.details}


# -- the body -------------------------------------------------------------------------------------


async def read_body(chunks: AsyncIterator[bytes], *, limit: int, content_length: Optional[str],
                    content_encoding: Optional[str]) -> bytes:
    """The request body, never reading (or inflating) more than `limit` + one chunk.

    A declared Content-Length over the limit is refused before a byte is read; a chunked body
    is counted as it streams; a gzip body is inflated with a bound on its output, so a small
    bomb cannot expand past the limit either.
    """
    encoding = (content_encoding or "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip"):
        raise IntakeError(415, "unsupported_encoding",
                          f"Content-Encoding {encoding!r} is not supported; send gzip or nothing")
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            raise IntakeError(400, "bad_content_length", f"Content-Length {content_length!r} is not a number") from None
        if declared > limit:
            raise IntakeError(413, "payload_too_large",
                              f"the body is {declared:,} bytes (Content-Length); the limit here is {limit:,}",
                              {"limit": limit, "bytesRead": 0})
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding != "identity" else None
    body = bytearray()
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise IntakeError(413, "payload_too_large",
                              f"the body is over the limit of {limit:,} bytes; stopped reading after {received:,}",
                              {"limit": limit, "bytesRead": received})
        if inflater is None:
            body += chunk
            continue
        try:
            body += inflater.decompress(chunk, limit + 1 - len(body))
        except zlib.error as error:
            raise IntakeError(400, "invalid_gzip", f"the gzip body cannot be inflated: {error}") from None
        if len(body) > limit or inflater.unconsumed_tail:
            raise IntakeError(413, "payload_too_large",
                              f"the gzip body inflates to more than {limit:,} bytes; stopped after "
                              f"{received:,} compressed bytes",
                              {"limit": limit, "bytesRead": received, "bytesInflated": len(body)})
    if inflater is not None and not inflater.eof:
        raise IntakeError(400, "invalid_gzip", "the gzip body is truncated")
    if inflater is not None and inflater.unused_data:
        raise IntakeError(400, "invalid_gzip", "there is data after the end of the gzip stream")
    return bytes(body)


def parse_json(body: bytes) -> Any:
    if not body.strip():
        raise IntakeError(400, "empty_body", "the body is empty; send a JSON object")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        if "depth" in str(error) or "recursion" in str(error).lower():
            raise IntakeError(400, "too_deep", f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
        raise IntakeError(400, "invalid_json", f"the body is not valid JSON: {error}") from None
    if nesting_exceeds(value, MAX_JSON_DEPTH):
        raise IntakeError(400, "too_deep", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def nesting_exceeds(value: Any, limit: int) -> bool:
    """True when objects/arrays nest deeper than `limit` (iterative: no recursion to overflow)."""
    if not isinstance(value, (dict, list)):
        return False
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return False


def batch_calls(document: Any, key: str = "batch") -> tuple[list, Any]:
    """(calls, batch-level sentAt) of a `{"batch": [...], "sentAt": ...}` document."""
    if not isinstance(document, dict):
        raise IntakeError(400, "invalid_batch", f'expected a JSON object {{"{key}": [...]}}')
    calls = document.get(key)
    if not isinstance(calls, list):
        raise IntakeError(400, "invalid_batch", f'"{key}" must be an array of calls')
    check_count(len(calls))
    # Segment lets a batch carry `context` and `integrations` that apply to every call in it
    shared = {name: document[name] for name in ("context", "integrations") if isinstance(document.get(name), dict)}
    if shared:
        calls = [{**shared, **call} if isinstance(call, dict) else call for call in calls]
    return calls, document.get("sentAt")


def check_count(count: int) -> None:
    if count > MAX_BATCH_EVENTS:
        raise IntakeError(400, "too_many_events", f"the batch has {count:,} calls; at most {MAX_BATCH_EVENTS:,}")


# -- one call -------------------------------------------------------------------------------------


@dataclass
class Accepted:
    message_id: str
    type: str
    payload: str  # JSON text of the call as received (minus writeKey)
    received_at: dt.datetime
    sent_at: Optional[dt.datetime]
    original_timestamp: dt.datetime
    timestamp: dt.datetime  # corrected for the sender's clock skew


@dataclass
class Rejected:
    position: int
    message_id: Optional[str]
    reason: str
    payload: str

    def listed(self) -> dict:
        return {"index": self.position, "messageId": self.message_id, "reason": self.reason}


class _Reject(Exception):
    pass


def derived_message_id(call: dict) -> str:
    """A stable id for a call sent without one: the hash of its canonical JSON, delivery fields
    left out, so sending the same call again yields the same id (and is stored once)."""
    content = {k: v for k, v in call.items() if k not in TRANSPORT_FIELDS}
    return "ds-" + hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def parse_time(value: Any, name: str) -> dt.datetime:
    """An ISO-8601 string -> an aware UTC datetime (no offset = UTC); _Reject with the reason."""
    if not isinstance(value, str) or not value.strip():
        raise _Reject(f"{name} is not an ISO-8601 string: {_short(value)}")
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise _Reject(f"{name} is not an ISO-8601 timestamp: {_short(value)}") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _present(value: Any) -> bool:
    return value is not None and value != "" and not isinstance(value, bool)


def prepare_call(call: Any, *, position: int, call_type: Optional[str], batch_sent_at: Any,
                 received_at: dt.datetime, trust_received_at: bool = False) -> Accepted | Rejected:
    """Check one call and work out its id and timestamps.

    Timestamps follow Segment: `originalTimestamp` (else `timestamp`) is the event time on the
    sender's clock, `sentAt` (the call's, else the batch's) the sender's clock at send time, and
    `timestamp = receivedAt - (sentAt - originalTimestamp)` corrects the skew between the two
    clocks. Without `sentAt` nothing can be corrected and the timestamp is kept as sent.
    `trust_received_at`: the call came through Segment (its webhook), whose `receivedAt` is the
    moment Segment received it, so the correction uses that instead of our (later) clock.
    """
    if not isinstance(call, dict):
        return Rejected(position, None, f"a call must be a JSON object, not {type(call).__name__}",
                        orjson.dumps(call).decode())
    call = {k: v for k, v in call.items() if k != "writeKey"}  # a credential; not stored
    if call_type is not None:
        call["type"] = call_type  # /v1/track and friends: the path says what it is
    payload = orjson.dumps(call)
    message_id = call.get("messageId")
    if isinstance(message_id, (int, float)) and not isinstance(message_id, bool):
        message_id = str(message_id)
    shown_id = message_id if isinstance(message_id, str) else None
    try:
        kind = call.get("type")
        kind = kind.strip().lower() if isinstance(kind, str) else kind
        if kind not in CALL_TYPES:
            raise _Reject(f"type must be one of {', '.join(CALL_TYPES)}; got {_short(call.get('type'))}")
        if len(payload) > MAX_EVENT_BYTES:
            raise _Reject(f"the call is {len(payload):,} bytes; at most {MAX_EVENT_BYTES:,} per call")
        if b"\\u0000" in payload and _NUL.search(payload):
            raise _Reject("the call contains a NUL character (\\u0000), which PostgreSQL cannot store")
        _check_fields(call, kind)
        if message_id is None or message_id == "":
            message_id = derived_message_id(call)
        elif not isinstance(message_id, str):
            raise _Reject(f"messageId must be a string; got {_short(message_id)}")
        elif len(message_id) > MAX_MESSAGE_ID_CHARS:
            raise _Reject(f"messageId is longer than {MAX_MESSAGE_ID_CHARS} characters")
        original_value = call.get("originalTimestamp") or call.get("timestamp")
        if original_value is None:
            raise _Reject("missing timestamp (send timestamp or originalTimestamp)")
        original = parse_time(original_value, "timestamp")
        sent_value = call.get("sentAt") or batch_sent_at
        sent_at = parse_time(sent_value, "sentAt") if sent_value is not None else None
        if trust_received_at and call.get("receivedAt"):
            received_at = parse_time(call["receivedAt"], "receivedAt")
        try:
            corrected = received_at - (sent_at - original) if sent_at is not None else original
        except OverflowError:
            raise _Reject("timestamp and sentAt are too far apart to correct the clock skew") from None
    except _Reject as reject:
        return Rejected(position, shown_id, str(reject), payload.decode())
    return Accepted(message_id, kind, payload.decode(), received_at, sent_at, original, corrected)


def _check_fields(call: dict, kind: str) -> None:
    """The fields Segment requires for each call type."""
    if kind == "alias":
        if not _present(call.get("userId")) or not _present(call.get("previousId")):
            raise _Reject("alias needs userId and previousId")
        return
    if not _present(call.get("userId")) and not _present(call.get("anonymousId")):
        raise _Reject("missing userId and anonymousId (one is required)")
    if kind == "track" and (not isinstance(call.get("event"), str) or not call["event"].strip()):
        raise _Reject("track needs an event name (event)")
    if kind == "group" and not _present(call.get("groupId")):
        raise _Reject("group needs a groupId")


def prepare_calls(calls: list, **kwargs) -> tuple[list[Accepted], list[Rejected]]:
    accepted: list[Accepted] = []
    rejected: list[Rejected] = []
    for position, call in enumerate(calls):
        prepared = prepare_call(call, position=position, **kwargs)
        (accepted if isinstance(prepared, Accepted) else rejected).append(prepared)
    return accepted, rejected


# -- custom signals -------------------------------------------------------------------------------


def signal_to_call(signal: Any, received_at: dt.datetime) -> Any:
    """A custom signal (`POST /v1/signals`) as the Segment `track` call it is stored as.

    Fields: `event` (or `type`, the original API's name), `userId` (or `actorId`), `anonymousId`,
    `accountId` (kept as `context.groupId`, Segment's way to tie a track to an account),
    `properties` (or `metadata`), `timestamp` (default: when it was received), `messageId` (or
    `idempotencyKey`), `context`. Anything that is not an object is returned as is (and rejected).
    """
    if not isinstance(signal, dict):
        return signal
    context = dict(signal["context"]) if isinstance(signal.get("context"), dict) else {}
    if _present(signal.get("accountId")):
        context["groupId"] = signal["accountId"]
    context.setdefault("library", {"name": "devsignal-signals", "version": "1"})
    call = {"type": "track", "event": signal.get("event") or signal.get("type"),
            "userId": signal.get("userId") or signal.get("actorId"), "anonymousId": signal.get("anonymousId"),
            "properties": signal.get("properties") or signal.get("metadata") or {}, "context": context}
    call = {k: v for k, v in call.items() if v is not None}
    message_id = signal.get("messageId") or signal.get("idempotencyKey")
    # without a timestamp the event time is "now": derive the id before filling it in, so a
    # re-send (a later "now") still gets the same id
    call["messageId"] = message_id if message_id not in (None, "") else derived_message_id(call)
    call["timestamp"] = signal.get("timestamp") or received_at.isoformat()
    return call


def signal_calls(document: Any) -> list:
    """The signals of a request: one object, an array, or {"signals": [...]}."""
    if isinstance(document, list):
        signals = document
    elif isinstance(document, dict) and isinstance(document.get("signals"), list):
        signals = document["signals"]
    elif isinstance(document, dict):
        signals = [document]
    else:
        raise IntakeError(400, "invalid_body", 'expected a signal object, an array of them, or {"signals": [...]}')
    check_count(len(signals))
    return signals
