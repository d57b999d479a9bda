"""`apps.migrations.upgrade()` is idempotent and safe when several processes call it at once
(the API at startup, the Segment source, `devsignal db migrate`)."""

from __future__ import annotations

import subprocess
import sys
import threading

from apps import migrations
from devsignal import settings

from .conftest import sql


def test_upgrade_is_idempotent_across_threads_and_processes(api_database):
    sql("drop schema intake cascade; drop schema app cascade")  # as on a fresh database
    processes = [subprocess.Popen([sys.executable, "-c", "from apps import migrations; migrations.upgrade()"],
                                  cwd=settings.REPO_ROOT, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errors: list[BaseException] = []

    def upgrade() -> None:
        try:
            migrations.upgrade()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=upgrade) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for process in processes:
        assert process.wait(timeout=120) == 0, process.stderr.read()
    assert errors == []
    assert migrations.current() == migrations.head()
    tables = sql("""select table_schema || '.' || table_name from information_schema.tables
                    where table_schema in ('app', 'intake') order by 1""")
    names = [t for (t,) in tables]
    assert {"app.alembic_version", "app.api_keys", "app.identity_overrides", "app.audit_log", "app.deals",
            "intake.inbox", "intake.quarantine"} <= set(names)
    # one version row per branch head: concurrent upgrades did not each stamp their own
    assert len(sql("select version_num from app.alembic_version")) == len(migrations.head())
