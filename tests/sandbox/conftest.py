"""Worlds and running sandboxes for the sandbox tests (real servers on loopback, real HTTP)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import requests

from ingestion.sandbox import serve

from .tiny_world import END_DATE, write_tiny_world


@pytest.fixture(scope="session")
def tiny_world_dir(tmp_path_factory) -> Path:
    """The hand-made world: it has every feature the protocol tests need (scoped package, many pages...)."""
    return write_tiny_world(tmp_path_factory.mktemp("tiny-world"))


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory, tiny_world_dir) -> Path:
    """A generated world (README Contract 1), or the tiny world until the generator exists."""
    try:
        from ingestion.world import generate
    except ImportError:
        return tiny_world_dir
    out = tmp_path_factory.mktemp("world")
    generate(out, companies=30, people=300, days=30, end_date=END_DATE)
    return out


@pytest.fixture(scope="session")
def sandbox(world_dir):
    with serve(world_dir, secondary_every=0) as server:
        yield server


@pytest.fixture(scope="session")
def tiny_sandbox(tiny_world_dir):
    with serve(tiny_world_dir, secondary_every=0) as server:
        yield server


@pytest.fixture(scope="session")
def meta(world_dir) -> dict:
    return json.loads((world_dir / "meta.json").read_text())


@pytest.fixture()
def http():
    with requests.Session() as session:
        session.headers["User-Agent"] = "devsignal-tests"
        yield session


def busiest(world_dir: Path, table: str, column: str = "repo") -> str:
    """The value of `column` with the most rows in a world table (e.g. the repo with most stargazers)."""
    values = pq.read_table(world_dir / table, columns=[column]).column(column).to_pylist()
    assert values, f"{table} is empty in this world"
    return Counter(values).most_common(1)[0][0]
