"""The embedded PostgreSQL: idempotent start, stale pid files, broken data folders, both databases.

Each case runs `devsignal db …` in a subprocess with its own DEVSIGNAL_HOME, as a person would.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest

from devsignal.settings import parse_pg_url

DEVSIGNAL = str(Path(sys.executable).parent / "devsignal")


def run_cli(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEVSIGNAL_HOME": str(home)}
    env.pop("DEVSIGNAL_DATABASE_URL", None)
    result = subprocess.run([DEVSIGNAL, *args], env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def postmaster_pid(home: Path) -> int:
    return int((home / "pgdata" / "postmaster.pid").read_text().splitlines()[0])


@pytest.fixture
def home(server_tmp_root, request):
    state = server_tmp_root / request.node.name / "state"
    state.parent.mkdir()
    yield state
    run_cli(state, "db", "stop", check=False)


def test_db_url_starts_the_server_and_creates_both_databases(home):
    url = run_cli(home, "db", "url").stdout.strip()
    params = parse_pg_url(url)
    with psycopg2.connect(host=params.host, port=params.port, user=params.user, dbname="postgres") as conn:
        with conn.cursor() as cur:
            cur.execute("select datname from pg_database order by 1")
            names = {row[0] for row in cur.fetchall()}
    assert {"devsignal", "dagster"} <= names
    assert run_cli(home, "db", "url", "--database", "dagster").stdout.strip().startswith("postgresql://")


def test_starting_twice_reuses_the_running_server(home):
    first = run_cli(home, "db", "url").stdout
    pid = postmaster_pid(home)
    assert run_cli(home, "db", "url").stdout == first
    assert postmaster_pid(home) == pid


def test_a_stale_pid_file_after_a_crash_is_recovered_without_losing_data(home):
    url = run_cli(home, "db", "url").stdout.strip()
    params = parse_pg_url(url)
    with psycopg2.connect(host=params.host, port=params.port, user=params.user, dbname="devsignal") as conn:
        with conn.cursor() as cur:
            cur.execute("create table survivor (id int); insert into survivor values (42)")
    os.kill(postmaster_pid(home), signal.SIGKILL)  # the pid file stays behind
    time.sleep(0.5)
    assert (home / "pgdata" / "postmaster.pid").exists()
    url = run_cli(home, "db", "url").stdout.strip()
    params = parse_pg_url(url)
    with psycopg2.connect(host=params.host, port=params.port, user=params.user, dbname="devsignal") as conn:
        with conn.cursor() as cur:
            cur.execute("select id from survivor")
            assert cur.fetchone() == (42,)


def test_a_folder_that_is_not_a_data_folder_is_refused_not_reinitialised(home):
    pgdata = home / "pgdata"
    pgdata.mkdir(parents=True)
    (pgdata / "precious.txt").write_text("do not delete")
    result = run_cli(home, "db", "url", check=False)
    assert result.returncode != 0
    assert "not a PostgreSQL data folder" in result.stderr + result.stdout
    assert (pgdata / "precious.txt").read_text() == "do not delete"
    assert not (pgdata / "PG_VERSION").exists()


def test_stop_then_start_again(home):
    run_cli(home, "db", "url")
    assert "stopped" in run_cli(home, "db", "stop").stdout
    assert "was not running" in run_cli(home, "db", "stop").stdout
    run_cli(home, "db", "url")
