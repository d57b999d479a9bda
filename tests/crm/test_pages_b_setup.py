"""The database the part-B page tests run against (a helper module, imported by test_pages_b_*.py
and test_browser.py).

A database of its own (`devsignal_pages_b_test`, migrated) with copies of the demo world's marts
(through tests/crm/demo_marts.py, as conftest.py's CRM database) and the package-download staging
tables, read from the `devsignal` database, plus one member per role: pages show the demo world's
real rows while every write lands in the copy. `own_database` points the whole process at one
database, so the session fixture points it back when it is built and each test that asks for
`pages_b_database` is pointed at ours only while it runs: the other CRM tests' session database
(conftest.py) keeps working in the same run.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from devsignal import db

# conftest.py copies the marts; the download series are staging models (no package mart yet)
STAGING = ("staging.stg_npm__downloads", "staging.stg_npm__version_downloads", "staging.stg_pypi__downloads")
DEMO_DATABASE = "devsignal"
DATABASE = "devsignal_pages_b_test"
OWNER_LOGIN = ("owner@pages-b.test", "owner-pass-pages-b-1234")
PAGES = Path(__file__).resolve().parents[2] / "apps" / "crm" / "app_pages"


def copy_tables(source_db: str, target_db: str, tables=STAGING) -> dict[str, int]:
    """Create each table in `target_db` with the source's column types and COPY its rows over."""
    counts = {}
    source, target = db.connect(source_db), db.connect(target_db)
    source.set_session(readonly=True)  # the demo database is only read
    try:
        with source.cursor() as read, target.cursor() as write:
            for name in tables:
                schema, table = name.split(".")
                read.execute("""select a.attname, format_type(a.atttypid, a.atttypmod)
                                from pg_attribute a where a.attrelid = to_regclass(%s) and a.attnum > 0
                                and not a.attisdropped order by a.attnum""", (name,))
                columns = read.fetchall()
                assert columns, f"{name} is missing from the {source_db} database: build the demo world first"
                write.execute(f'create schema if not exists "{schema}"')
                definition = ", ".join(f'"{column}" {kind}' for column, kind in columns)
                write.execute(f'create table "{schema}"."{table}" ({definition})')
                with tempfile.TemporaryFile() as buffer:
                    read.copy_expert(f'copy (select * from "{schema}"."{table}") to stdout (format binary)', buffer)
                    buffer.seek(0)
                    write.copy_expert(f'copy "{schema}"."{table}" from stdin (format binary)', buffer)
                write.execute(f'select count(*) from "{schema}"."{table}"')
                counts[name] = write.fetchone()[0]
        target.commit()
    finally:
        source.close()
        target.close()
    return counts


def demo_scalar(sql: str, params=()):
    """One value read from the demo database itself (what a page must show)."""
    connection = db.connect(DEMO_DATABASE)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]
    finally:
        connection.close()


@pytest.fixture(scope="session")
def pages_b_session(demo_database, own_database_factory):
    """Our database (migrated, demo marts and download series copied, one member per role), made
    once; the process is pointed back at whatever it used before until a test asks for ours."""
    from demo_marts import copy_marts  # the CRM tests' copier (tests/crm/demo_marts.py), read-only use

    before = os.environ.get("DEVSIGNAL_DATABASE_URL")
    with own_database_factory(DATABASE) as url:
        counts = {**copy_marts(), **copy_tables(DEMO_DATABASE, DATABASE)}
        from apps.state import Actor, members

        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DEVSIGNAL_CRM_OWNER_EMAIL", OWNER_LOGIN[0])
            patch.setenv("DEVSIGNAL_CRM_OWNER_PASSWORD", OWNER_LOGIN[1])
            members.ensure_owner()
        owner = Actor(OWNER_LOGIN[0], "OWNER")
        for role in ("ADMIN", "MEMBER", "VIEWER"):
            members.invite_member(owner, email_of(role), role)
        with pointed_at(before):
            yield url, counts


@contextmanager
def pointed_at(url: str | None):
    """DEVSIGNAL_DATABASE_URL = url (unset if None) while the block runs, connection caches cleared."""
    with pytest.MonkeyPatch.context() as patch:
        if url is None:
            patch.delenv("DEVSIGNAL_DATABASE_URL", raising=False)
        else:
            patch.setenv("DEVSIGNAL_DATABASE_URL", url)
        db.connection.cache_clear()
        try:
            yield url
        finally:
            db.connection.cache_clear()
    db.connection.cache_clear()


@pytest.fixture()
def pages_b_database(pages_b_session):
    """(url, counts) with this process pointed at our database for the test's duration."""
    url, counts = pages_b_session
    with pointed_at(url):
        yield url, counts


def actor(role: str):
    from apps.state import Actor

    return Actor(email_of(role), role)


def email_of(role: str) -> str:
    return OWNER_LOGIN[0] if role == "OWNER" else f"{role.lower()}@pages-b.test"


def page(name: str, role: str = "MEMBER"):
    """An AppTest of one page with a logged-in member of `role` (as the login gate leaves it)."""
    from streamlit.testing.v1 import AppTest

    test = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=60)
    test.session_state["actor"] = actor(role)
    return test
