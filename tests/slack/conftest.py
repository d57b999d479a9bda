"""Slack tests: a database of their own (`devsignal_slack_test`) with a small hand-written marts
world, the fake Slack Web API (`ingestion/sandbox/slack.py`) on loopback, and real uvicorn
processes serving the intake API for the button tests."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import text

from devsignal import settings
from ingestion.sandbox.slack import serve_fake_slack

SIGNING_SECRET = "test-slack-signing-secret"
BOT_TOKEN = "xoxb-test-token"
DEFAULT_CHANNEL = "#devsignal-alerts"
CHANNELS = ["devsignal-alerts", "ana-accounts", "ops", "bulk", "crash"]
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

# accounts: id, name, domain, score, tier, trend, owner (member email or None)
ACCOUNTS = [
    ("acct-acme", "Acme Rockets", "acme.io", 91, "HOT", "RISING"),
    ("acct-globex", "Globex", "globex.com", 84, "HOT", "STABLE"),
    ("acct-initech", "Initech", "initech.com", 55, "WARM", "FALLING"),
    ("acct-evil", "<!channel> & <https://evil.example|Bank> Co", "evil.example", 88, "HOT", "RISING"),
    ("acct-hooli", "Hooli", "hooli.xyz", 70, "WARM", "STABLE"),  # claimed from Slack in the API tests
]
PEOPLE = [  # person_id, display_name, title, email, account_id, first_seen_at
    ("p-ada", "Ada Lovelace", "CTO", "ada@acme.io", "acct-acme", NOW - dt.timedelta(days=2)),
    ("p-bob", "Bob <b>", "Engineer", "bob@acme.io", "acct-acme", NOW - dt.timedelta(days=20)),
    ("p-gil", "Gil Globex", "VP Engineering", "gil@globex.com", "acct-globex", NOW - dt.timedelta(days=40)),
]
FACTORS = [
    {"name": "user_count", "points": 6.7, "max_points": 10, "description": "4 people active in the window"},
    {"name": "usage_velocity", "points": 25.0, "max_points": 25, "description": "363.9 decayed signals per active person"},
    {"name": "feature_breadth", "points": 40.0, "max_points": 40, "description": "Breadth 10.3 per top person"},
    {"name": "engagement_recency", "points": 9.9, "max_points": 10, "description": "Last signal 0 days ago"},
    {"name": "seniority_signals", "points": 5.0, "max_points": 5, "description": "2 active people with a senior title"},
    {"name": "firmographic_fit", "points": 8.0, "max_points": 10, "description": "Company size: STARTUP"},
]

MARTS_DDL = """
create schema if not exists marts;
create table marts.dim_accounts (account_id text, domain text, name text, size_band text, industry text);
create table marts.dim_people (person_id text, display_name text, full_name text, title text, primary_email text,
    github_login text, account_id text, is_anonymous boolean, first_seen_at timestamptz);
create table marts.fct_signals (signal_id text, person_id text, account_id text, signal_type text,
    occurred_at timestamptz);
create table marts.account_scores_current (account_id text, domain text, name text, score_date date, score integer,
    tier text, trend text, reason text, factors jsonb, evidence_signal_ids jsonb, count_signals_30d integer,
    count_signals_window integer);
