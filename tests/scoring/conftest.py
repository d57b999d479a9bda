"""One demo world, loaded and built once per session into `devsignal_scoring_test` (never `devsignal`)."""

from __future__ import annotations

import time

import pytest

import scoring_world as sw


@pytest.fixture(scope="session")
def scoring_build(tmp_path_factory):
    """The default demo world (end date pinned), every source loaded through the sandbox, and
    `dbt build` as of the world's end. Returns (world_dir, dbt work dir, the build's DbtRun)."""
    started = time.monotonic()
    world_dir = sw.generate_world(tmp_path_factory.mktemp("scoring-world"))
    sw.create_database()
    seconds = sw.load_world(world_dir, state_dir=tmp_path_factory.mktemp("scoring-dlt"))
    work_dir = tmp_path_factory.mktemp("scoring-dbt")  # one target folder: later runs parse partially
    run = sw.run_dbt(["build"], sw.world_vars(world_dir), work_dir=work_dir)
    print(f"\nscoring world: loaded in {sum(seconds.values()):.0f}s, dbt build {run.seconds:.0f}s "
          f"(total {time.monotonic() - started:.0f}s)")
    if run.returncode != 0:
        failures = "\n".join(f"{f['unique_id']}: {f['status']}: {f['message']}" for f in run.failures())
        pytest.fail(f"dbt build failed:\n{failures}\n--- output tail ---\n{run.output[-4000:]}")
    return world_dir, work_dir, run


@pytest.fixture(scope="session")
def scoring_engine(scoring_build):
    import sqlalchemy as sa

    from devsignal import db

    engine = sa.create_engine(db.connection().sqlalchemy_url(sw.DBNAME))
    yield engine
    engine.dispose()
