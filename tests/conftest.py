"""Session-wide: leave the embedded PostgreSQL as we found it."""

import pytest

from devsignal import db, settings


@pytest.fixture(scope="session", autouse=True)
def stop_embedded_server_we_started():
    """Tests start the embedded server on demand; stop it afterwards unless it was already up."""
    was_running = settings.get("DEVSIGNAL_DATABASE_URL") != "" or db.embedded_running()
    yield
    if not was_running:
        db.stop_embedded()
