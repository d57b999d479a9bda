"""The intake API answers over a real socket; the CRM page shows what the marts hold."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests
import uvicorn
from streamlit.testing.v1 import AppTest

from devsignal import db, settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_health_answers_over_loopback():
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config("apps.api.main:app", host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        response = requests.get(f"http://127.0.0.1:{port}/health", timeout=10)
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok"}
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def crm_database(monkeypatch):
    """A database of its own holding two scored accounts, so the page has known content."""
    params = db.connection()
    admin = db.connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("drop database if exists devsignal_crm_test")
        cur.execute("create database devsignal_crm_test")
    admin.close()
    monkeypatch.setenv("DEVSIGNAL_DATABASE_URL", params.url("devsignal_crm_test"))
    db.connection.cache_clear()
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("""
            create schema marts;
            create table marts.dim_accounts (account_id text, name text, domain text);
            create table marts.account_scores_current (account_id text, tier text, score int, trend text, score_date date);
            insert into marts.dim_accounts values ('a1', 'Acme', 'acme.io'), ('a2', 'Globex', 'globex.com');
            insert into marts.account_scores_current values
              ('a1', 'HOT', 91, 'RISING', '2026-11-01'), ('a2', 'COLD', 23, 'STABLE', '2026-11-01');
        """)
    yield
    db.connection.cache_clear()


def test_accounts_page_lists_scored_accounts_and_filters_by_tier(crm_database):
    app = AppTest.from_file(str(settings.REPO_ROOT / "apps/crm/streamlit_app.py"), default_timeout=30).run()
    assert not app.exception
    table = app.dataframe[0].value
    assert list(table["domain"]) == ["acme.io", "globex.com"]
    app.multiselect(key="tiers").set_value(["HOT"]).run()
    assert list(app.dataframe[0].value["domain"]) == ["acme.io"]
