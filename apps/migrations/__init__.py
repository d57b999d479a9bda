"""The app-owned schemas (`app`, `intake`), migrated with Alembic.

No alembic.ini: the configuration is built here, so `upgrade()` works from any working folder.
`upgrade()` is idempotent and safe to call from several processes at once (the API at startup,
the Segment source before it reads the inbox, `devsignal db migrate`): they serialise on an
advisory lock, and the ones that come second find the schema at head and do nothing.

New revision (by hand, from the checkout):
    .venv/bin/python -c "from apps import migrations; migrations.revision('what it does')"

Revisions may branch (two features each adding a revision on the same parent); `upgrade()` goes
to every head, and a merge revision joins the branches when convenient.
"""

from __future__ import annotations

import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent

# pg_advisory_xact_lock key held while migrating (any constant unique to this use)
MIGRATION_LOCK = 0x64657673_6D696772  # "devsmigr"
# the Alembic version table lives in the app's own schema, not in public
VERSION_TABLE_SCHEMA = "app"
# Alembic's `context` is a module-level proxy: one migration per process at a time
_in_process = threading.Lock()


def config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("path_separator", "os")
    return cfg


def upgrade(revision: str = "heads") -> None:
    """Bring `app` and `intake` to `revision` (default: every head), in one transaction."""
    from alembic import command

    from devsignal import db

    cfg = config()
    with _in_process, db.engine().begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def current() -> tuple[str, ...]:
    """The revisions the database is at (empty before the first upgrade)."""
    from alembic.runtime.migration import MigrationContext

    from devsignal import db

    with db.engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table_schema": VERSION_TABLE_SCHEMA})
        return tuple(sorted(context.get_current_heads()))


def head() -> tuple[str, ...]:
    """The latest revisions in versions/ (one per branch)."""
    from alembic.script import ScriptDirectory

    return tuple(sorted(ScriptDirectory.from_config(config()).get_heads()))


def revision(message: str) -> None:
    """Write a new, empty revision file under versions/ (for developers)."""
    from alembic import command

    command.revision(config(), message=message)
