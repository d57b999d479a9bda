"""A small demo world, loaded and built through the real Dagster definitions, for the orchestration tests.

Everything is the project's own: the world generator, the sandbox serving it through the real API
shapes, the dlt assets, the dbt assets and the activation asset, run by Dagster with a real
`DagsterInstance` whose run/event/schedule storage is a PostgreSQL database of the tests' own
(`devsignal_orchestration_dagster_test`, never the demo's `dagster`). Its dagster.yaml spells the
URL out (no env var), so every process started from this instance (daemon, code server, run
worker) lands on the same storage whatever the environment says.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

DAGSTER_DBNAME = "devsignal_orchestration_dagster_test"
WORLD = {"seed": 11, "companies": 14, "people": 160, "days": 30}
WRITE_KEY = "orchestration-test-key"
SLACK_TOKEN = "xoxb-orchestration-test"
SLACK_CHANNEL = "devsignal-alerts"


def recreate_database(name: str) -> str:
    from devsignal import db

    admin = db.connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
        cur.execute(f'create database "{name}"')
    admin.close()
    return db.connection().sqlalchemy_url(name)


def drop_database(name: str) -> None:
    from devsignal import db

    admin = db.connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
    admin.close()


def write_instance_home(home: Path, storage_url: str, launcher: str = "default") -> Path:
    """A DAGSTER_HOME folder: storage in `storage_url`, the project's run retries and coordinator.

    launcher "sync": runs execute inside `launch_run` (Dagster's own sensor tests do this); "default":
    each run in a process of its own, started by the code server."""
    home.mkdir(parents=True, exist_ok=True)
    config = {
        "storage": {"postgres": {"postgres_url": storage_url}},
        "run_retries": {"enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False},
        "telemetry": {"enabled": False},
        # runs launch when submitted (the queued coordinator, Dagster's default, needs the daemon's queue)
        "run_coordinator": {"module": "dagster._core.run_coordinator.default_run_coordinator",
                            "class": "DefaultRunCoordinator"},
    }
    if launcher == "sync":
        config["run_launcher"] = {"module": "dagster._core.launcher.sync_in_memory_run_launcher",
                                  "class": "SyncInMemoryRunLauncher"}
    (home / "dagster.yaml").write_text(json.dumps(config, indent=2))  # JSON is YAML
    return home


def instance(home: Path):
    from dagster import DagsterInstance

    return DagsterInstance.from_config(str(home))


def generate_world(folder: Path, end_date: dt.date) -> Path:
    from ingestion import world

    world.generate(folder, end_date=end_date, **WORLD)
    return folder


def world_meta(world_dir: Path) -> dict:
    return json.loads((world_dir / "meta.json").read_text())


def build(instance_, world_dir: Path) -> None:
    """Every source through the sandbox, then every dbt model and the activation asset, as Dagster runs."""
    from dagster import AssetSelection, materialize

    from devsignal import demo
    from ingestion import sandbox
    from orchestration.definitions import defs

    assets = list(defs.assets)
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    with sandbox.serve(world_dir) as server:
        os.environ.update(demo.sandbox_env(server.url, world_dir))
        result = materialize(assets, selection=AssetSelection.groups("ingestion"), resources=defs.resources,
                             instance=instance_, run_config=quiet)
        assert result.success, "loading the world failed"
    result = materialize(assets, selection=AssetSelection.all() - AssetSelection.groups("ingestion"),
                         resources=defs.resources, instance=instance_, run_config=quiet)
    assert result.success, "dbt build / activation failed"


# ----------------------------------------------------------------------------- the intake API and events
# shared with the latency benchmark, so the test and the bench send the same calls

from bench.activation import IntakeApi as _BenchIntakeApi, _free_port as free_port, hot_calls  # noqa: E402,F401


class IntakeApi(_BenchIntakeApi):
    def __init__(self, log_path: Path):
        super().__init__(log_path, write_key=WRITE_KEY)
