"""Run the pipeline through Dagster from the command line: every asset, step by step, with progress."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

from devsignal import db, settings
from devsignal.console import console, step, table

SOURCES = ("npm", "pypi", "github", "segment", "crm")


def prepare_dbt() -> None:
    """Write dbt's manifest (Dagster reads it to build the dbt assets)."""
    db.connection()  # exports the DEVSIGNAL_PG_* variables profiles.yml reads
    project_dir = settings.dbt_project_dir()
    dbt = os.path.join(os.path.dirname(sys.executable), "dbt")
    from orchestration.defs.transform import vars_args

    result = subprocess.run(
        # the project's own target/ whatever DBT_TARGET_PATH says: that is where Dagster reads the manifest
        [dbt, "parse", "--project-dir", str(project_dir), "--profiles-dir", str(project_dir), "--quiet",
         "--target-path", str(project_dir / "target"), *vars_args()],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def _instance():
    from dagster import DagsterInstance

    db.connection()  # DAGSTER_HOME and the storage URL
    return DagsterInstance.get()


@contextmanager
def _output_to(log_path: Path):
    """Send a step's own chatter (dbt's stream, dlt's warnings) to a log file; show its tail on failure."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log, redirect_stdout(log), redirect_stderr(log):
        handler = logging.StreamHandler(log)
        logging.getLogger().addHandler(handler)
        saved = _mute_stream_handlers()
        try:
            yield
        except BaseException:
            log.flush()
            console.print(f"[red]{log_path.read_text()[-3000:]}[/red]")
            raise
        finally:
            logging.getLogger().removeHandler(handler)
            for handler_, level in saved:
                handler_.setLevel(level)


def _mute_stream_handlers() -> list:
    """Library loggers bound to the terminal at import (dlt's) are muted for the step."""
    saved = []
    for logger in [logging.getLogger(), *[logging.getLogger(n) for n in logging.root.manager.loggerDict]]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and getattr(handler, "stream", None) in (
                    sys.__stdout__, sys.__stderr__):
                saved.append((handler, handler.level))
                handler.setLevel(logging.CRITICAL + 1)
    return saved


def materialize_all() -> None:
    """Each source, then the dbt project, as Dagster runs recorded in the `dagster` database."""
    from dagster import AssetSelection, materialize

    logs = settings.home() / "logs"
    with step("Migrating app schemas, preparing dbt, loading the Dagster definitions"):
        from apps import migrations

        migrations.upgrade()  # app.* and intake.* exist before anything reads them
        prepare_dbt()
        from orchestration.definitions import defs

        assets = list(defs.assets)
        resources = defs.resources
        instance = _instance()
    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    for source in SOURCES:
        with step(f"Loading {source}"):
            with _output_to(logs / f"load-{source}.log"):
                result = materialize(assets, selection=AssetSelection.groups("ingestion")
                                     & AssetSelection.key_prefixes(["raw", source]),
                                     resources=resources, instance=instance, run_config=quiet,
                                     tags={"devsignal/step": f"load-{source}"})
            if not result.success:
                raise RuntimeError(f"loading {source} failed; see {logs / f'load-{source}.log'}")
            _print_load_counts(source)
    with step("dbt build (staging → intermediate → marts, with tests)"):
        log_path = logs / "dbt-build.log"
        with _output_to(log_path):
            result = materialize(assets, selection=AssetSelection.all() - AssetSelection.groups("ingestion", "activation"),
                                 resources=resources, instance=instance, run_config=quiet,
                                 tags={"devsignal/step": "dbt-build"})
        summary = next((line.strip() for line in reversed(log_path.read_text().splitlines())
                        if "Done. PASS=" in line), "")
        console.print(f"    {summary}  [dim](log: {log_path})[/dim]")
        if not result.success:
            raise RuntimeError(f"dbt build failed; see {log_path}")
    with step("Acting on what changed (workflows, Slack alerts, webhooks)"):
        log_path = logs / "activation.log"
        with _output_to(log_path):
            result = materialize(assets, selection=AssetSelection.groups("activation"), resources=resources,
                                 instance=instance, run_config=quiet, tags={"devsignal/step": "activation"})
        if not result.success:
            raise RuntimeError(f"acting failed; see {log_path}")
        _print_activation_summary()


def _print_activation_summary() -> None:
    """What the outbox holds by kind and status, the workflow runs, and where alerts went."""
    import sqlalchemy as sa

    with db.engine().connect() as conn:
        outbox = conn.execute(sa.text(
            "select kind, status, count(*) from app.outbox group by kind, status order by kind, status")).all()
        runs = conn.execute(sa.text(
            "select status, count(*) from app.workflow_runs group by status order by status")).all()
    console.print("    outbox: " + (", ".join(f"{kind} {status} {count:,}" for kind, status, count in outbox) or "empty"))
    console.print("    workflow runs: " + (", ".join(f"{status} {count:,}" for status, count in runs) or "none"))
    if not settings.get("DEVSIGNAL_SLACK_BOT_TOKEN"):
        sink = settings.get("DEVSIGNAL_SLACK_SINK_FILE") or str(settings.home() / "sinks" / "slack.jsonl")
        console.print(f"    [dim]no Slack token: alerts are in the local sink {sink}[/dim]")


def _print_load_counts(source: str) -> None:
    import sqlalchemy as sa

    with db.engine().connect() as conn:
        tables = conn.execute(sa.text(
            "select table_name from information_schema.tables where table_schema = :schema "
            "and table_name not like '\\_dlt%' order by table_name"), {"schema": f"raw_{source}"}).scalars().all()
        counts = [(name, conn.execute(sa.text(f'select count(*) from raw_{source}."{name}"')).scalar())
                  for name in tables]
    console.print("    " + ", ".join(f"{name} {count:,}" for name, count in counts))


def load_one(source: str) -> None:
    from ingestion import pipelines

    with step(f"Loading {source}"):
        pipelines.load(source)
    _print_load_counts(source)


def print_hottest_accounts(limit: int = 15) -> None:
    import sqlalchemy as sa

    query = sa.text("""
        select a.name, a.domain, s.tier, s.score, s.factors
        from marts.account_scores_current s
        join marts.dim_accounts a using (account_id)
        order by s.score desc, a.domain
        limit :limit
    """)
    with db.engine().connect() as conn:
        rows = conn.execute(query, {"limit": limit}).all()
        tiers = conn.execute(sa.text(
            "select tier, count(*) from marts.account_scores_current group by tier")).all()
    table(
        f"Hottest accounts ({', '.join(f'{t} {n}' for t, n in sorted(tiers))})",
        ["account", "domain", "tier", "score", "top factors"],
        [[name, domain, tier, score, _top_factors(factors)] for name, domain, tier, score, factors in rows],
        justify_right={"score"},
    )


FACTOR_LABELS = {"user_count": "users", "usage_velocity": "velocity", "feature_breadth": "breadth",
                 "engagement_recency": "recency", "seniority_signals": "seniority", "firmographic_fit": "fit"}


def _top_factors(factors) -> str:
    """The three factors that gave the most points, e.g. `user_count 25 · feature_breadth 20 · …`."""
    if not factors:
        return ""
    items = factors.items() if isinstance(factors, dict) else [(f["name"], f) for f in factors]
    points = sorted(((name, (f.get("points") if isinstance(f, dict) else f) or 0) for name, f in items),
                    key=lambda item: -item[1])
    return " · ".join(f"{FACTOR_LABELS.get(name, name)} {value:g}" for name, value in points[:3])