create table marts.fct_account_tier_changes (account_id text, scored_at timestamptz, from_tier text, to_tier text);
"""


def _seed_marts(engine) -> None:
    with engine.begin() as conn:
        for statement in MARTS_DDL.split(";"):
            if statement.strip():
                conn.execute(text(statement))
        for account_id, name, domain, score, tier, trend in ACCOUNTS:
            conn.execute(text("insert into marts.dim_accounts values (:id, :domain, :name, 'STARTUP', 'Software')"),
                         {"id": account_id, "domain": domain, "name": name})
            conn.execute(text("""insert into marts.account_scores_current values
                                 (:id, :domain, :name, :day, :score, :tier, :trend, :reason, cast(:factors as jsonb),
                                  cast(:evidence as jsonb), :count_30d, 300)"""),
                         {"id": account_id, "domain": domain, "name": name, "day": NOW.date(), "score": score,
                          "tier": tier, "trend": trend, "factors": json.dumps(FACTORS),
                          "reason": f"score {score} (intent 90, fit 80): 4 active people",
                          # Globex is scored by v2, which counts its window instead of 30 days
                          "count_30d": None if account_id == "acct-globex" else 120,
                          "evidence": json.dumps([f"s-{account_id}-1", f"s-{account_id}-2"])})
        for person_id, display, title, email, account_id, first_seen in PEOPLE:
            conn.execute(text("""insert into marts.dim_people values (:id, :display, :display, :title, :email, null,
                                 :account, false, :first_seen)"""),
                         {"id": person_id, "display": display, "title": title, "email": email, "account": account_id,
                          "first_seen": first_seen})
        conn.execute(text("""insert into marts.fct_signals values
            ('s-acct-acme-1', 'p-ada', 'acct-acme', 'trial_started', :t1),
            ('s-acct-acme-2', 'p-bob', 'acct-acme', 'teammate_invited', :t2),
            ('s-acct-globex-1', 'p-gil', 'acct-globex', 'pricing_viewed', :t1),
            ('s-old', 'p-gil', 'acct-globex', 'docs_viewed', :old)"""),
                     {"t1": NOW - dt.timedelta(hours=3), "t2": NOW - dt.timedelta(days=1),
                      "old": NOW - dt.timedelta(days=30)})


def _seed_members() -> None:
    from apps.state import Actor, members

    admin = Actor.system("tests")
    for email, name, role, slack_user, channel in [
        ("ana@vendor.dev", "Ana Owner", "MEMBER", "U_ANA", "#ana-accounts"),
        ("vic@vendor.dev", "Vic Viewer", "VIEWER", "U_VIC", None),
        ("noc@vendor.dev", "No Channel", "MEMBER", "U_NOC", None),
    ]:
        members.invite_member(admin, email, role, display_name=name)
        members.set_slack(admin, email, slack_user_id=slack_user, slack_channel=channel)


@pytest.fixture(scope="package")
def slack_database(own_database_factory):
    from apps import state
    from apps.state import Actor, deals

    with own_database_factory("devsignal_slack_test") as url:
        _seed_marts(state.engine())
        _seed_members()
        deals.assign_owner(Actor.system("tests"), "acct-acme", "ana@vendor.dev")
        yield url


@pytest.fixture(scope="package")
def fake_slack():
    with serve_fake_slack(channels=CHANNELS, tokens=[BOT_TOKEN]) as fake:
        yield fake


@pytest.fixture
def slack_env(slack_database, fake_slack, monkeypatch, tmp_path):
    """Alerts go to the fake Slack; the fake starts empty."""
    monkeypatch.setenv("DEVSIGNAL_SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("DEVSIGNAL_SLACK_API_URL", fake_slack.api_url)
    monkeypatch.setenv("DEVSIGNAL_SLACK_DEFAULT_CHANNEL", DEFAULT_CHANNEL)
    monkeypatch.setenv("DEVSIGNAL_APP_URL", "http://crm.test")
    monkeypatch.setenv("DEVSIGNAL_SLACK_SINK_FILE", str(tmp_path / "must-not-be-used.jsonl"))
    fake_slack.clear()
    yield fake_slack
    fake_slack.clear()


def sql(query: str, **params):
    from apps import state

    with state.engine().begin() as conn:
        result = conn.execute(text(query), params)
        return [dict(r._mapping) for r in result] if result.returns_rows else []


# -- the intake API in a real uvicorn ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Api:
    url: str
    process: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_api(log_path: Path, database_url: str, **env: str) -> Api:
    port = free_port()
    environment = {**os.environ, "DEVSIGNAL_DATABASE_URL": database_url, **env}
    with open(log_path, "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "uvicorn", "apps.api.main:app", "--host", "127.0.0.1",
                                    "--port", str(port), "--log-level", "warning"],
                                   cwd=settings.REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    api = Api(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited:\n{log_path.read_text()[-3000:]}")
        try:
            if requests.get(f"{api.url}/health", timeout=2).status_code == 200:
                return api
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    api.stop()
    raise RuntimeError(f"the API did not start:\n{log_path.read_text()[-3000:]}")


@pytest.fixture(scope="package")
def slack_api(slack_database, fake_slack, tmp_path_factory):
    api = start_api(tmp_path_factory.mktemp("slack-api") / "api.log", slack_database,
                    DEVSIGNAL_SLACK_SIGNING_SECRET=SIGNING_SECRET)
    yield api
    api.stop()


def signed(body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict:
    """Slack's headers for `body`: v0 HMAC-SHA256 over `v0:{ts}:{body}` (computed here by hand)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded"}


def click_body(action_id: str, account_id: str, *, user: str = "U_ANA", trigger_id: str | None = None,
               response_url: str, action_ts: str | None = None) -> bytes:
    """A block_actions payload as Slack sends it for a button on one of our alerts."""
    action_ts = action_ts or f"{time.time():.6f}"
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T0DEVSIG"},
        "api_app_id": "A0DEVAPP", "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0ALERTS", "is_ephemeral": False},
        "trigger_id": trigger_id or f"{time.time_ns()}.{action_id}",
        "team": {"id": "T0DEVSIG", "domain": "devsignal"},
        "channel": {"id": "C0ALERTS", "name": "devsignal-alerts"},
        "message": {"type": "message", "text": "alert", "ts": "1700000000.000100"},
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": f"account_actions:{account_id}", "value": account_id,
                     "type": "button", "action_ts": action_ts, "text": {"type": "plain_text", "text": action_id}}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def wait_for(condition, timeout: float = 15.0, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")
