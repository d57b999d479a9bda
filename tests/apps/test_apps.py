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
def crm_database(demo_database, own_database_factory, monkeypatch):
    """A database of its own (migrated) holding two scored accounts, so the app has known content;
    the OWNER comes from the environment on the app's first run."""
    monkeypatch.setenv("DEVSIGNAL_CRM_OWNER_EMAIL", "owner@apps.test")
    monkeypatch.setenv("DEVSIGNAL_CRM_OWNER_PASSWORD", "apps-owner-password")
    with own_database_factory("devsignal_apps_crm_test"):
        _empty_marts_like_the_demo()
        with db.connect() as conn, conn.cursor() as cur:
            cur.execute("""
                insert into marts.dim_accounts (account_id, name, domain) values ('a1', 'Acme', 'acme.io'), ('a2', 'Globex', 'globex.com');
                insert into marts.account_scores_current (account_id, name, domain, tier, score, trend, score_date, score_version)
                values ('a1', 'Acme', 'acme.io', 'HOT', 91, 'RISING', '2026-11-01', 'v2'),
                       ('a2', 'Globex', 'globex.com', 'COLD', 23, 'STABLE', '2026-11-01', 'v2');
            """)
        yield


def _empty_marts_like_the_demo() -> None:
    """The marts' tables with the demo database's columns (read-only there), and no rows."""
    source, target = db.connect("devsignal"), db.connect()
    source.set_session(readonly=True)
    try:
        with source.cursor() as read, target.cursor() as write:
            write.execute("create schema marts")
            read.execute("""select c.relname, string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)),
                                                         ', ' order by a.attnum)
                            from pg_class c join pg_namespace n on n.oid = c.relnamespace
                            join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                            where n.nspname = 'marts' and c.relkind in ('r', 'v', 'm', 'p') group by c.relname""")
            for table, columns in read.fetchall():
                write.execute(f'create table marts."{table}" ({columns})')
        target.commit()
    finally:
        source.close()
        target.close()


def _log_in(app: AppTest, email: str, password: str) -> AppTest:
    app.text_input(key="login_email").set_value(email)
    app.text_input(key="login_password").set_value(password)
    return app.button(key="FormSubmitter:login-Log in").click().run()


def test_crm_needs_a_login_and_lists_scored_accounts(crm_database):
    app = AppTest.from_file(str(settings.REPO_ROOT / "apps/crm/streamlit_app.py"), default_timeout=30).run()
    assert not app.exception
    assert not app.dataframe  # nothing shown before logging in
    _log_in(app, "owner@apps.test", "not-the-password")
    assert [error.value for error in app.error] == ["invalid email or password"]
    assert not app.dataframe
    _log_in(app, "owner@apps.test", "apps-owner-password")
    assert not app.exception
    assert "owner@apps.test · OWNER" in [line.value for line in app.sidebar.text]
    app.switch_page("app_pages/accounts.py").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert list(table["domain"]) == ["acme.io", "globex.com"]
    app.multiselect(key="acc_tiers").set_value(["HOT"]).run()
    assert list(app.dataframe[0].value["domain"]) == ["acme.io"]
