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
