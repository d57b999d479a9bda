"""Session-wide: leave the embedded PostgreSQL as we found it."""

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from devsignal import db, settings


@pytest.fixture(scope="session", autouse=True)
def stop_embedded_server_we_started():
    """Tests start the embedded server on demand; stop it afterwards unless it was already up."""
    was_running = settings.get("DEVSIGNAL_DATABASE_URL") != "" or db.embedded_running()
    yield
    if not was_running:
        db.stop_embedded()


@pytest.fixture(scope="session")
def server_tmp_root():
    """A temporary root for embedded servers' folders, outside pytest's own: pytest re-applies mode
    0700 to /tmp/pytest-of-<user> at every session start, and the server (run as its own user
    when we are root) must be able to traverse the path for as long as it runs."""
    root = Path(tempfile.mkdtemp(prefix="devsignal-tests-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@contextmanager
def own_database(name: str, *, migrate: bool = True):
    """A fresh database `name` on the same server, DEVSIGNAL_DATABASE_URL pointing at it (for this
    process and every process it starts) and the app's migrations applied; dropped afterwards.
    Use it from a package- or module-scoped fixture so tests never touch the demo's data."""
    from apps import migrations

    def run(sql: str) -> None:
        admin = db.connect("postgres")
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(sql)
        admin.close()

    params = db.connection()
    run(f'drop database if exists "{name}" with (force)')
    run(f'create database "{name}"')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEVSIGNAL_DATABASE_URL", params.url(name))
        db.connection.cache_clear()
        if migrate:
            migrations.upgrade()
        try:
            yield params.url(name)
        finally:
            db.connection.cache_clear()
            db._engine_for.cache_clear()
    run(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def own_database_factory():
    """`own_database` for fixtures in any test package:
    `with own_database_factory("devsignal_x_test") as url: yield url`."""
    return own_database
