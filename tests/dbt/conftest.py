"""Fixtures for the dbt project's tests: a dedicated database (never `devsignal`), the hand-made raw
dataset of dbt_raw_fixture.py, and one `dbt build` over it per session."""

from __future__ import annotations

import pytest

import dbt_raw_fixture as fx


@pytest.fixture(scope="session")
def pg_params():
    from devsignal import db

    return db.connection()


@pytest.fixture(scope="session")
def dbt_build(pg_params, tmp_path_factory):
    """Load the fixture into `devsignal_dbt_test` and `dbt build` it (seeds, models, data and unit tests)."""
    run = fx.build_fixture_project(pg_params, fx.TEST_DBNAME, tmp_path_factory.mktemp("dbt"))
    print(f"\ndbt build on the fixture: {run.seconds:.1f}s (rc={run.returncode})")
    if run.returncode != 0:
        failures = "\n".join(f"{f['unique_id']}: {f['status']}: {f['message']}" for f in run.failures())
        pytest.fail(f"dbt build failed:\n{failures}\n--- output tail ---\n{run.output[-4000:]}")
    return run


@pytest.fixture(scope="session")
def query(pg_params, dbt_build):
    """query(sql, *params) -> list of dict rows, on the built test database."""
    from psycopg2.extras import RealDictCursor

    conn = fx.connect(pg_params, fx.TEST_DBNAME)
    conn.autocommit = True

    def run(sql: str, *params):
        with conn.cursor(cursor_factory=RealDictCursor) as cur:
            cur.execute(sql, params or None)
            return [dict(row) for row in cur.fetchall()]

    yield run
    conn.close()
