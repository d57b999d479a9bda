"""One built demo world per session: the default world (seed 7, 200 companies, 2,000 people, 90 days,
a fixed end date) loaded through the sandbox into a database of its own (`devsignal_identity_test`,
never `devsignal`), then `dbt build` of the identity marts and everything they read."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bench import identity as bench_identity

DBNAME = "devsignal_identity_test"
WORLD = {"seed": 7, "companies": 200, "people": 2000, "days": 90, "end_date": "2025-06-30"}
# the identity marts and what they read; tests only where every parent is selected
SELECT = ["--select", "+dim_people", "+dim_identifiers", "+dim_person_aliases", "+fct_signals", "+dim_accounts",
          "+int_signals__noise", "--indirect-selection", "cautious"]

# The table the app owns (Alembic migration, apps/): what int_identity__overrides reads.
IDENTITY_OVERRIDES_DDL = """
create schema if not exists app;
create table if not exists app.identity_overrides (
    override_id      bigint generated always as identity primary key,
    action           text not null check (action in ('merge', 'split', 'set_account')),
    person_id        text,
    other_person_id  text,
    identifier_type  text,
    identifier_value text,
    account_id       text,
    account_domain   text,
    effective_from   date,
    reason           text,
    created_by       text not null,
    created_at       timestamptz not null default now(),
    revoked_at       timestamptz,
    check (action <> 'merge' or (person_id is not null and other_person_id is not null)),
    check (action <> 'split' or (identifier_type is not null and identifier_value is not null)),
    check (action <> 'set_account' or person_id is not null)
);
"""

MARTS = ("dim_people", "dim_identifiers", "dim_person_aliases", "dim_accounts", "fct_signals")


@dataclass
class BuiltWorld:
    world_dir: Path
    work_dir: Path
    vars: dict
    timings: dict = field(default_factory=dict)

    def connect(self):
        from devsignal import db

        conn = db.connect(DBNAME)
        conn.autocommit = True
        return conn

    def query(self, sql: str, *params) -> list[dict]:
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params or None)
                if cur.description is None:
                    return []
                names = [d[0] for d in cur.description]
                return [dict(zip(names, row)) for row in cur.fetchall()]
        finally:
            conn.close()

    def dbt(self, *args: str, select: bool = True) -> tuple[float, list[dict]]:
        command = list(args) + (SELECT if select else [])
        returncode, seconds, output, results = bench_identity.run_dbt(DBNAME, command, self.vars, self.work_dir)
        failures = [r for r in results if r["status"] not in ("success", "pass")]
        if returncode != 0 or failures:
            lines = "\n".join(f"{r['unique_id']}: {r['status']}: {r['message']}" for r in failures)
            pytest.fail(f"dbt {' '.join(args)} failed:\n{lines}\n{output[-3000:]}")
        return seconds, results

    def mart_hashes(self) -> dict[str, str]:
        return {mart: self.query(f"select count(*) as n, md5(coalesce(string_agg(h, '' order by h), '')) as h "
                                 f"from (select md5(t::text) as h from marts.{mart} as t) as rows")[0]["h"]
                for mart in MARTS}


@pytest.fixture(scope="session")
def built_world(tmp_path_factory) -> BuiltWorld:
    from ingestion.world import generate

    world_dir = tmp_path_factory.mktemp("identity_world")
    started = time.perf_counter()
    generate(world_dir, **WORLD)
    timings = {"world": time.perf_counter() - started}
    bench_identity.create_database(DBNAME)
    timings["load"] = sum(bench_identity.load_world(DBNAME, world_dir, tmp_path_factory.mktemp("identity_state"))
                          .values())
    built = BuiltWorld(world_dir, tmp_path_factory.mktemp("identity_dbt"), bench_identity.dbt_vars(world_dir), timings)
    timings["dbt_build"], results = built.dbt("build")
    timings["identity_models"] = sum(r["execution_time"] or 0 for r in results
                                     if ".int_identity__" in r["unique_id"] and r["unique_id"].startswith("model."))
    return built


@pytest.fixture(scope="session")
def figures(built_world) -> dict:
    conn = built_world.connect()
    try:
        return bench_identity.measure(conn, built_world.world_dir)
    finally:
        conn.close()
