"""Webhook tests: their own database, real HTTP receivers and canary listeners on loopback.

Receivers listen on 127.77.0.x, the only range the tests allow through the SSRF guard
(DEVSIGNAL_WEBHOOK_ALLOW_PRIVATE=127.77.0.0/16); everything an attacker would aim at (127.0.0.1,
::1, ...) stays forbidden, and canaries listening there count any connection that gets through.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

import pytest
from sqlalchemy import text

from apps import state
from apps.state import Actor

ALLOWED = "127.77.0.0/16"
ADMIN = Actor("ada@vendor.dev", "ADMIN")


@pytest.fixture(scope="package", autouse=True)
def database(own_database_factory):
    with own_database_factory("devsignal_webhooks_test") as url:
        yield url


@pytest.fixture(autouse=True)
def clean_tables_and_allow_test_receivers(monkeypatch):
    """Each test starts with no endpoints or deliveries (deliver_due sends everything due)."""
    monkeypatch.setenv("DEVSIGNAL_WEBHOOK_ALLOW_PRIVATE", ALLOWED)
    with state.engine().begin() as conn:
        conn.execute(text("truncate app.webhook_attempts, app.webhook_deliveries, app.webhook_endpoints "
                          "restart identity cascade"))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """An HTTP server on loopback; `respond(request) -> (status, headers)` decides each answer."""

    host: str
    respond: Callable[[Received], tuple[int, dict]]
    requests: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/hooks") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def start(self, port: int = 0) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True   # answer in one go (no 40 ms delayed-ACK stall per request)

            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                request = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, 0)
                receiver.requests.append(request)   # counted on arrival, answered after
                status, headers = receiver.respond(request)
                request.status = status
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer((self.host, port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def receiver_factory():
    started: list[Receiver] = []

    def make(respond=lambda request: (200, {}), host: str = "127.77.0.1", port: int = 0) -> Receiver:
        receiver = Receiver(host, respond).start(port)
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        receiver.stop()


class Canary:
    """Counts TCP connections (hits) on one port; answers nothing."""

    def __init__(self, family: int, host: str, port: int = 0):
        self.hits = 0
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:  # dual stack: also catches 127.0.0.1 as ::ffff:127.0.0.1
            self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.hits += 1
            conn.close()

    def close(self):
        self._stop = True
        self.sock.close()


@pytest.fixture
def canary():
    """A listener on every local address (IPv4 and IPv6) of one port: any connection is a hit."""
    listener = Canary(socket.AF_INET6, "::")
    yield listener
    listener.close()
