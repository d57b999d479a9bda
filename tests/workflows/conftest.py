"""A database of our own with the app migrations, plus the few mart tables the trigger readers use.

The marts here are plain tables with the real column names (the subset events.py reads), filled
per test with the rows a test needs; dbt is not run for these tests.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from apps import state
from apps.state import Actor

ADMIN = Actor("ada@vendor.dev", "ADMIN")
MEMBER = Actor("mia@vendor.dev", "MEMBER")

MARTS = """
create schema if not exists marts;
create table marts.fct_signals (signal_id text primary key, person_id text, account_id text, signal_type text,
    source text, source_event text, properties jsonb, account_domain text, occurred_at timestamptz);
create table marts.dim_people (person_id text primary key, display_name text, full_name text, title text,
    primary_email text, github_login text, is_anonymous boolean, account_id text, account_domain text,
    is_bot boolean, is_internal boolean, is_test_account boolean, first_seen_at timestamptz);
create table marts.dim_accounts (account_id text primary key, domain text, name text);
create table marts.fct_account_tier_changes (tier_change_id text primary key, account_score_id text,
    account_id text, score_version text, score_date date, scored_at timestamptz, from_tier text, to_tier text,
    direction text, score integer, previous_score integer, reason text);
create table marts.fct_account_scores_daily (account_score_id text primary key, count_signals_30d integer,
    count_users_30d integer, count_signals_window integer, count_active_people integer);
create table marts.account_scores_current (account_id text primary key, score_version text);
"""
APP_TABLES = ("app.workflow_runs", "app.workflows", "app.outbox", "app.account_tags", "app.deal_stage_history",
              "app.deals", "app.audit_log")
MART_TABLES = ("marts.fct_signals", "marts.dim_people", "marts.dim_accounts", "marts.fct_account_tier_changes",
               "marts.fct_account_scores_daily", "marts.account_scores_current")


@pytest.fixture(scope="package", autouse=True)
def database(own_database_factory):
    with own_database_factory("devsignal_workflows_test") as url:
        with state.engine().begin() as connection:
            connection.exec_driver_sql(MARTS)
        yield url


@pytest.fixture(autouse=True)
def clean_tables(database):
    with state.engine().begin() as connection:
        connection.execute(text(f"truncate {', '.join(APP_TABLES + MART_TABLES)} restart identity cascade"))
    yield


def sql(query: str, **params) -> list[dict]:
    with state.engine().begin() as connection:
        result = connection.execute(text(query), params)
        return [dict(row._mapping) for row in result] if result.returns_rows else []


def insert(table: str, **row) -> None:
    columns = ", ".join(row)
    values = ", ".join(f"cast(:{key} as jsonb)" if isinstance(value, (dict, list)) else f":{key}"
                       for key, value in row.items())
    sql(f"insert into {table} ({columns}) values ({values})",
        **{key: json.dumps(value) if isinstance(value, (dict, list)) else value for key, value in row.items()})


def add_account(account_id="acme", domain="acme.dev", name="Acme"):
    insert("marts.dim_accounts", account_id=account_id, domain=domain, name=name)


def add_signal(signal_id="s1", account_id="acme", signal_type="signup", properties=None,
               occurred_at="2026-11-20T10:00:00Z", person_id="p1"):
    insert("marts.fct_signals", signal_id=signal_id, person_id=person_id, account_id=account_id,
           signal_type=signal_type, source="segment", source_event=signal_type.title(),
           properties=properties or {}, account_domain=f"{account_id}.dev" if account_id else None,
           occurred_at=occurred_at)


def add_person(person_id="p1", account_id="acme", first_seen_at="2026-11-20T10:00:00Z", is_anonymous=False,
               email="dev@acme.dev"):
    insert("marts.dim_people", person_id=person_id, display_name=email or person_id, full_name="Dev One",
           title="Staff Engineer", primary_email=email, github_login="devone", is_anonymous=is_anonymous,
           account_id=account_id, account_domain=f"{account_id}.dev" if account_id else None, is_bot=False,
           is_internal=False, is_test_account=False, first_seen_at=first_seen_at)


def add_tier_change(tier_change_id="t1", account_id="acme", from_tier="WARM", to_tier="HOT", score=82,
                    previous_score=61, scored_at="2026-11-20T00:00:00Z", version="v2"):
    insert("marts.fct_account_tier_changes", tier_change_id=tier_change_id, account_score_id=tier_change_id,
           account_id=account_id, score_version=version, score_date=scored_at[:10], scored_at=scored_at,
           from_tier=from_tier, to_tier=to_tier, direction="UPGRADE" if score > previous_score else "DOWNGRADE",
           score=score, previous_score=previous_score, reason=f"score {score}")
    # the live score version (v2) fills the window counts, v1 the 30-day ones
    insert("marts.fct_account_scores_daily", account_score_id=tier_change_id, count_signals_window=40,
           count_active_people=3)
    sql("insert into marts.account_scores_current values (:a, 'v2') on conflict do nothing", a=account_id)


def runs() -> list[dict]:
    return sql("select r.*, w.name from app.workflow_runs r join app.workflows w using (workflow_id) order by run_id")


def outbox_rows(kind: str | None = None) -> list[dict]:
    return sql("select * from app.outbox where :kind is null or kind = :kind order by outbox_id", kind=kind)


def drain_workflows(rounds: int = 10) -> None:
    """Run queued workflow actions until none is left (Slack/webhook rows stay queued: other owners)."""
    from orchestration.activation import outbox

    for _ in range(rounds):
        if outbox.drain(kinds=("workflow_action",))["claimed"] == 0:
            return
    raise AssertionError("workflow actions still queued after 10 drains")
