"""`devsignal` — the one command for people. Each subcommand is a thin wrapper."""

from __future__ import annotations

import sys

import click

from devsignal.console import console


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """DevSignal: which accounts are ready to buy, from what developers actually do."""
    from devsignal import settings

    settings.load_dotenv()


# ----------------------------------------------------------------------------- database
@main.group()
def db() -> None:
    """The PostgreSQL server (embedded unless DEVSIGNAL_DATABASE_URL is set)."""


@db.command("url")
@click.option("--database", default=None, help="Database name (default: devsignal; or dagster).")
def db_url(database: str | None) -> None:
    """Print the connection URL (starting the embedded server if needed): psql "$(devsignal db url)"."""
    from devsignal import db as database_

    click.echo(database_.connection().url(database))


@db.command("env")
def db_env() -> None:
    """Print `export …` lines for dbt's profile and libpq: eval "$(devsignal db env)"."""
    import os
    import shlex

    from devsignal import db as database_

    params = database_.connection()
    exported = {**params.libpq_env(), **{k: v for k, v in os.environ.items()
                                        if k.startswith("DEVSIGNAL_PG_") or k == "DAGSTER_HOME"}}
    for name, value in exported.items():
        click.echo(f"export {name}={shlex.quote(value)}")


@db.command("start")
def db_start() -> None:
    """Start the embedded server (idempotent) and create the databases."""
    from devsignal import db as database_

    params = database_.connection()
    console.print(f"PostgreSQL is up: {params.url()}")


@db.command("stop")
def db_stop() -> None:
    """Stop the embedded server."""
    from devsignal import db as database_

    console.print("stopped" if database_.stop_embedded() else "was not running")


# ----------------------------------------------------------------------------- demo world
@main.command()
@click.option("--seed", default=7, show_default=True)
@click.option("--companies", default=200, show_default=True)
@click.option("--people", default=2000, show_default=True)
@click.option("--days", default=90, show_default=True)
@click.option("--out", type=click.Path(), default=None, help="Folder (default: DEVSIGNAL_WORLD_DIR).")
def world(seed: int, companies: int, people: int, days: int, out: str | None) -> None:
    """Generate the demo world (deterministic for a seed)."""
    from devsignal import demo

    summary = demo.ensure_world(seed=seed, companies=companies, people=people, days=days, out=out, force=True)
    console.print(summary)


@main.command()
@click.option("--port", default=8765, show_default=True)
@click.option("--world-dir", type=click.Path(exists=True), default=None)
def sandbox(port: int, world_dir: str | None) -> None:
    """Serve the demo world through the real API shapes (foreground)."""
    from devsignal import demo

    demo.serve_sandbox_forever(port=port, world_dir=world_dir)


# ----------------------------------------------------------------------------- pipeline
@main.command()
@click.option("--seed", default=7, show_default=True)
@click.option("--companies", default=200, show_default=True)
@click.option("--people", default=2000, show_default=True)
@click.option("--days", default=90, show_default=True)
@click.option("--fresh", is_flag=True, help="Regenerate the world even if one with these knobs exists.")
def demo(seed: int, companies: int, people: int, days: int, fresh: bool) -> None:
    """World → sandbox → load every source → dbt build → scores, then the hottest accounts."""
    from devsignal import demo as demo_

    demo_.run_demo(seed=seed, companies=companies, people=people, days=days, fresh=fresh)


@main.command()
def run() -> None:
    """Materialise every asset once over your own settings (no demo world)."""
    from devsignal import pipeline

    pipeline.materialize_all()
    pipeline.print_hottest_accounts()


@main.command()
@click.argument("source", type=click.Choice(["npm", "pypi", "github", "segment", "crm"]))
def load(source: str) -> None:
    """Run one dlt source once and print what it loaded."""
    from devsignal import pipeline

    pipeline.load_one(source)


@main.command()
@click.option("--as-of", default=None, help="Score as of this day (default: 30 days before the world's end).")
@click.option("--horizon-days", default=30, show_default=True, help="Converts within this many days.")
def backtest(as_of: str | None, horizon_days: int) -> None:
    """Score quality of v1 vs v2 against the demo world's outcomes (AUC, precision@k, lift by tier)."""
    from devsignal import backtest as backtest_

    backtest_.print_backtest(as_of=as_of, horizon_days=horizon_days)


@main.command("import-crm")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "format_", type=click.Choice(["hubspot", "salesforce", "generic"]), default=None,
              help="Skip detection and read the file as this format.")
@click.option("--accept-new-columns", is_flag=True,
              help="Load a file whose columns changed since the last import (otherwise the load stops).")
def import_crm(file: str, format_: str | None, accept_new_columns: bool) -> None:
    """Load one CRM export: print what was detected, then loaded / updated / quarantined."""
    from ingestion.sources.crm.imports import import_file

    import_file(file, format_=format_, accept_new_columns=accept_new_columns)


@main.group()
def keys() -> None:
    """API keys for the intake API's custom events (`POST /v1/signals`)."""


@keys.command("create")
@click.option("--name", required=True)
@click.option("--scopes", default="write", show_default=True, help="Comma-separated: read, write.")
def keys_create(name: str, scopes: str) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from apps.api import keys as api_keys

    click.echo(api_keys.create_key(name, [s.strip() for s in scopes.split(",") if s.strip()]))


@keys.command("list")
def keys_list() -> None:
    """List keys (prefix, name, scopes, created, revoked) — never the secrets."""
    from apps.api import keys as api_keys

    api_keys.print_keys()


@keys.command("revoke")
@click.argument("prefix")
def keys_revoke(prefix: str) -> None:
    """Revoke a key by its prefix."""
    from apps.api import keys as api_keys

    api_keys.revoke_key(prefix)


@db.command("migrate")
def db_migrate() -> None:
    """Bring the app-owned schemas (`app`, `intake`) to the latest Alembic revision."""
    from apps import migrations

    migrations.upgrade()


@main.command()
@click.option("--no-sandbox", is_flag=True, help="Do not serve the demo world even if one exists.")
def up(no_sandbox: bool) -> None:
    """Start the Dagster webserver and daemon (and the sandbox) against the same database."""
    from devsignal import services

    services.up(with_sandbox=not no_sandbox)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
def api(host: str, port: int) -> None:
    """Start the intake API (FastAPI + uvicorn)."""
    import uvicorn

    uvicorn.run("apps.api.main:app", host=host, port=port, log_level="info")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8501, show_default=True)
def crm(host: str, port: int) -> None:
    """Start the Streamlit CRM."""
    import os

    from devsignal import services

    command = services.crm_command(host, port)
    os.execv(command[0], command)


@main.command("code-server")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=4000, show_default=True)
def code_server(host: str, port: int) -> None:
    """Serve the Dagster code location over gRPC (docker compose's `dagster-code`)."""
    import os

    from devsignal import pipeline, services

    pipeline.prepare_dbt()
    command = services.code_server_command(host, port)
    os.execv(command[0], command)


if __name__ == "__main__":
    sys.exit(main())
