"""RELIABILITY tests 8 (two runs of one pipeline at once) and 5 (kill -9 during extract,
normalize and load) for the REST sources, with real processes: `python -m ingestion` in
subprocesses against the session sandbox and the embedded PostgreSQL.

Where a process must be caught in a phase, nothing is timed: a sandbox stall holds it inside
extract (it waits for an answer), and a few lines of dlt instrumentation in the child (DRIVER
below, test code only) hold it mid-normalize or after a share of its load jobs completed. The
parent waits for that point, then SIGKILLs the child.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from ingestion.pipelines import make_pipeline
from ingestion.sources._common import parse_ts

from .conftest import count, query, resource_state, world_rows
from .test_github import TABLES, World, assert_world_counts

REPO_ROOT = Path(__file__).resolve().parents[2]

# The child: `python -m ingestion ...`, optionally held at a phase (TEST_PAUSE_AT) until killed.
DRIVER = r"""
import os, sys, time
from pathlib import Path

pause = os.environ.get("TEST_PAUSE_AT", "")

def hold(where):
    Path(os.environ["TEST_PAUSE_MARKER"]).write_text(where)
    while True:
        time.sleep(1)

if pause == "normalize":
    from dlt.normalize.normalize import Normalize
    spool = Normalize.spool_files
    def spool_files(self, load_id, schema, map_f, files):
        def normalized_then_hold(*args):
            result = map_f(*args)  # the package's files are written, not yet committed
            hold("normalize")
        return spool(self, load_id, schema, normalized_then_hold, files)
    Normalize.spool_files = spool_files
elif pause.startswith("load:"):
    share = float(pause.split(":")[1])
    from dlt.load.load import Load
    complete = Load.complete_jobs
    def complete_jobs(self, load_id, jobs, schema):
        result = complete(self, load_id, jobs, schema)
        states = [s for s, _ in self.load_storage.normalized_packages.list_all_jobs_with_states(load_id)]
        done = states.count("completed_jobs")
        if states and done / len(states) >= share:
            hold(f"load {done}/{len(states)}")
        return result
    Load.complete_jobs = complete_jobs

from ingestion.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="session")
def pycache(tmp_path_factory) -> Path:
    """Children share compiled bytecode (this machine sets PYTHONDONTWRITEBYTECODE, and compiling
    dlt again in every child costs seconds)."""
    return tmp_path_factory.mktemp("pycache")


def child_env(server, meta, home: Path, pycache: Path, **extra: str) -> dict:
    from devsignal import db

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVSIGNAL_", "LOAD__", "EXTRACT__"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(server.settings())
    env.update({
        "DEVSIGNAL_DATABASE_URL": db.connection().url(),  # the running server; state lives in `home`
        "DEVSIGNAL_HOME": str(home),
        "DEVSIGNAL_NPM_PACKAGES": ",".join(meta["npm_packages"]),
        "DEVSIGNAL_PYPI_PACKAGES": ",".join(meta["pypi_packages"]),
        "DEVSIGNAL_GITHUB_REPOS": ",".join(meta["github_repos"]),
        "DEVSIGNAL_START_DATE": meta["start_date"],
        "DEVSIGNAL_HTTP_TIMEOUT": "120",  # longer than any stall the test holds a child in
        "PYTHONPYCACHEPREFIX": str(pycache),
        "PYTHONPATH": str(REPO_ROOT),
    })
    env.update(extra)
    return env


def spawn(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", DRIVER, *args], env=env, cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(what, timeout: float, process: subprocess.Popen | None = None, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        if process is not None and process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the child exited ({process.returncode}) before {message}:\n{out}\n{err[-3000:]}")
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {message}")


def kill(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGKILL)
    _, err = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return err


def stalled(server, since: int, path: str) -> bool:
    return any(e["path"].startswith(path) and e["status"] is None for e in server.requests(since=since))


def lock_waiters(pipeline_name: str) -> int:
    from devsignal import db

    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("select count(*) from pg_stat_activity where application_name like %s",
                    (f"devsignal-ingestion {pipeline_name} %",))
        return cur.fetchone()[0]


@pytest.fixture()
def names(_datasets):
    suffix = uuid.uuid4().hex[:8]

    def make(source: str) -> tuple[str, str]:
        dataset = f"test_raw_{source}_{suffix}"
        _datasets.append(dataset)
        return f"test_{source}_{suffix}", dataset
    return make


