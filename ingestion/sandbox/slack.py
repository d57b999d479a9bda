"""A fake Slack Web API on loopback, for tests and the offline demo: the real slack-sdk talks to it
unchanged (`WebClient(base_url=fake.api_url)`), and it records every message.

Methods served, in Slack's shapes (docs.slack.dev/reference/methods/...): `auth.test`,
`conversations.list`, `chat.postMessage` (with `metadata`), `conversations.history` (newest first,
`oldest`/`latest` exclusive, `limit`/`cursor` paging, `metadata` only with
`include_all_metadata`), `chat.update`; plus `POST /response/<id>`, a `response_url` of an
interaction. Errors are Slack's: HTTP 200 with `{"ok": false, "error": "channel_not_found"}` (or
`not_authed`, `invalid_auth`, `no_text`, `message_not_found`, `invalid_blocks` for blocks past the
Block Kit reference's limits), and 429 `ratelimited` with `Retry-After`.

    with serve_fake_slack(channels=["devsignal-alerts"]) as fake:
        WebClient(token="xoxb-test", base_url=fake.api_url).chat_postMessage(channel="#devsignal-alerts", text="hi")
        fake.messages("devsignal-alerts")               # what was posted, oldest first
        fake.add_fault("chat.postMessage", status=429, retry_after=1, times=2)   # the next 2 posts
        fake.add_fault("chat.postMessage", status=429, retry_after=1, every=50)  # every 50th post
        fake.add_fault("response", stall=10)            # a response_url that takes 10 s
        fake.add_fault("chat.postMessage", stall=30)    # message recorded, then no answer for 30 s
"""

from __future__ import annotations

import hashlib
import itertools
import json
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import parse_qs, urlparse

TEAM_ID = "T0DEVSIG"
BOT_USER_ID = "U0DEVBOT"
BOT_ID = "B0DEVBOT"
MAX_HISTORY_LIMIT = 999


def channel_id_for(name: str) -> str:
    """A stable Slack-style channel id (C + 10 upper-case alphanumerics) for a channel name."""
    return "C" + hashlib.sha1(name.encode()).hexdigest()[:10].upper()


