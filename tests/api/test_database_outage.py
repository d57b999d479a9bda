"""RELIABILITY §12 test 4, scaled down: PostgreSQL cut (through a TCP proxy in the test) during a
~200 requests/s stream. The API answers 503 while it is gone (never 200 for an event it did not
keep); senders retry like Segment's libraries; after the database comes back, every event the
senders got a 2xx for is in the inbox, and nothing twice."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
import uuid

import requests

from devsignal import db
from devsignal.settings import PgParams

from .conftest import API_DATABASE, WRITE_KEY, scalar, start_api

SENDERS = 4
PER_SENDER_RATE = 50  # requests/s each: ~200/s in all
STREAM_SECONDS = 8.0
CUT_AT, RESTORE_AT = 2.0, 5.0


class TcpProxy:
    """127.0.0.1:<port> -> the PostgreSQL server (unix socket or TCP), with a switch: `cut()` drops
    every open connection and refuses new ones until `restore()`."""

    def __init__(self, params: PgParams):
        self.target = (socket.AF_UNIX, f"{params.host}/.s.PGSQL.{params.port}") if params.host.startswith("/") \
            else (socket.AF_INET, (params.host, params.port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            upstream = socket.socket(self.target[0], socket.SOCK_STREAM)
            upstream.connect(self.target[1])
            with self.lock:
                self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        self.open = False
        with self.lock:
            connections, self.connections = self.connections, []
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


def test_database_outage_loses_nothing(api_database, clean_intake, tmp_path):
    params = db.connection()
    proxy = TcpProxy(params)
    through_proxy = PgParams("127.0.0.1", proxy.port, params.user, params.password, API_DATABASE).url()
    server = start_api(tmp_path / "api.log", through_proxy)
    acked: set[str] = set()
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    first_ok_after_restore: list[float] = []
    lock = threading.Lock()
    started = time.monotonic()
    cut_health: list[int] = []

    def sender(number: int) -> None:
        http = requests.Session()
        pending: list[dict] = []
        sequence = 0
        while True:
            elapsed = time.monotonic() - started
            streaming = elapsed < STREAM_SECONDS
            if not streaming and (not pending or elapsed > STREAM_SECONDS + 30):
                return
            if pending:  # retries first, as a queueing client would
                call = pending.pop(0)
            elif streaming:
                sequence += 1
                call = {"type": "track", "messageId": f"out-{number}-{sequence}-{uuid.uuid4().hex[:6]}",
                        "userId": f"usr_{number}", "event": "API Call",
                        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat()}
            else:
                continue
            sent = time.monotonic()
            try:
                response = http.post(f"{server.url}/v1/track", json=call, auth=(WRITE_KEY, ""), timeout=15)
                status = response.status_code
            except requests.RequestException:
                status = 0
            with lock:
                latencies.append(time.monotonic() - sent)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    acked.add(call["messageId"])
                    if sent - started > RESTORE_AT and not first_ok_after_restore:
                        first_ok_after_restore.append(time.monotonic() - started - RESTORE_AT)
            if status != 200:
                pending.append(call)
                time.sleep(0.2)  # back off, then send it again
            else:
                time.sleep(max(0.0, 1 / PER_SENDER_RATE - (time.monotonic() - sent)))

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(CUT_AT)
        proxy.cut()
        time.sleep(1.0)
        cut_health.append(requests.get(f"{server.url}/health", timeout=15).status_code)
        time.sleep(RESTORE_AT - CUT_AT - 1.0)
        proxy.restore()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
        proxy.close()

    stored = {message_id for (message_id,) in _inbox_ids()}
    lost = acked - stored
    latencies.sort()
    print(f"\noutage: statuses {dict(sorted(statuses.items()))}, acked {len(acked)}, in inbox {len(stored)}, "
          f"lost {len(lost)}, duplicates 0 (unique messageId), p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms, "
          f"first 200 {first_ok_after_restore[0] if first_ok_after_restore else float('nan'):.2f}s after restore")
    assert statuses.get(503, 0) > 0, "the cut should have been answered with 503s"
    assert set(statuses) <= {200, 503, 0}
    assert cut_health == [503]
    assert lost == set()
    assert stored == acked  # nothing stored that the client was not told about, once retried
    assert scalar("select count(*) from intake.inbox") == len(stored)


def _inbox_ids():
    return _rows("select message_id from intake.inbox")


def _rows(query: str):
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(query)
        return cur.fetchall()
