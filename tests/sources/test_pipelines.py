"""ingestion.pipelines and `python -m ingestion`."""

from __future__ import annotations

import pytest

import ingestion.pipelines as pipelines
from devsignal import settings
from ingestion.__main__ import main


def test_make_pipeline_names_dataset_and_state_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DEVSIGNAL_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("devsignal.db.dlt_credentials", lambda: {
        "database": "devsignal", "username": "u", "password": "p", "host": "localhost", "port": 5432})
    pipeline = pipelines.make_pipeline("github")
    assert pipeline.pipeline_name == "github"
    assert pipeline.dataset_name == "raw_github"
    assert pipeline.destination.destination_name == "postgres"
    assert pipeline.pipelines_dir == str(settings.home() / "dlt")
    with pytest.raises(ValueError, match="unknown source 'hubspot'"):
        pipelines.make_pipeline("hubspot")


def test_command_line_prints_the_summary(sandbox_env, new_pipeline, monkeypatch, capsys, world_dir):
    pipeline = new_pipeline("pypi")
    monkeypatch.setattr(pipelines, "make_pipeline", lambda *a, **k: pipeline)
    assert main(["pypi", "--pipeline-name", pipeline.pipeline_name]) == 0
    out = capsys.readouterr().out
    assert out.startswith("raw_pypi  (")
    lines = out.splitlines()
    assert lines[1].split() == ["table", "loaded", "total"]
    releases = next(line.split() for line in lines if line.strip().startswith("releases "))
    assert releases[1] == releases[2] and int(releases[1].replace(",", "")) > 0


def test_command_line_says_what_to_fix(new_pipeline, monkeypatch, capsys, tmp_path):
    pipeline = new_pipeline("segment")
    monkeypatch.setattr(pipelines, "make_pipeline", lambda *a, **k: pipeline)
    monkeypatch.setenv("DEVSIGNAL_SEGMENT_ARCHIVE_DIR", str(tmp_path / "nowhere"))
    assert main(["segment", "--pipeline-name", pipeline.pipeline_name]) == 2
    assert "DEVSIGNAL_SEGMENT_ARCHIVE_DIR=" in capsys.readouterr().err


def test_refresh_drops_the_views_built_on_the_raw_tables_and_reloads(sandbox_env, new_pipeline):
    """dbt's staging views depend on raw tables; a refresh must not fail on them (dbt recreates them)."""
    from devsignal import db
    from ingestion.pipelines import load

    pipeline = new_pipeline("pypi")
    first = load("pypi", pipeline=pipeline)
    view = f"{pipeline.dataset_name}_staging.releases_view"
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(f"create schema if not exists {pipeline.dataset_name}_staging")
        cur.execute(f"create view {view} as select * from {pipeline.dataset_name}.releases")
    again = load("pypi", pipeline=pipeline, refresh="drop_sources")
    assert again["releases"] == {"loaded": first["releases"]["total"], "total": first["releases"]["total"]}
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("select to_regclass(%s)", (view,))
        assert cur.fetchone() == (None,)
