"""Sources against a real sandbox on a small generated world, loading into the real embedded
PostgreSQL. Every test gets its own pipeline name, dataset and state folder; the datasets are
dropped when the session ends."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingestion.pipelines import make_pipeline
from ingestion.sandbox import serve

END_DATE = dt.date(2025, 3, 31)
SMALL_WORLD = {"companies": 30, "people": 300, "days": 30}


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory) -> Path:
    from ingestion.world import generate

    out = tmp_path_factory.mktemp("world")
    generate(out, end_date=END_DATE, **SMALL_WORLD)
    return out


@pytest.fixture(scope="session")
def meta(world_dir) -> dict:
    return json.loads((world_dir / "meta.json").read_text())


@pytest.fixture(scope="session")
def sandbox(world_dir):
    with serve(world_dir, secondary_every=0) as server:
        yield server


def point_settings_at(monkeypatch, server, meta: dict) -> None:
    for name, value in server.settings().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DEVSIGNAL_NPM_PACKAGES", ",".join(meta["npm_packages"]))
    monkeypatch.setenv("DEVSIGNAL_PYPI_PACKAGES", ",".join(meta["pypi_packages"]))
    monkeypatch.setenv("DEVSIGNAL_GITHUB_REPOS", ",".join(meta["github_repos"]))
    monkeypatch.setenv("DEVSIGNAL_START_DATE", meta["start_date"])
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)


@pytest.fixture()
def sandbox_env(sandbox, meta, monkeypatch):
    """DEVSIGNAL_* settings pointing at the session sandbox and its world."""
    point_settings_at(monkeypatch, sandbox, meta)
    return sandbox


@pytest.fixture(scope="session")
def _datasets():
    names: list[str] = []
    yield names
    if not names:
        return
    from devsignal import db

    conn = db.connect()
    conn.autocommit = True
    with conn.cursor() as cur:
        for name in names:
            for schema in (name, f"{name}_staging"):
                cur.execute(f'drop schema if exists "{schema}" cascade')
    conn.close()


@pytest.fixture()
def new_pipeline(tmp_path, _datasets):
    """new_pipeline("npm") -> a pipeline of its own: unique name, dataset and state folder."""
    def make(source: str):
        suffix = uuid.uuid4().hex[:8]
        dataset = f"test_raw_{source}_{suffix}"
        _datasets.append(dataset)
        return make_pipeline(source, pipeline_name=f"test_{source}_{suffix}", dataset_name=dataset,
                             pipelines_dir=tmp_path / "dlt")
    return make


def query(pipeline, sql: str, *args) -> list[tuple]:
    with pipeline.sql_client() as client:
        return [tuple(row) for row in client.execute_sql(sql.replace("{ds}", f'"{client.dataset_name}"'), *args)]


def count(pipeline, table: str, distinct: str | None = None) -> int:
    what = f"count(distinct ({distinct}))" if distinct else "count(*)"
    return query(pipeline, f'select {what} from {{ds}}."{table}"')[0][0]


def world_rows(world_dir: Path, relative: str) -> list[dict]:
    return pq.read_table(world_dir / relative).to_pylist()


# --- fault tests: fast HTTP limits, a clean fault book, state and load bookkeeping ------------------

HTTP_TIMEOUT = 2.0  # DEVSIGNAL_HTTP_TIMEOUT in the fault tests (production default: 60 s)
HTTP_BACKOFF = 0.2  # DEVSIGNAL_HTTP_BACKOFF in the fault tests (production default: 1 s -> 1, 2, 4, 8 s)


@pytest.fixture()
def fast_http(monkeypatch):
    """Same retry logic, shorter clock: 2 s read timeout, waits of 0.2, 0.4, 0.8, 1.6 s."""
    monkeypatch.setenv("DEVSIGNAL_HTTP_TIMEOUT", str(HTTP_TIMEOUT))
    monkeypatch.setenv("DEVSIGNAL_HTTP_BACKOFF", str(HTTP_BACKOFF))
    monkeypatch.setenv("DEVSIGNAL_HTTP_MAX_ATTEMPTS", "5")


@pytest.fixture()
def faulty(sandbox_env, fast_http):
    """The session sandbox with the test's faults removed (and stalls ended) afterwards."""
    sandbox_env.clear_faults()
    yield sandbox_env
    sandbox_env.clear_faults()


def resource_state(pipeline, source: str, resource: str) -> dict:
    """A resource's dlt state as stored locally (a deep copy)."""
    import copy

    return copy.deepcopy(pipeline.state.get("sources", {}).get(source, {}).get("resources", {}).get(resource, {}))


def completed_loads(pipeline) -> int:
    return query(pipeline, "select count(*) from {ds}._dlt_loads where status = 0")[0][0]


def attempts_at(server, since: int, path: str, contains: str | None = None) -> list[dict]:
    """The request-log entries after `since` a fault on (path, contains) would match, oldest first."""
    return [e for e in server.requests(since=since)
            if e["path"].startswith(path) and (not contains or contains in f"{e['path']}?{e['query']}")]
