"""The intake API against a database of its own (`devsignal_api_test` on the same server, so the
demo's data is never touched), served by real uvicorn processes on free loopback ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from devsignal import db, settings

API_DATABASE = "devsignal_api_test"
WRITE_KEY = "test-write-key"
WEBHOOK_SECRET = "test-webhook-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _recreate_database(name: str) -> None:
    admin = db.connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
        cur.execute(f'create database "{name}"')
    admin.close()


def _drop_database(name: str) -> None:
    admin = db.connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
    admin.close()


@pytest.fixture(scope="package")
def api_database():
    """DEVSIGNAL_DATABASE_URL -> a fresh `devsignal_api_test`, migrated, for this package's tests
    (and every process they start); the previous setting comes back afterwards."""
    from apps import migrations

    params = db.connection()
    _recreate_database(API_DATABASE)
    url = params.url(API_DATABASE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEVSIGNAL_DATABASE_URL", url)
        patch.delenv("DEVSIGNAL_SEGMENT_ARCHIVE_DIR", raising=False)
        db.connection.cache_clear()
        migrations.upgrade()
        yield url
        db.connection.cache_clear()
    _drop_database(API_DATABASE)  # `with (force)` ends this process's pooled connections too


@dataclass
class ApiServer:
    url: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_api(log_path: Path, database_url: str, **extra_env: str) -> ApiServer:
    """A uvicorn process serving apps.api.main:app on a free loopback port, up and healthy."""
    port = free_port()
    env = {**os.environ, "DEVSIGNAL_DATABASE_URL": database_url,
           "DEVSIGNAL_SEGMENT_WRITE_KEYS": f"other-key,{WRITE_KEY}",
           "DEVSIGNAL_SEGMENT_WEBHOOK_SECRET": WEBHOOK_SECRET, **extra_env}
    log_file = open(log_path, "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "apps.api.main:app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "info"],
        cwd=settings.REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    log_file.close()
    server = ApiServer(f"http://127.0.0.1:{port}", port, process, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited ({process.returncode}):\n{server.log()[-3000:]}")
        try:
            if requests.get(f"{server.url}/health", timeout=2).status_code in (200, 503):
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"the API did not start:\n{server.log()[-3000:]}")


@pytest.fixture(scope="package")
def api(api_database, tmp_path_factory):
    """The shared API server of this package's tests."""
    server = start_api(tmp_path_factory.mktemp("api") / "api.log", api_database)
    yield server
    server.stop()


def sql(query: str, *args) -> list[tuple]:
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(query, args or None)
        return cur.fetchall() if cur.description else []


def scalar(query: str, *args):
    return sql(query, *args)[0][0]


@pytest.fixture
def clean_intake(api_database):
    """An empty inbox and quarantine, for tests that count rows."""
    sql("truncate intake.inbox, intake.quarantine restart identity")


def new_id(prefix: str = "m") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


class RssSampler:
    """Peak resident memory of a process, sampled every few milliseconds in a thread."""

    def __init__(self, pid: int, every: float = 0.005):
        import psutil

        self.process = psutil.Process(pid)
        self.every = every
        self.start_rss = self.process.memory_info().rss
        self.peak_rss = self.start_rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
            time.sleep(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak_rss - self.start_rss) / 2**20


@dataclass
class RawResponse:
    status: int
    body: dict
    bytes_sent: int  # body bytes the client got out before the answer came (or the socket closed)


def raw_post(port: int, path: str, chunks, *, headers: dict[str, str] | None = None,
             content_length: int | None = None, pace: float = 0.005) -> RawResponse:
    """POST over a bare socket, sending `chunks` one by one and watching for an early answer
    between them, so a server that refuses mid-body is seen doing so (requests would block
    sending the rest). Chunked transfer encoding unless `content_length` is given."""
    import json
    import select

    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append(f"Content-Length: {content_length}" if content_length is not None else "Transfer-Encoding: chunked")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    sent = 0
    answered = False
    for chunk in chunks:
        if select.select([sock], [], [], pace)[0]:
            answered = True
            break
        frame = chunk if content_length is not None else f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        try:
            sock.sendall(frame)
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += len(chunk)
    if not answered and content_length is None:
        try:
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
    data = b""
    while True:
        try:
            piece = sock.recv(65536)
        except ConnectionResetError:
            break
        if not piece:
            break
        data += piece
        head, _, rest = data.partition(b"\r\n\r\n")
        length = [int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
        if length and len(rest) >= length[0]:
            break
    sock.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    if not head:
        raise AssertionError(f"no answer after sending {sent:,} body bytes")
    status = int(head.split(b" ")[1])
    return RawResponse(status, json.loads(rest) if rest else {}, sent)