def test_two_runs_of_one_pipeline_at_once_exactly_one_executes(faulty, meta, world_dir, tmp_path, pycache, names):
    """The first run holds the pipeline's advisory lock (its first npm request is held by the
    sandbox); a second run refuses at once, a third with --wait queues and runs after it."""
    name, dataset = names("npm")
    env = child_env(faulty, meta, tmp_path / "home", pycache)
    args = ["npm", "--pipeline-name", name, "--dataset", dataset]
    faulty.add_fault("/npm-api/downloads/range/", {"stall": 100})
    mark = faulty.last_request_number()
    first = spawn(args, env)
    try:
        wait_for(lambda: stalled(faulty, mark, "/npm-api/downloads/range/"), 90, first, "the first run's request")
        quiet = faulty.last_request_number()

        refused = subprocess.run([sys.executable, "-c", DRIVER, *args], env=env, cwd=REPO_ROOT,
                                 capture_output=True, text=True, timeout=120)
        assert refused.returncode == 4, refused.stderr[-2000:]
        assert f"pipeline {name!r} is already running: devsignal-ingestion {name}" in refused.stderr
        assert "This run did not start" in refused.stderr

        queued = spawn([*args, "--wait", "120"], env)
        wait_for(lambda: lock_waiters(name) == 2, 90, queued, "the queued run to wait for the lock")
        time.sleep(0.5)
        assert faulty.last_request_number() == quiet, "a second run talked to the API while the first ran"
    finally:
        faulty.release_stalls()
    out_first, err_first = first.communicate(timeout=120)
    out_queued, err_queued = queued.communicate(timeout=120)
    assert first.returncode == 0, err_first[-3000:]
    assert queued.returncode == 0, err_queued[-3000:]
    assert "waiting up to 120s" in err_queued
    for text in (err_first, err_queued, refused.stderr):
        assert "FileNotFoundError" not in text

    pipeline = make_pipeline("npm", pipeline_name=name, dataset_name=dataset, pipelines_dir=tmp_path / "home" / "dlt")
    daily = [r for r in world_rows(world_dir, "npm/downloads.parquet") if r["package"] in meta["npm_packages"]]
    assert count(pipeline, "downloads") == count(pipeline, "downloads", "package, day") == len(daily)
    assert count(pipeline, "versions") == count(pipeline, "versions", "package, version")
    assert query(pipeline, "select count(*) from {ds}._dlt_loads where status = 0")[0][0] == 2  # one after the other


def test_kill_9_in_extract_normalize_and_load_then_rerun_loads_exactly_once(faulty, meta, world_dir, tmp_path,
                                                                            pycache, names, capsys):
    world = World(world_dir, meta)
    name, dataset = names("github")
    home = tmp_path / "home"
    marker = tmp_path / "paused"
    args = ["github", "--pipeline-name", name, "--dataset", dataset, "--wait", "30"]
    pipeline_dir = home / "dlt"
    kills: list[str] = []
    started = time.monotonic()

    # 1. extract: the second repository's issues are held by the sandbox, the first's are extracted
    path = f"/github/repos/{meta['github_repos'][1]}/issues"
    faulty.add_fault(path, {"stall": 100})
    mark = faulty.last_request_number()
    child = spawn(args, child_env(faulty, meta, home, pycache))
    try:
        wait_for(lambda: stalled(faulty, mark, path), 90, child, "the extract to reach the held request")
        kill(child)
        kills.append("extract")
    finally:
        faulty.clear_faults()

    # 2. normalize, 3-5. load after 10%, 50% and 90% of the package's jobs completed
    for phase in ("normalize", "load:0.1", "load:0.5", "load:0.9"):
        marker.unlink(missing_ok=True)
        env = child_env(faulty, meta, home, pycache, TEST_PAUSE_AT=phase, TEST_PAUSE_MARKER=str(marker),
                        LOAD__WORKERS="1")
        child = spawn(args, env)
        where = wait_for(lambda: marker.exists() and marker.read_text(), 120, child, f"the child to reach {phase}")
        kill(child)
        kills.append(where)

    # 6. a plain rerun: finishes what is pending, then runs the source
    done = subprocess.run([sys.executable, "-c", DRIVER, *args], env=child_env(faulty, meta, home, pycache),
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "FileNotFoundError" not in done.stderr

    pipeline = make_pipeline("github", pipeline_name=name, dataset_name=dataset, pipelines_dir=pipeline_dir)
    summary = {table: {"total": count(pipeline, table)} for table in TABLES}
    assert_world_counts(pipeline, summary, world)  # exact counts, 0 duplicates on every primary key
    assert not pipeline.has_pending_data
    assert not pipeline.list_extracted_load_packages() and not pipeline.list_normalized_load_packages()
    assert query(pipeline, "select count(*) from {ds}._dlt_loads where status <> 0")[0][0] == 0
    cursors = resource_state(pipeline, "github", "issues")["since"]
    for repo in meta["github_repos"]:
        updated = [r["updated_at"] for r in world.issues if r["repo"].lower() == repo.lower()]
        if updated:
            newest = max(parse_ts(u) for u in updated)
            assert cursors[repo]["updated_at"] == newest.strftime("%Y-%m-%dT%H:%M:%SZ"), repo
    staging = f"{dataset}_staging"
    leftovers = query(pipeline, "select table_name from information_schema.tables where table_schema = %s "
                                "and table_name not like '\\_dlt%%'", staging)
    assert leftovers, "the merge went through the staging dataset"
    for (table,) in leftovers:
        assert query(pipeline, f'select count(*) from "{staging}"."{table}"')[0][0] == 0, f"rows left in {table}"
    with capsys.disabled():
        print(f"\n[test 5] github: killed at {', '.join(kills)}; the rerun loaded exactly the world "
              f"({sum(v['total'] for v in summary.values())} rows, 0 duplicates, 0 pending) in "
              f"{time.monotonic() - started:.0f}s overall")
