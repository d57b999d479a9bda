"""Session-wide: leave the embedded PostgreSQL as we found it."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
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


# the database URL this session started with (fixtures repoint DEVSIGNAL_DATABASE_URL while they run)
_SESSION_DATABASE_URL = os.environ.get("DEVSIGNAL_DATABASE_URL")


@pytest.fixture(scope="session")
def demo_database():
    """The demo world built into the `devsignal` database, as `make demo` leaves it: built here by
    `devsignal demo` when its marts are missing (a fresh clone in CI), reused otherwise. Tests only
    read it (the CRM tests copy its marts into databases of their own)."""
    env = {key: value for key, value in os.environ.items() if key != "DEVSIGNAL_DATABASE_URL"}
    if _SESSION_DATABASE_URL:
        env["DEVSIGNAL_DATABASE_URL"] = _SESSION_DATABASE_URL

    def built() -> bool:
        probe = subprocess.run(
            [sys.executable, "-c", "from devsignal import db\n"
             "c = db.connect('devsignal'); cur = c.cursor()\n"
             "cur.execute(\"select to_regclass('marts.account_scores_current') is not null\")\n"
             "print(cur.fetchone()[0])"],
            env=env, capture_output=True, text=True, timeout=300)
        return probe.returncode == 0 and probe.stdout.strip() == "True"

    if not built():
        started = time.monotonic()
        demo = subprocess.run([sys.executable, "-m", "devsignal.cli", "demo"], env=env, cwd=settings.REPO_ROOT,
                              capture_output=True, text=True, timeout=1500)
        assert demo.returncode == 0, f"devsignal demo failed:\n{demo.stdout[-4000:]}\n{demo.stderr[-4000:]}"
        print(f"\nbuilt the demo world into `devsignal` in {time.monotonic() - started:.0f}s")
        assert built()
    return "devsignal"
