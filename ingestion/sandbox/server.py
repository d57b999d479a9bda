"""The loopback server: one stdlib ThreadingHTTPServer, one URL prefix per upstream.

Why the stdlib server and not uvicorn + FastAPI: it starts in milliseconds in a background thread
(no event loop, no signal handlers to fight in tests), it hands us the raw, still-encoded request
path (npm's `@scope%2Fname` must reach the handler unchanged, and ASGI servers decode it), and it
adds no behaviour of its own that the real APIs do not have (no automatic 422 bodies, redirects
on trailing slashes, or OpenAPI routes). One thread per connection is plenty for a connector run.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from .faults import (
    FaultBook,
    FaultError,
    canned_response,
    mutate,
    reset_response,
    step_kind,
    without_conditional,
)
from .files import FileFolder
from .github import GitHubApi, GitHubLimits
from .npm import NpmDownloadsApi, NpmRegistry
from .pypi import PyPI, PyPIStats
from .web import Request, Response, Stats, json_response, parse_query
from .world_data import World, load_world

# prefix -> (what it imitates, the connector setting that points at it)
PREFIXES = {
    "npm-api": ("https://api.npmjs.org", "DEVSIGNAL_NPM_API_URL"),
    "npm-registry": ("https://registry.npmjs.org", "DEVSIGNAL_NPM_REGISTRY_URL"),
    "pypistats": ("https://pypistats.org", "DEVSIGNAL_PYPISTATS_URL"),
    "pypi": ("https://pypi.org", "DEVSIGNAL_PYPI_URL"),
    "github": ("https://api.github.com", "DEVSIGNAL_GITHUB_API_URL"),
    "crm": ("the world's crm/ export files", None),
    "segment": ("the world's segment/ archive", None),
}


class SandboxApp:
    """Routes a request to the upstream its first path segment names, and counts what happened."""

    def __init__(self, world: World, limits: GitHubLimits, faults: FaultBook | None = None):
        self.world = world
        self.stats = Stats()
        self.faults = faults or FaultBook()
        for counter in ("not_modified", "rate_limited", "secondary_rate_limited"):
            self.stats.add("github", counter, 0)  # listed from the start, so readers need no defaults
        self.upstreams = {
            "npm-api": NpmDownloadsApi(world),
            "npm-registry": NpmRegistry(world),
            "pypistats": PyPIStats(world),
            "pypi": PyPI(world),
            "github": GitHubApi(world, limits, self.stats),
            "crm": FileFolder(world.root / "crm"),
            "segment": FileFolder(world.root / "segment"),
        }

    def handle(self, method: str, raw_target: str, headers: dict[str, str], client_ip: str,
               host: str, body: bytes = b"") -> Response:
        target = urlsplit(raw_target)
        prefix, _, rest = target.path.lstrip("/").partition("/")
        query, pairs = parse_query(target.query)
        request = Request(method=method, path="/" + rest, query=query, query_pairs=pairs, headers=headers,
                          client_ip=client_ip, base_url=f"http://{host}/{prefix}", body=body)
        if prefix == "_sandbox":
            return self.sandbox_endpoint(request)
        started, clock = time.time(), time.perf_counter()
        entry = self.faults.start(method, target.path, target.query, query, started)
        fault_id, step = self.faults.take(target.path, target.query)
        kind = step_kind(step) if step else None
        if kind:
            self.faults.note_step(entry, fault_id, kind)
        upstream = self.upstreams.get(prefix)
        self.stats.add("requests", prefix if upstream else ("index" if prefix == "" else "unknown"))
        if kind == "status":
            response = canned_response(step)
        elif kind == "reset":
            response = reset_response()
        else:
            if kind == "stall":
                self.faults.stall(step["stall"])
            response = self.answer(without_conditional(request) if kind == "mutate" else request,
                                   upstream, method, prefix, host)
            if kind == "mutate":
                response = mutate(response, step["mutate"], request.header("if-none-match"))
        status = "reset" if response.action == "reset" else response.status
        self.stats.add("statuses", str(status))
        if fault_id is not None:
            self.stats.add("faults", kind)
        self.faults.finish(entry, status, fault_id, kind, time.perf_counter() - clock)
        return response

    def answer(self, request: Request, upstream, method: str, prefix: str, host: str) -> Response:
        if upstream is None:
            return self.index(host) if prefix == "" else json_response(404, {"error": "unknown prefix",
                                                                             "prefixes": list(PREFIXES)})
        if method not in ("GET", "HEAD"):
            return json_response(405, {"error": f"{method} is not served: the sandbox is read-only"})
        return upstream.handle(request)

    def index(self, host: str) -> Response:
        return json_response(200, {prefix: {"url": f"http://{host}/{prefix}", "imitates": imitates,
                                            "setting": setting}
                                   for prefix, (imitates, setting) in PREFIXES.items()})

    def sandbox_endpoint(self, request: Request) -> Response:
        """`/_sandbox/stats`, `/_sandbox/faults` (GET, POST, DELETE), `/_sandbox/requests` (GET, DELETE)."""
        what = request.path.rstrip("/")
        if what == "/stats" and request.method == "GET":
            return json_response(200, {**self.stats.snapshot(), "world": str(self.world.root),
                                       "missing_world_files": self.world.missing_files})
        if what == "/faults/release" and request.method == "POST":
            self.faults.release_stalls()
            return json_response(200, {"released": True})
        if what == "/faults":
            if request.method == "GET":
                return json_response(200, {"faults": self.faults.describe()})
            if request.method == "DELETE":
                self.faults.clear()
                self.faults.release_stalls()
                return json_response(200, {"faults": []})
            if request.method == "POST":
                try:
                    spec = json.loads(request.body or b"null")
                    specs = spec if isinstance(spec, list) else [spec]
                    ids = [self.faults.add_dict(one) for one in specs]
                except (ValueError, FaultError) as error:
                    return json_response(400, {"error": str(error)})
                return json_response(201, {"ids": ids, "faults": self.faults.describe()})
        if what == "/requests":
            if request.method == "GET":
                since = int(request.query.get("since") or 0)
                return json_response(200, {"requests": self.faults.requests(request.query.get("prefix"), since)})
            if request.method == "DELETE":
                self.faults.clear_requests()
                return json_response(200, {"requests": []})
        return json_response(404, {"error": "the sandbox serves GET /_sandbox/stats, GET|POST|DELETE "
                                            "/_sandbox/faults, POST /_sandbox/faults/release, GET|DELETE /_sandbox/requests"})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: connectors reuse one connection per session
    disable_nagle_algorithm = True
    server_version = "DevSignalSandbox/1.0"
    sys_version = ""
    server: "_HTTPServer"

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def do_POST(self) -> None:
        self._answer(send_body=True)

    do_PUT = do_PATCH = do_DELETE = do_POST

    def _answer(self, send_body: bool) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""  # always drained, so the connection can be reused
        headers = {name.lower(): value for name, value in self.headers.items()}
        host = headers.get("host") or "%s:%d" % self.server.server_address[:2]
        try:
            response = self.server.app.handle(self.command, self.path, headers, self.client_address[0], host,
                                              body)
        except Exception:  # a bug in a handler must not kill the connection silently
            traceback.print_exc(file=sys.stderr)
            response = json_response(500, {"error": "sandbox error (see the server's stderr)"})
        if response.action == "reset":
            # an injected connection reset: SO_LINGER 0 makes close() send RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status != 304:
            self.send_header("Content-Length", str(len(response.body)))
        # Headers and body leave in one write: two small writes on a kept-alive connection meet
        # delayed ACKs and cost ~40 ms per request.
        self._headers_buffer.append(b"\r\n")
        if send_body and response.status != 304:
            self._headers_buffer.append(response.body)
        try:
            self.flush_headers()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (an injected stall)
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: SandboxApp, verbose: bool):
        self.app = app
        self.verbose = verbose
        super().__init__(address, _Handler)


class SandboxServer:
    """A running sandbox. `url` is the root; each upstream lives at `url + "/" + prefix`."""

    def __init__(self, httpd: _HTTPServer, world: World):
        self._httpd = httpd
        self.world = world
        self.host, self.port = httpd.server_address[:2]
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="devsignal-sandbox", daemon=True)
        self._thread.start()

    @property
    def app(self) -> SandboxApp:
        return self._httpd.app

    @property
    def urls(self) -> dict[str, str]:
        return {prefix: f"{self.url}/{prefix}" for prefix in PREFIXES}

    def settings(self) -> dict[str, str]:
        """The DEVSIGNAL_* settings that point the connectors at this sandbox and world."""
        settings = {setting: f"{self.url}/{prefix}" for prefix, (_, setting) in PREFIXES.items() if setting}
        settings["DEVSIGNAL_CRM_DIR"] = str(Path(self.world.root) / "crm")
        settings["DEVSIGNAL_SEGMENT_ARCHIVE_DIR"] = str(Path(self.world.root) / "segment" / "archive")
        return settings

    def stats(self) -> dict:
        return self.app.stats.snapshot()

    # -- fault injection and the request log (faults.py) ------------------------------------------
    def add_fault(self, path: str, *steps: dict, repeat: bool = False, contains: str | None = None) -> int:
        """Script the answers to requests whose path starts with `path` (e.g. "/npm-api/downloads/range/"):
        each matching request takes the next step; once spent they pass untouched (or, with `repeat`,
        the last step answers forever). Returns the fault's id."""
        return self.app.faults.add(path, list(steps), repeat=repeat, contains=contains)

    def clear_faults(self) -> None:
        """Remove every fault and end the stalls in progress."""
        self.app.faults.clear()
        self.app.faults.release_stalls()

    def release_stalls(self) -> None:
        self.app.faults.release_stalls()

    def faults(self) -> list[dict]:
        return self.app.faults.describe()

    def requests(self, prefix: str | None = None, since: int = 0) -> list[dict]:
        """The request log: {"n", "at", "method", "path", "query", "params", "status", "fault", "step",
        "seconds"} per upstream request, oldest first; `prefix` = "npm-api", "github", ..."""
        return self.app.faults.requests(prefix, since)

    def last_request_number(self) -> int:
        log = self.app.faults.requests()
        return log[-1]["n"] if log else 0

    def clear_requests(self) -> None:
        self.app.faults.clear_requests()

    def wait(self) -> None:
        """Block until stop() (used by the command line)."""
        while self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def __enter__(self) -> "SandboxServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    world_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 0,
    rate_limit: int = 5000,
    rate_limit_window: float = 3600.0,
    secondary_every: int = 500,
    secondary_retry_after: int = 1,
    secondary_status: int = 403,
    verbose: bool = False,
    faults: list[dict] | None = None,
    request_log: int = 100_000,
) -> SandboxServer:
    """Load `world_dir` and serve it on host:port (0 = any free port) from a background thread.

    GitHub knobs: `rate_limit` requests per `rate_limit_window` seconds per token (or per IP without
    one); every `secondary_every`-th request of a client (0 = never) gets a secondary-rate-limit
    refusal (`secondary_status`, 403 or 429) with `Retry-After: secondary_retry_after`.

    `faults`: faults in force from the start, each {"path", "steps", "repeat", "contains"}
    (faults.py; more can be added while it runs). `request_log`: how many requests the log keeps.
    """
    world = load_world(world_dir)
    limits = GitHubLimits(rate_limit=rate_limit, rate_limit_window=rate_limit_window,
                          secondary_every=secondary_every, secondary_retry_after=secondary_retry_after,
                          secondary_status=secondary_status)
    book = FaultBook(log_size=request_log)
    for spec in faults or []:
        book.add_dict(spec)
    httpd = _HTTPServer((host, port), SandboxApp(world, limits, book), verbose)
    return SandboxServer(httpd, world)
