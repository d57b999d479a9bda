"""Fault injection and the request log: what the sandbox adds on top of the real APIs, for tests.

Nothing here changes an answer unless a test asks for it. A *fault* is a script of steps for the
requests whose path starts with a prefix; each matching request takes the next step:

    {"status": 429, "headers": {"Retry-After": "7"}, "body": {...} | "text"}   a canned answer
    {"reset": true}                 the connection is cut (TCP RST), no answer at all
    {"stall": 5.0}                  nothing for 5 s (or until the stalls are released), then the
                                    normal answer (to a client that has usually given up by then)
    {"pass": true}                  the normal answer
    {"mutate": {"add_fields": {"name": value}, "stringify": ["downloads"]}}
                                    the normal answer, its JSON changed: fields added to the body
                                    (or to each item of a list body); every value under a key in
                                    `stringify` that is an integer (or a dict of integers) becomes text
    any step may carry "times": n   the same step n times in a row

When the script is spent the requests pass untouched, unless `repeat` is set: then the last step
answers forever (a fault that never clears). The request log keeps every upstream request with
its status (or "reset"), the fault step it got, and how long the answer took.
"""

from __future__ import annotations

import copy
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Optional

from .web import Request, Response, etag_matches, json_bytes, strong_etag

STEP_KINDS = ("status", "reset", "stall", "pass", "mutate")


class FaultError(ValueError):
    """A fault description the sandbox cannot use (the message says why)."""


def expand_steps(steps: list[dict]) -> list[dict]:
    expanded: list[dict] = []
    for step in steps:
        if not isinstance(step, dict) or sum(kind in step for kind in STEP_KINDS) != 1:
            raise FaultError(f"a step needs exactly one of {', '.join(STEP_KINDS)}: {step!r}")
        times = int(step.get("times", 1))
        if times < 1:
            raise FaultError(f"times must be >= 1: {step!r}")
        clean = {k: v for k, v in step.items() if k != "times"}
        if "status" in clean and not 100 <= int(clean["status"]) <= 599:
            raise FaultError(f"not an HTTP status: {step!r}")
        expanded.extend(copy.deepcopy(clean) for _ in range(times))
    if not expanded:
        raise FaultError("a fault needs at least one step")
    return expanded


@dataclass
class Fault:
    id: int
    path: str  # prefix of the request path, e.g. "/npm-api/downloads/range/" (still percent-encoded)
    steps: list[dict]
    repeat: bool = False
    contains: Optional[str] = None  # only requests whose raw target (path?query) contains this
    hits: int = 0

    def matches(self, path: str, query: str) -> bool:
        return path.startswith(self.path) and (not self.contains or self.contains in f"{path}?{query}")

    def next_step(self) -> Optional[dict]:
        if self.hits < len(self.steps):
            step = self.steps[self.hits]
        elif self.repeat:
            step = self.steps[-1]
        else:
            return None
        self.hits += 1
        return step

    def describe(self) -> dict:
        return {"id": self.id, "path": self.path, "steps": self.steps, "repeat": self.repeat,
                "contains": self.contains, "hits": self.hits,
                "spent": not self.repeat and self.hits >= len(self.steps)}


