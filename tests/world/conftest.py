"""Generated worlds shared by the world tests (generated once per session; each takes seconds at most)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from ingestion.world import generate

END_DATE = dt.date(2025, 6, 30)
SMALL = {"seed": 3, "companies": 30, "people": 300, "days": 30, "end_date": END_DATE}


@pytest.fixture(scope="session")
def default_world(tmp_path_factory):
    """The demo's default knobs (200 companies, 2000 people, 90 days) with a fixed end date."""
    out = tmp_path_factory.mktemp("default") / "world"
    summary = generate(out, end_date=END_DATE)
    return out, summary


@pytest.fixture(scope="session")
def world_dir(default_world) -> Path:
    return default_world[0]


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small") / "world"
    generate(out, **SMALL)
    return out


def read_segment_files(world: Path) -> dict[str, list[dict]]:
    """{'YYYY/MM/DD/n.json.gz': [call, ...]} in archive order (days, then file number)."""
    archive = world / "segment" / "archive"
    files = {}
    for path in sorted(archive.rglob("*.json.gz"), key=lambda p: (p.parent.as_posix(), int(p.name.split(".")[0]))):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            files[path.relative_to(archive).as_posix()] = [json.loads(line) for line in handle]
    return files


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="session")
def segment_files(world_dir) -> dict[str, list[dict]]:
    return read_segment_files(world_dir)


@pytest.fixture(scope="session")
def segment_calls(segment_files) -> list[dict]:
    return [call for calls in segment_files.values() for call in calls]


@pytest.fixture(scope="session")
def truth(world_dir) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(world_dir / "truth" / f"{name}.parquet")
            for name in ("companies", "people", "employment", "identifiers")}


@pytest.fixture(scope="session")
def github(world_dir) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(world_dir / "github" / f"{name}.parquet")
            for name in ("users", "orgs", "stargazers", "forks", "issues", "contributors", "releases")}


@pytest.fixture(scope="session")
def crm(world_dir) -> dict[str, list[dict]]:
    return {path.stem: read_csv(path) for path in sorted((world_dir / "crm").glob("*.csv"))}
