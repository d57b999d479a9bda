"""PyPI: pypistats series and PyPI JSON releases, against the sandbox."""

from __future__ import annotations

import json
from collections import Counter

import pytest

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


def test_a_second_run_writes_only_the_look_back_days_and_skips_unchanged_releases(sandbox_env, new_pipeline,
                                                                                    world_dir, meta):
    import datetime as dt

    from ingestion.sources.pypi.settings import LAG_DAYS

    pipeline = new_pipeline("pypi")
    packages = meta["pypi_packages"]
    load("pypi", pipeline=pipeline)
    end = dt.date.fromisoformat(meta["end_date"])
    state = pipeline.state["sources"]["pypi"]["resources"]
    assert state["downloads"]["last_day"] == {p: end.isoformat() for p in packages}
    assert set(state["releases"]["last_serial"]) == set(packages)

    mark = sandbox_env.last_request_number()
    second = load("pypi", pipeline=pipeline)
    recent = [r for r in world_rows(world_dir, "pypi/downloads.parquet")
              if r["package"] in packages and r["day"] >= end - dt.timedelta(days=LAG_DAYS)]
    assert second["downloads"]["loaded"] == len(recent)
    assert second["releases"]["loaded"] == 0  # X-PyPI-Last-Serial unchanged
    # pypistats takes no date parameter: the same four calls per package, filtered on our side
    stats = [e for e in sandbox_env.requests("pypistats", since=mark)]
    assert len(stats) == 4 * len(packages) and all("start_date" not in e["params"] for e in stats)


def write_exports(folder, extra_rows: int = 0):
    """A BigQuery query result as CSV (already aggregated, flat names) and raw `file_downloads`
    rows as Parquet (nested `file` and `details` structs, one row per download)."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "2025-03-daily.csv").write_text(
        "day,project,version,installer,country_code,python,system,num_downloads\n"
        "2025-03-01,acme-sdk,1.0.0,pip,DE,3.12,Linux,10\n"
        "2025-03-01,acme-sdk,1.0.0,uv,DE,3.12,Linux,5\n"
        "2025-03-02,Acme_SDK,1.1.0,pip,US,3.11.4,Darwin,7\n"
        ",acme-sdk,1.1.0,pip,US,3.11,Darwin,99\n")  # no day: skipped and logged
    moment = dt.datetime(2025, 3, 3, 12, tzinfo=dt.timezone.utc)
    n = 3 + extra_rows
    table = pa.table({
        "timestamp": pa.array([moment] * n, pa.timestamp("us", tz="UTC")),
        "country_code": ["FR"] * n,
        "project": ["acme-sdk"] * n,
        "file": [{"filename": "acme_sdk-1.1.0-py3-none-any.whl", "project": "acme-sdk", "version": "1.1.0",
                  "type": "bdist_wheel"}] * n,
        "details": [{"installer": {"name": "pip", "version": "24.0"}, "python": "3.12.1",
                     "system": {"name": "Linux", "release": "6.1"}}] * n,
    })
    pq.write_table(table, folder / "2025-03-03-raw.parquet")


def test_linehaul_file_downloads_exports_are_summed_per_key(sandbox_env, new_pipeline, tmp_path, monkeypatch):
    folder = tmp_path / "linehaul"
    write_exports(folder)
    monkeypatch.setenv("DEVSIGNAL_PYPI_FILE_DOWNLOADS_DIR", str(folder))
    pipeline = new_pipeline("pypi")
    first = load("pypi", pipeline=pipeline, resources=["file_downloads"])
    rows = query(pipeline, "select package, day::text, version, installer, country, python, system, file_type, "
                           "downloads from {ds}.file_downloads order by day, installer")
    assert rows == [
        ("acme-sdk", "2025-03-01", "1.0.0", "pip", "DE", "3.12", "Linux", "null", 10),
        ("acme-sdk", "2025-03-01", "1.0.0", "uv", "DE", "3.12", "Linux", "null", 5),
        ("acme-sdk", "2025-03-02", "1.1.0", "pip", "US", "3.11", "Darwin", "null", 7),
        ("acme-sdk", "2025-03-03", "1.1.0", "pip", "FR", "3.12", "Linux", "bdist_wheel", 3),
    ]
    assert first["file_downloads"]["loaded"] == 4
    assert load("pypi", pipeline=pipeline, resources=["file_downloads"])["file_downloads"]["loaded"] == 0

    write_exports(folder, extra_rows=2)  # the raw export re-done with two more downloads
    third = load("pypi", pipeline=pipeline, resources=["file_downloads"])
    assert third["file_downloads"]["total"] == 4  # rewritten, not added to
    assert query(pipeline, "select sum(downloads) from {ds}.file_downloads")[0][0] == 10 + 5 + 7 + 5


def test_linehaul_folder_must_exist_and_the_columns_be_recognised(sandbox_env, new_pipeline, tmp_path, monkeypatch):
    from ingestion.sources._common import SourceInputError

    monkeypatch.setenv("DEVSIGNAL_PYPI_FILE_DOWNLOADS_DIR", str(tmp_path / "missing"))
    with pytest.raises(SourceInputError, match="DEVSIGNAL_PYPI_FILE_DOWNLOADS_DIR=.* is not a folder"):
        load("pypi", pipeline=new_pipeline("pypi"), resources=["file_downloads"])
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "x.csv").write_text("a,b\n1,2\n")
    monkeypatch.setenv("DEVSIGNAL_PYPI_FILE_DOWNLOADS_DIR", str(tmp_path / "odd"))
    with pytest.raises(SourceInputError, match="needs a project and a day/timestamp column; it has a, b"):
        load("pypi", pipeline=new_pipeline("pypi"), resources=["file_downloads"])