@dataclass
class FaultBook:
    """The faults in force and the request log (thread-safe)."""

    log_size: int = 100_000
    _faults: list[Fault] = field(default_factory=list)
    _log: deque = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 1
    _next_request: int = 1
    _stalls: threading.Condition = field(default_factory=threading.Condition)
    _generation: int = 0

    def __post_init__(self) -> None:
        self._log = deque(maxlen=self.log_size)

    # -- stalls -----------------------------------------------------------------------------------
    def stall(self, seconds: float) -> None:
        """Hold a request for `seconds`, or until release_stalls()."""
        with self._stalls:
            generation = self._generation
            self._stalls.wait_for(lambda: self._generation != generation, timeout=max(0.0, float(seconds)))

    def release_stalls(self) -> None:
        """End every stall in progress now (their answers then go out as usual)."""
        with self._stalls:
            self._generation += 1
            self._stalls.notify_all()

    # -- faults ---------------------------------------------------------------------------------
    def add(self, path: str, steps: list[dict], repeat: bool = False, contains: Optional[str] = None) -> int:
        if not isinstance(path, str) or not path.startswith("/"):
            raise FaultError(f"path must start with '/' (e.g. /npm-api/downloads/range/): {path!r}")
        fault_steps = expand_steps(list(steps))
        with self._lock:
            fault = Fault(self._next_id, path, fault_steps, bool(repeat), contains)
            self._next_id += 1
            self._faults.append(fault)
            return fault.id

    def add_dict(self, spec: dict) -> int:
        if not isinstance(spec, dict) or "path" not in spec or "steps" not in spec:
            raise FaultError('a fault is {"path": "/prefix/...", "steps": [...], "repeat": false}')
        return self.add(spec["path"], spec["steps"], spec.get("repeat", False), spec.get("contains"))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def describe(self) -> list[dict]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def take(self, path: str, query: str) -> tuple[Optional[int], Optional[dict]]:
        """The step the request at `path` gets (the first fault in force that matches), or (None, None)."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(path, query):
                    step = fault.next_step()
                    if step is not None:
                        return fault.id, step
        return None, None

    # -- the request log ------------------------------------------------------------------------
    def start(self, method: str, path: str, query: str, params: dict, started: float) -> dict:
        """Log a request as it arrives (so the log is in arrival order, stalled ones included)."""
        with self._lock:
            entry = {"n": self._next_request, "at": round(started, 3), "method": method, "path": path,
                     "query": query, "params": params, "status": None, "fault": None, "step": None,
                     "seconds": None}
            self._next_request += 1
            self._log.append(entry)
            return entry

    def note_step(self, entry: dict, fault: Optional[int], step: Optional[str]) -> None:
        """Which fault step a request got, noted before it is applied (a stalled request shows it)."""
        with self._lock:
            entry.update(fault=fault, step=step)

    def finish(self, entry: dict, status: Any, fault: Optional[int], step: Optional[str], seconds: float) -> None:
        with self._lock:
            entry.update(status=status, fault=fault, step=step, seconds=round(seconds, 3))

    def requests(self, prefix: Optional[str] = None, since: int = 0) -> list[dict]:
        with self._lock:
            entries = list(self._log)
        wanted = "/" + prefix.strip("/") + "/" if prefix else None
        return [dict(e) for e in entries if e["n"] > since and (wanted is None or (e["path"] + "/").startswith(wanted))]

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()


# -- applying a step ------------------------------------------------------------------------------


def step_kind(step: dict) -> str:
    return next(kind for kind in STEP_KINDS if kind in step)


def canned_response(step: dict) -> Response:
    body = step.get("body", {"message": "injected by the sandbox"} if step["status"] >= 400 else b"")
    headers = {str(k): str(v) for k, v in (step.get("headers") or {}).items()}
    if isinstance(body, (dict, list)):
        headers.setdefault("Content-Type", "application/json; charset=utf-8")
        raw = json_bytes(body)
    else:
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        raw = body if isinstance(body, bytes) else str(body).encode("utf-8")
    return Response(int(step["status"]), raw, headers)


def reset_response() -> Response:
    return Response(0, b"", {}, action="reset")


def _stringify(value: Any, keys: set[str]) -> Any:
    if isinstance(value, list):
        return [_stringify(v, keys) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key in keys and isinstance(item, int) and not isinstance(item, bool):
            out[key] = str(item)
        elif key in keys and isinstance(item, dict) and all(isinstance(v, int) for v in item.values()):
            out[key] = {k: str(v) for k, v in item.items()}
        else:
            out[key] = _stringify(item, keys)
    return out


def mutate(response: Response, change: dict, if_none_match: str) -> Response:
    """The normal answer with its JSON changed (a new ETag when it had one; 304 if that matches)."""
    if response.status != 200:
        return response
    try:
        body = json.loads(response.body)
    except ValueError:
        return response
    for name, value in (change.get("add_fields") or {}).items():
        items = body if isinstance(body, list) else [body]
        for item in items:
            if isinstance(item, dict):
                item[name] = copy.deepcopy(value)
    if change.get("stringify"):
        body = _stringify(body, set(change["stringify"]))
    new = Response(200, json_bytes(body), dict(response.headers))  # key order kept as it came
    if "ETag" in new.headers:
        new.headers["ETag"] = strong_etag(new.body)
        if etag_matches(if_none_match, new.headers["ETag"]):
            return Response(304, b"", {"ETag": new.headers["ETag"]})
    return new


def without_conditional(request: Request) -> Request:
    """The request minus If-None-Match: a mutated body must not be answered 304 on the old ETag."""
    headers = {k: v for k, v in request.headers.items() if k != "if-none-match"}
    return Request(method=request.method, path=request.path, query=request.query,
                   query_pairs=request.query_pairs, headers=headers, client_ip=request.client_ip,
                   base_url=request.base_url, body=request.body)