class FakeSlack:
    """The server's state: channels, messages, response_url posts, a call log and faults."""

    def __init__(self, channels: list[str], tokens: list[str] | None):
        self._lock = threading.Lock()
        self._tokens = tokens
        self._channels: dict[str, dict] = {}
        self._messages: dict[str, list[dict]] = {}
        self._responses: list[dict] = []
        self._calls: list[dict] = []
        self._faults: list[dict] = []
        self._ts = itertools.count(1)
        self._release = threading.Event()
        self.url = ""
        for name in channels:
            self.add_channel(name)

    # -- set-up and inspection (the test side) -------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str = "r") -> str:
        return f"{self.url}/response/{name}"

    def add_channel(self, name: str) -> str:
        name = name.lstrip("#")
        with self._lock:
            cid = channel_id_for(name)
            self._channels.setdefault(cid, {"id": cid, "name": name, "is_channel": True, "is_private": False,
                                            "is_archived": False, "is_member": True, "created": int(time.time())})
            self._messages.setdefault(cid, [])
            return cid

    def messages(self, channel: str | None = None) -> list[dict]:
        """Messages posted (oldest first), each with `channel`; one channel by name or id, or all."""
        with self._lock:
            if channel is None:
                found = [m for ms in self._messages.values() for m in ms]
                return sorted(found, key=lambda m: float(m["ts"]))
            return list(self._messages.get(self._resolve(channel) or "", []))

    def responses(self, name: str | None = None) -> list[dict]:
        """Bodies posted to response URLs (each with `_path`, `_at`), oldest first."""
        with self._lock:
            return [r for r in self._responses if name is None or r["_path"] == name]

    def calls(self, method: str | None = None) -> list[dict]:
        """Every request: {"n", "at" (monotonic), "method", "channel", "status", "fault"}."""
        with self._lock:
            return [c for c in self._calls if method is None or c["method"] == method]

    def add_fault(self, method: str, *, status: int | None = None, retry_after: int | None = None,
                  stall: float | None = None, times: int = 1, every: int | None = None,
                  channel: str | None = None) -> None:
        """Change the answer to `method` ("chat.postMessage", ..., or "response"): `status`
        (429 = Slack's `ratelimited`, with `Retry-After`), or `stall` seconds before answering
        (a post is recorded first). For the next `times` matching calls, or every `every`th one
        (counting from when the fault is added). `channel` (name or id) narrows it."""
        if (status is None) == (stall is None):
            raise ValueError("a fault is either a status or a stall")
        with self._lock:
            self._faults.append({"method": method, "status": status, "retry_after": retry_after, "stall": stall,
                                 "left": None if every else times, "every": every, "seen": 0,
                                 "channel": self._resolve(channel) if channel else None})

    def clear(self) -> None:
        """Forget messages, responses, calls and faults (channels stay); end stalls in progress."""
        with self._lock:
            for ms in self._messages.values():
                ms.clear()
            self._responses.clear()
            self._calls.clear()
            self._faults.clear()
        self._release.set()
        self._release = threading.Event()

    def release_stalls(self) -> None:
        self._release.set()
        self._release = threading.Event()

    # -- the server side -----------------------------------------------------------------------

    def _resolve(self, channel: str) -> str | None:
        if channel in self._channels:
            return channel
        cid = channel_id_for(channel.lstrip("#"))
        return cid if cid in self._channels else None

    def _fault_for(self, method: str, channel: str | None) -> dict | None:
        with self._lock:
            for fault in self._faults:
                if fault["method"] != method or (fault["channel"] and fault["channel"] != channel):
                    continue
                if fault["every"]:
                    fault["seen"] += 1
                    if fault["seen"] % fault["every"] == 0:
                        return fault
                    continue
                if fault["left"]:
                    fault["left"] -= 1
                    return fault
        return None

    def _log(self, method: str, channel: str | None, status: int, fault: dict | None) -> None:
        with self._lock:
            self._calls.append({"n": len(self._calls) + 1, "at": time.monotonic(), "method": method,
                                "channel": channel, "status": status,
                                "fault": None if fault is None else ("stall" if fault["stall"] else fault["status"])})

    def _new_ts(self) -> str:
        # unique and increasing, like Slack's "<epoch seconds>.<6 digits>"
        return f"{int(time.time())}.{next(self._ts):06d}"

    def handle(self, method: str, params: dict, token: str | None) -> tuple[int, dict, dict]:
        """(status, headers, body) of one Web API call."""
        raw_channel = params.get("channel")
        channel = self._resolve(raw_channel) if isinstance(raw_channel, str) else None
        fault = self._fault_for(method, channel)
        if fault and fault["status"]:
            headers = {"Retry-After": str(fault["retry_after"])} if fault["retry_after"] is not None else {}
            body = {"ok": False, "error": "ratelimited" if fault["status"] == 429 else "fatal_error"}
            self._log(method, channel, fault["status"], fault)
            return fault["status"], headers, body
        body = self._answer(method, params, token, channel)
        if fault and fault["stall"]:
            self._release.wait(fault["stall"])  # the work is done (a message is recorded); the answer is late
        self._log(method, channel, 200, fault)
        return 200, {}, body

    def _answer(self, method: str, params: dict, token: str | None, channel: str | None) -> dict:
        if not token:
            return {"ok": False, "error": "not_authed"}
        if (self._tokens is not None and token not in self._tokens) or not token.startswith("xox"):
            return {"ok": False, "error": "invalid_auth"}
        if method == "auth.test":
            return {"ok": True, "url": "https://devsignal-fake.slack.com/", "team": "DevSignal (fake)",
                    "user": "devsignal", "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID,
                    "is_enterprise_install": False}
        if method == "conversations.list":
            return self._list(params)
        if method not in ("chat.postMessage", "conversations.history", "chat.update"):
            return {"ok": False, "error": "unknown_method"}
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if method == "chat.postMessage":
            return self._post(params, channel)
        if method == "chat.update":
            return self._update(params, channel)
        return self._history(params, channel)

    def _list(self, params: dict) -> dict:
        with self._lock:
            channels = sorted(self._channels.values(), key=lambda c: c["name"])
        start = int(params.get("cursor") or 0)
        limit = min(int(params.get("limit") or 100), 1000)
        page = channels[start:start + limit]
        next_cursor = str(start + limit) if start + limit < len(channels) else ""
        return {"ok": True, "channels": page, "response_metadata": {"next_cursor": next_cursor}}

    def _post(self, params: dict, channel: str) -> dict:
        blocks = _json_param(params.get("blocks"))
        if not params.get("text") and not blocks:
            return {"ok": False, "error": "no_text"}
        problems = block_problems(blocks) if blocks else []
        if problems:
            return {"ok": False, "error": "invalid_blocks", "errors": problems}
        message = {"type": "message", "subtype": "bot_message", "text": params.get("text") or "", "user": BOT_USER_ID,
                   "bot_id": BOT_ID, "app_id": "A0DEVAPP", "team": TEAM_ID}
        if blocks:
            message["blocks"] = blocks
        metadata = _json_param(params.get("metadata"))
        if metadata:
            message["metadata"] = metadata
        with self._lock:
            message["ts"] = self._new_ts()
            self._messages[channel].append({**message, "channel": channel})
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _update(self, params: dict, channel: str) -> dict:
        with self._lock:
            for message in self._messages[channel]:
                if message["ts"] == params.get("ts"):
                    if params.get("text") is not None:
                        message["text"] = params["text"]
                    if params.get("blocks") is not None:
                        message["blocks"] = _json_param(params["blocks"])
                    message["edited"] = {"user": BOT_USER_ID, "ts": self._new_ts()}
                    shown = {k: v for k, v in message.items() if k != "channel"}
                    return {"ok": True, "channel": channel, "ts": message["ts"], "text": message["text"],
                            "message": shown}
        return {"ok": False, "error": "message_not_found"}

    def _history(self, params: dict, channel: str) -> dict:
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or time.time() + 1e6)
        inclusive = str(params.get("inclusive")).lower() in ("1", "true")
        with_metadata = str(params.get("include_all_metadata")).lower() in ("1", "true")
        limit = min(int(params.get("limit") or 100), MAX_HISTORY_LIMIT)
        start = int(params.get("cursor") or 0)
        with self._lock:
            found = [m for m in reversed(self._messages[channel])
                     if (oldest <= float(m["ts"]) <= latest if inclusive else oldest < float(m["ts"]) < latest)]
        page = found[start:start + limit]
        messages = [{k: v for k, v in m.items() if k != "channel" and (with_metadata or k != "metadata")}
                    for m in page]
        more = start + limit < len(found)
        return {"ok": True, "messages": messages, "has_more": more, "pin_count": 0,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def handle_response(self, name: str, body: dict) -> tuple[int, dict, dict]:
        fault = self._fault_for("response", None)
        if fault and fault["status"]:
            self._log("response", None, fault["status"], fault)
            return fault["status"], {}, {"ok": False, "error": "injected"}
        with self._lock:
            self._responses.append({**body, "_path": name, "_at": time.monotonic()})
        if fault and fault["stall"]:
            self._release.wait(fault["stall"])
        self._log("response", None, 200, fault)
        return 200, {}, {"ok": True}


def _text_problems(where: str, obj: Any, limit: int, kinds=("plain_text", "mrkdwn")) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in kinds:
        return [f"{where}: must be a text object of type {' or '.join(kinds)}"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"{where}: text must be a non-empty string"]
    return [f"{where}: must be less than {limit + 1} characters"] if len(text) > limit else []


def block_problems(blocks: Any) -> list[str]:
    """What real Slack would refuse as `invalid_blocks` (the limits of the Block Kit reference for
    the blocks DevSignal sends: header, section, context, actions with buttons, divider)."""
    if not isinstance(blocks, list) or len(blocks) > 50:
        return ["blocks: must be a list of at most 50 blocks"]
    problems: list[str] = []
    action_ids: set[str] = set()
    for n, block in enumerate(blocks):
        where = f"[{n}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "header":
            problems += _text_problems(f"{where}.text", block.get("text"), 150, ("plain_text",))
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: a section needs text or fields")
            if "text" in block:
                problems += _text_problems(f"{where}.text", block["text"], 3000)
            fields = block.get("fields", [])
            if len(fields) > 10:
                problems.append(f"{where}.fields: at most 10 items")
            for i, field in enumerate(fields):
                problems += _text_problems(f"{where}.fields[{i}]", field, 2000)
        elif kind == "context":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 10:
                problems.append(f"{where}.elements: 1 to 10 items")
            for i, element in enumerate(elements):
                problems += _text_problems(f"{where}.elements[{i}]", element, 3000)
        elif kind == "actions":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 25:
                problems.append(f"{where}.elements: 1 to 25 items")
            for i, button in enumerate(elements):
                if button.get("type") != "button":
                    problems.append(f"{where}.elements[{i}]: only buttons are modelled here")
                    continue
                problems += _text_problems(f"{where}.elements[{i}].text", button.get("text"), 75, ("plain_text",))
                action_id = button.get("action_id") or ""
                if len(action_id) > 255 or action_id in action_ids:
                    problems.append(f"{where}.elements[{i}].action_id: must be unique and at most 255 characters")
                action_ids.add(action_id)
                if len(button.get("value") or "") > 2000:
                    problems.append(f"{where}.elements[{i}].value: at most 2000 characters")
            if len(block.get("block_id") or "") > 255:
                problems.append(f"{where}.block_id: at most 255 characters")
        elif kind != "divider":
            problems.append(f"{where}: unsupported block type {kind!r}")
    return problems


def _json_param(value: Any) -> Any:
    """Web API arguments arrive as JSON (already parsed) or form fields (JSON-encoded strings)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _handler(fake: FakeSlack):
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeSlack/1"

        def log_message(self, *args):  # quiet: the call log is the record
            pass

        def _params(self) -> dict:
            parsed = urlparse(self.path)
            params = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if body and kind == "application/json":
                params.update(json.loads(body))
            elif body:
                params.update({k: v[-1] for k, v in parse_qs(body.decode()).items()})
            return params

        def _send(self, status: int, headers: dict, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (or was killed) while we stalled: nobody to answer

        def _dispatch(self) -> None:
            path = urlparse(self.path).path
            try:
                params = self._params()
            except ValueError:
                self._send(400, {}, {"ok": False, "error": "invalid_json"})
                return
            if path.startswith("/api/"):
                auth = self.headers.get("Authorization") or ""
                token = auth[7:].strip() if auth.lower().startswith("bearer ") else params.get("token")
                self._send(*fake.handle(path[len("/api/"):], params, token))
            elif path.startswith("/response/") and self.command == "POST":
                self._send(*fake.handle_response(path[len("/response/"):], params))
            else:
                self._send(404, {}, {"ok": False, "error": "not_found"})

        do_GET = _dispatch
        do_POST = _dispatch

    return Handler


@contextmanager
def serve_fake_slack(channels: list[str] = ("devsignal-alerts",), tokens: list[str] | None = None,
                     host: str = "127.0.0.1", port: int = 0) -> Iterator[FakeSlack]:
    """A running fake Slack on a free loopback port (in a background thread) for the `with` block.
    `tokens`: the bot tokens it accepts (None = any `xox…` token)."""
    fake = FakeSlack(list(channels), tokens)
    server = ThreadingHTTPServer((host, port), _handler(fake))
    server.daemon_threads = True
    server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    fake.url = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-slack", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.release_stalls()
        server.shutdown()
        server.server_close()
