"""Session-wide: leave the embedded PostgreSQL as we found it."""

import shutil
import tempfile
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
