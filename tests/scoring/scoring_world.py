"""The demo world, loaded and built into a database of its own, for the scoring tests and by hand.

`python tests/scoring/scoring_world.py [--rebuild]` generates the default demo world (seed 7, 200
companies, 2,000 people, 90 days) with a pinned end date, loads every source through the sandbox
into `devsignal_scoring_test` on the embedded server, and runs `dbt build` as of the world's end.
The dlt state of these loads lives in a folder of its own, never the demo's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"

DBNAME = "devsignal_scoring_test"
# the default demo world's knobs; the end date is pinned so the figures are reproducible
WORLD = {"seed": 7, "companies": 200, "people": 2000, "days": 90, "end_date": "2025-06-30"}
SCORING_MODELS = ("int_pqa__signal_days", "int_pqa__account_day_inputs", "int_pqa__v1_factors",
                  "int_pqa__v2_account_day_inputs", "int_pqa__v2_factors", "fct_account_scores_daily",
                  "fct_account_tier_changes", "account_scores_current")
# the score tables and their keys, for hashing
SCORE_TABLES = {
    "intermediate.int_pqa__account_day_inputs": "account_id, score_date",
    "intermediate.int_pqa__v2_account_day_inputs": "account_id, score_date",
    "marts.fct_account_scores_daily": "account_id, score_date, score_version",
    "marts.fct_account_tier_changes": "account_id, score_date, score_version",
    "marts.account_scores_current": "account_id",
}


@dataclass
class DbtRun:
    returncode: int
    seconds: float
    output: str
    results: list[dict] = field(default_factory=list)

    def failures(self) -> list[dict]:
        return [r for r in self.results if r["status"] not in ("success", "pass", "skipped")]

    def timing(self, model: str) -> float:
        return sum(r["execution_time"] or 0 for r in self.results
                   if r["unique_id"].startswith("model.") and r["unique_id"].split(".")[-1] == model)


def generate_world(folder: Path) -> Path:
    """The default demo world (WORLD) in `folder`, unless it is there already."""
    from ingestion import world

    meta = folder / "meta.json"
    if meta.exists() and all(json.loads(meta.read_text()).get(k) == v for k, v in WORLD.items()):
        return folder
    world.generate(folder, **WORLD)
    return folder


def database_url(dbname: str = DBNAME) -> str:
    from devsignal import db

    return db.connection().url(dbname)


def create_database(dbname: str = DBNAME) -> None:
    from devsignal import db

    db.connection()
    admin = db.connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'drop database if exists "{dbname}" with (force)')
        cur.execute(f'create database "{dbname}"')
    admin.close()


def load_world(world_dir: Path, dbname: str = DBNAME, state_dir: Path | None = None,
               sources=("npm", "pypi", "github", "segment", "crm")) -> dict[str, float]:
    """Every source through the sandbox into `dbname` (DEVSIGNAL_DATABASE_URL points there while it runs)."""
    from devsignal import db, demo
    from ingestion import pipelines, sandbox

    url = database_url(dbname)
    state_dir = Path(state_dir or tempfile.mkdtemp(prefix="devsignal-scoring-dlt-"))
    saved = dict(os.environ)
    seconds = {}
    try:
        os.environ["DEVSIGNAL_DATABASE_URL"] = url
        db.connection.cache_clear()
        with sandbox.serve(world_dir) as server:
            os.environ.update(demo.sandbox_env(server.url, world_dir))
            for source in sources:
                started = time.monotonic()
                pipelines.load(source, pipeline=pipelines.make_pipeline(source, pipelines_dir=state_dir))
                seconds[source] = time.monotonic() - started
    finally:
        os.environ.clear()
        os.environ.update(saved)
        db.connection.cache_clear()
    return seconds


def dbt_env(dbname: str = DBNAME) -> dict[str, str]:
    from devsignal import db

    params = db.connection()
    env = dict(os.environ)
    env.update({"DEVSIGNAL_PG_HOST": params.host, "DEVSIGNAL_PG_PORT": str(params.port),
                "DEVSIGNAL_PG_USER": params.user, "DEVSIGNAL_PG_PASSWORD": params.password,
                "DEVSIGNAL_PG_DBNAME": dbname, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    return env


def run_dbt(args: list[str], vars_: dict | None = None, dbname: str = DBNAME,
            work_dir: Path | None = None) -> DbtRun:
    """`dbt <args>` against `dbname`, with target and log folders of its own."""
    work_dir = Path(work_dir or tempfile.mkdtemp(prefix="devsignal-scoring-dbt-"))
    command = [str(DBT_EXECUTABLE), *args, "--project-dir", str(DBT_PROJECT_DIR),
               "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(work_dir / "target"),
               "--log-path", str(work_dir / "logs")]
    if vars_:
        command += ["--vars", json.dumps(vars_)]
    started = time.monotonic()
    proc = subprocess.run(command, env=dbt_env(dbname), capture_output=True, text=True, cwd=DBT_PROJECT_DIR)
    seconds = time.monotonic() - started
    results_file = work_dir / "target" / "run_results.json"
    results = []
    if results_file.exists():
        results = [{"unique_id": r["unique_id"], "status": r["status"], "message": r.get("message"),
                    "execution_time": r.get("execution_time")}
                   for r in json.loads(results_file.read_text())["results"]]
    return DbtRun(proc.returncode, seconds, proc.stdout + proc.stderr, results)


def world_vars(world_dir: Path) -> dict:
    meta = json.loads((world_dir / "meta.json").read_text())
    return {"score_as_of": meta["end_date"], "internal_domains": [meta["vendor"]["domain"]]}


def connect(dbname: str = DBNAME):
    from devsignal import db

    return db.connect(dbname)


def table_hashes(dbname: str = DBNAME, where: str = "true") -> dict[str, tuple[int, str]]:
    """{table: (rows, md5 of every row in key order)} of the score tables, rows filtered by `where`
    (a condition on score_date; account_scores_current, which has one day only, is left out then)."""
    conn = connect(dbname)
    try:
        out = {}
        with conn.cursor() as cur:
            for table, key in SCORE_TABLES.items():
                if where != "true" and table.endswith("account_scores_current"):
                    continue
                cur.execute(f"select count(*), coalesce(md5(string_agg(md5(t::text), '' order by {key})), '') "
                            f"from {table} as t where {where}")
                out[table] = cur.fetchone()
        return out
    finally:
        conn.close()


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    world_dir = Path(os.environ.get("SCORING_WORLD_DIR", "/tmp/devsignal-scoring-world"))
    generate_world(world_dir)
    if "--rebuild" in sys.argv or "--load" in sys.argv:
        create_database()
        print("loaded", load_world(world_dir))
    args = [a for a in sys.argv[1:] if not a.startswith("--rebuild") and a != "--load"] or ["build"]
    run = run_dbt(args, world_vars(world_dir))
    print(run.output[-6000:])
    print(f"dbt {' '.join(args)}: rc={run.returncode} in {run.seconds:.1f}s; failures: {run.failures()}")
