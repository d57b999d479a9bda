"""`devsignal demo`: the whole product on a generated world, served through the real API shapes."""

from __future__ import annotations

import json
import os
from pathlib import Path

from devsignal import db, pipeline, settings
from devsignal.console import console, step


def _world_is_current(world_dir: Path, **knobs) -> bool:
    meta = world_dir / "meta.json"
    if not meta.exists():
        return False
    written = json.loads(meta.read_text())
    return all(written.get(name) == value for name, value in knobs.items())


def ensure_world(seed: int, companies: int, people: int, days: int, out: str | None = None,
                 force: bool = False) -> str:
    """Generate the world unless one with the same knobs is already there (a rerun is fast)."""
    from ingestion import world

    world_dir = Path(out) if out else settings.world_dir()
    knobs = {"seed": seed, "companies": companies, "people": people, "days": days}
    if not force and _world_is_current(world_dir, **knobs):
        return f"reusing the world in {world_dir} (seed {seed}, {companies} companies, {days} days)"
    summary = world.generate(world_dir, seed=seed, companies=companies, people=people, days=days)
    return f"generated {summary}"


def sandbox_env(sandbox_url: str, world_dir: Path) -> dict[str, str]:
    """The settings that point every connector at the sandbox and at the world's files."""
    from ingestion.sandbox.server import PREFIXES

    meta = json.loads((world_dir / "meta.json").read_text())
    urls = {setting: f"{sandbox_url}/{prefix}" for prefix, (_, setting) in PREFIXES.items() if setting}
    return {
        **urls,
        "DEVSIGNAL_NPM_PACKAGES": ",".join(meta["npm_packages"]),
        "DEVSIGNAL_PYPI_PACKAGES": ",".join(meta["pypi_packages"]),
        "DEVSIGNAL_GITHUB_REPOS": ",".join(meta["github_repos"]),
        "DEVSIGNAL_CRM_DIR": str(world_dir / "crm"),
        "DEVSIGNAL_SEGMENT_ARCHIVE_DIR": str(world_dir / "segment" / "archive"),
        "DEVSIGNAL_INTERNAL_DOMAINS": meta["vendor"]["domain"],
        "DEVSIGNAL_START_DATE": meta["start_date"],
        "DEVSIGNAL_SCORE_AS_OF": meta["end_date"],
    }


def run_demo(seed: int = 7, companies: int = 200, people: int = 2000, days: int = 90,
             fresh: bool = False) -> None:
    from ingestion import sandbox

    with step("Starting PostgreSQL"):
        params = db.connection()
    console.print(f"  [dim]{params.url()}[/dim]")
    with step("Demo world"):
        console.print(f"  {ensure_world(seed, companies, people, days, force=fresh)}")
    world_dir = settings.world_dir()
    with sandbox.serve(world_dir) as server:
        console.print(f"  [dim]sandbox serving the world's APIs at {server.url}[/dim]")
        os.environ.update(sandbox_env(server.url, world_dir))
        pipeline.materialize_all()
    pipeline.print_hottest_accounts()
    console.print(
        "\n[bold]Next[/bold]\n"
        "  make up                      Dagster UI (lineage, runs, schedules, sensors), the CRM and the intake API\n"
        "  psql \"$(.venv/bin/devsignal db url)\"   then: select * from marts.account_scores_current order by score desc;\n"
        "  .venv/bin/devsignal load github   run one source on its own\n"
        "  make test                     the whole suite on the embedded PostgreSQL\n"
    )


def serve_sandbox_forever(port: int, world_dir: str | None) -> None:
    import time

    from ingestion import sandbox

    folder = Path(world_dir) if world_dir else settings.world_dir()
    with sandbox.serve(folder, port=port) as server:
        console.print(f"sandbox serving {folder} at {server.url} (Ctrl-C stops)")
        for name, value in sandbox_env(server.url, folder).items():
            console.print(f"  {name}={value}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
