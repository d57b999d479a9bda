"""A fresh `git clone` runs the demo end to end; a second run duplicates nothing.

This is what a newcomer does: clone, `make install` (uv from the lock; the package cache is
shared), `devsignal demo`. The clone has its own state folder, so its own embedded PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg2
import pytest

from devsignal.settings import REPO_ROOT, parse_pg_url

pytestmark = pytest.mark.slow

# Contract 3 (ingestion/README.md): every raw table and its primary key.
RAW_PRIMARY_KEYS = {
    "raw_npm.downloads": ["package", "day"],
    "raw_npm.version_downloads": ["package", "version", "day"],
    "raw_npm.versions": ["package", "version"],
    "raw_npm.packages": ["package"],
    "raw_pypi.downloads": ["package", "day", "kind", "category"],
    "raw_pypi.releases": ["package", "version"],
    "raw_github.stargazers": ["repo", "user_login"],
    "raw_github.forks": ["repo", "id"],
    "raw_github.issues": ["id"],
    "raw_github.pull_requests": ["id"],
    "raw_github.contributors": ["repo", "login"],
    "raw_github.releases": ["id"],
    "raw_github.users": ["login"],
    "raw_github.orgs": ["login"],
    "raw_segment.identifies": ["message_id"],
    "raw_segment.tracks": ["message_id"],
    "raw_segment.groups": ["message_id"],
    "raw_segment.pages": ["message_id"],
    "raw_crm.hubspot_contacts": ["record_id"],
    "raw_crm.hubspot_companies": ["record_id"],
    "raw_crm.hubspot_deals": ["record_id"],
    "raw_crm.salesforce_contacts": ["contact_id"],
    "raw_crm.salesforce_accounts": ["account_id"],
    "raw_crm.salesforce_opportunities": ["opportunity_id"],
}
DEMO_ARGS = ["--companies", "80", "--people", "800", "--days", "45"]


@pytest.fixture(scope="module")
def clone(server_tmp_root):
    """A clean clone of the committed repository, installed the way `make` does it."""
    folder = server_tmp_root / "clone" / "devsignal"
    subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(folder)], check=True)
    env = _env(folder)
    subprocess.run(["make", "install"], cwd=folder, env=env, check=True, capture_output=True, timeout=900)
    yield folder
    subprocess.run([str(folder / ".venv/bin/devsignal"), "db", "stop"], cwd=folder, env=env,
                   capture_output=True, timeout=120)


def _env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVSIGNAL_", "DAGSTER_", "VIRTUAL_ENV"))}
    env["DEVSIGNAL_HOME"] = str(folder / ".devsignal")
    env["PATH"] = f"{folder / '.venv/bin'}:{env.get('PATH', '')}"
    return env


def _demo(folder: Path) -> subprocess.CompletedProcess:
    result = subprocess.run([str(folder / ".venv/bin/devsignal"), "demo", *DEMO_ARGS], cwd=folder,
                            env=_env(folder), capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result


def _connect(folder: Path):
    url = subprocess.run([str(folder / ".venv/bin/devsignal"), "db", "url"], cwd=folder, env=_env(folder),
                         capture_output=True, text=True, check=True).stdout.strip()
    params = parse_pg_url(url)
    return psycopg2.connect(host=params.host, port=params.port, user=params.user, dbname=params.dbname)


def _raw_counts(conn) -> dict[str, tuple[int, int]]:
    """table -> (rows, distinct primary keys)."""
    counts = {}
    with conn.cursor() as cur:
        for table, key in RAW_PRIMARY_KEYS.items():
            columns = ", ".join(key)
            cur.execute(f"select count(*), count(distinct ({columns})) from {table}")
            counts[table] = cur.fetchone()
    return counts


@pytest.fixture(scope="module")
def first_run(clone):
    result = _demo(clone)
    with _connect(clone) as conn:
        return result, _raw_counts(conn)


def test_demo_loads_every_raw_table(first_run):
    _, counts = first_run
    empty = [table for table, (rows, _) in counts.items() if rows == 0]
    assert not empty, f"raw tables without rows: {empty}"


def test_primary_keys_are_unique(first_run):
    _, counts = first_run
    duplicated = {table: c for table, c in counts.items() if c[0] != c[1]}
    assert not duplicated


def test_marts_are_populated_and_scored(clone, first_run):
    with _connect(clone) as conn, conn.cursor() as cur:
        cur.execute("select count(*), count(distinct domain) from marts.dim_accounts")
        accounts, domains = cur.fetchone()
        cur.execute("select count(*), count(distinct account_id), count(distinct score_date) "
                    "from marts.fct_account_scores_daily where score_version = 'v2'")
        score_rows, scored_accounts, days = cur.fetchone()
        cur.execute("select tier, count(*) from marts.account_scores_current group by tier")
        tiers = dict(cur.fetchall())
    assert accounts >= 20 and domains >= 0.95 * accounts
    # an account identity knows only through a person with no signal and no CRM record has no score
    assert 0.9 * accounts <= scored_accounts <= accounts
    assert days >= 30 and score_rows == scored_accounts * days  # one row per account per day
    assert len(tiers) >= 2, tiers  # the world's intent spreads accounts over tiers


def test_demo_prints_the_hottest_accounts_and_next_steps(first_run):
    result, _ = first_run
    assert "Hottest accounts" in result.stdout
    assert "make up" in result.stdout


def test_second_run_duplicates_nothing(clone, first_run):
    _, before = first_run
    result = _demo(clone)
    assert "reusing the world" in result.stdout
    with _connect(clone) as conn:
        after = _raw_counts(conn)
    assert after == before
