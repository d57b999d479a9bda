"""`devsignal up`: the long-running services on one database, with their URLs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from devsignal import db, settings
from devsignal.console import console

DAGSTER_PORT = 3000
API_PORT = 8000
CRM_PORT = 8501
SANDBOX_PORT = 8765


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def service_commands() -> dict[str, list[str]]:
    """Each service's command line; docker-compose.yml runs the same ones."""
    workspace = str(settings.REPO_ROOT / "workspace.yaml")
    return {
        "dagster-webserver": [_bin("dagster-webserver"), "-w", workspace, "-h", "127.0.0.1",
                              "-p", str(DAGSTER_PORT)],
        "dagster-daemon": [_bin("dagster-daemon"), "run", "-w", workspace],
        "api": [_bin("devsignal"), "api", "--port", str(API_PORT)],
        "crm": crm_command("127.0.0.1", CRM_PORT),
    }


def crm_command(host: str, port: int) -> list[str]:
    app = str(settings.REPO_ROOT / "apps" / "crm" / "streamlit_app.py")
    return [_bin("streamlit"), "run", app, "--server.address", host, "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false"]


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def code_server_command(host: str, port: int) -> list[str]:
    return [_bin("dagster"), "api", "grpc", "-h", host, "-p", str(port),
            "-m", "orchestration.definitions", "-a", "defs", "-d", str(settings.REPO_ROOT)]


def up(with_sandbox: bool = True) -> None:
    """Start every service, print the URLs, wait; stop them all on Ctrl-C, SIGTERM or any one dying."""
    from devsignal import demo, pipeline

    params = db.connection()
    pipeline.prepare_dbt()
    # the CRM's first OWNER is made here, so a generated password reaches this console (once), not the CRM's log
    from apps import migrations
    from apps.state import members

    migrations.upgrade()
    owner_password = members.ensure_owner()
    env = dict(os.environ)
    processes: dict[str, subprocess.Popen] = {}
    urls = {"PostgreSQL": params.url()}
    world_dir = settings.world_dir()
    if with_sandbox and (world_dir / "meta.json").exists() and not settings.get("DEVSIGNAL_GITHUB_REPOS"):
        processes["sandbox"] = subprocess.Popen(
            [_bin("devsignal"), "sandbox", "--port", str(SANDBOX_PORT), "--world-dir", str(world_dir)],
            env=env, stdout=subprocess.DEVNULL)
        sandbox_url = f"http://127.0.0.1:{SANDBOX_PORT}"
        env.update(demo.sandbox_env(sandbox_url, world_dir))
        urls["Sandbox (demo APIs)"] = sandbox_url
    logs = settings.home() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for name, command in service_commands().items():
        log = open(logs / f"{name}.log", "ab")
        processes[name] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                           cwd=settings.REPO_ROOT)
    urls["Dagster UI"] = f"http://127.0.0.1:{DAGSTER_PORT}"
    urls["Intake API"] = f"http://127.0.0.1:{API_PORT}/docs"
    urls["CRM"] = f"http://127.0.0.1:{CRM_PORT}"
    for name, url in urls.items():
        console.print(f"  {name:<22} {url}")
    if owner_password is not None:
        email = settings.get("DEVSIGNAL_CRM_OWNER_EMAIL") or "owner@devsignal.local"
        console.print(f"  CRM first run: log in as [bold]{email}[/bold] with password [bold]{owner_password}[/bold] "
                      "(shown once; change it under Settings)")
    console.print(f"  logs in {logs}; Ctrl-C stops everything")
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)  # `kill` stops the children too
    try:
        while all(p.poll() is None for p in processes.values()):
            time.sleep(1)
        dead = [name for name, p in processes.items() if p.poll() is not None]
        console.print(f"[red]{', '.join(dead)} stopped; see {logs}[/red]")
    except KeyboardInterrupt:
        pass
    finally:
        for p in processes.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in processes.values():
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
