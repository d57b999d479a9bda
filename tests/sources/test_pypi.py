"""PyPI: pypistats series and PyPI JSON releases, against the sandbox."""

from __future__ import annotations

import json
from collections import Counter

from ingestion.pipelines import load

from .conftest import count, query, world_rows


def test_pypi_loads_every_series_and_release_without_duplicates(sandbox_env, new_pipeline, world_dir, meta):
    pipeline = new_pipeline("pypi")
    packages = meta["pypi_packages"]
    first = load("pypi", pipeline=pipeline)

    series = [r for r in world_rows(world_dir, "pypi/downloads.parquet") if r["package"] in packages]
    assert first["downloads"]["total"] == len(series)
    by_kind = Counter(r["kind"] for r in series)
    assert dict(query(pipeline, "select kind, count(*) from {ds}.downloads group by kind")) == dict(by_kind)
    categories = {r[0] for r in query(pipeline, "select distinct category from {ds}.downloads")}
    assert {"with_mirrors", "without_mirrors"} <= categories
    assert None not in categories
    assert query(pipeline, "select sum(downloads) from {ds}.downloads")[0][0] == sum(r["downloads"] for r in series)

    releases = json.loads((world_dir / "pypi/releases.json").read_text())
    assert first["releases"]["total"] == sum(len(releases[p]) for p in packages)
    with_files = sum(1 for p in packages for files in releases[p].values() if files)
    assert query(pipeline, "select count(*) from {ds}.releases where uploaded_at is not null")[0][0] == with_files

    second = load("pypi", pipeline=pipeline)
    assert second["downloads"]["total"] == first["downloads"]["total"]
    assert second["downloads"]["loaded"] < first["downloads"]["loaded"]  # only the look-back days
    assert count(pipeline, "downloads") == count(pipeline, "downloads", "package, day, kind, category")
    assert count(pipeline, "releases") == count(pipeline, "releases", "package, version")
