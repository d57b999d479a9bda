"""Every DevSignal setting, read from the environment when asked for (never at import).

One place resolves the database: `DEVSIGNAL_DATABASE_URL` when set, otherwise the embedded
PostgreSQL under `<state dir>/pgdata` (see `devsignal.db`). Everything else — dlt's destination,
dbt's profile, Dagster's storage, SQLAlchemy — derives from `database_url()`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlparse

REPO_ROOT = Path(__file__).resolve().parent.parent

# name -> (default, description). `.env.example` and the README table are checked against this.
SETTINGS: dict[str, tuple[str, str]] = {
    "DEVSIGNAL_DATABASE_URL": ("", "PostgreSQL 15+ URL for the `devsignal` database; empty = the embedded server"),
    "DEVSIGNAL_HOME": (".devsignal", "state folder (embedded PostgreSQL data, demo world, local sinks), relative to the checkout"),
    "DEVSIGNAL_WORLD_DIR": ("", "the demo world folder; empty = <DEVSIGNAL_HOME>/world"),
    "DEVSIGNAL_NPM_API_URL": ("https://api.npmjs.org", "npm downloads API base URL"),
    "DEVSIGNAL_NPM_REGISTRY_URL": ("https://registry.npmjs.org", "npm registry base URL"),
    "DEVSIGNAL_PYPISTATS_URL": ("https://pypistats.org", "pypistats base URL"),
    "DEVSIGNAL_PYPI_URL": ("https://pypi.org", "PyPI JSON API base URL"),
    "DEVSIGNAL_GITHUB_API_URL": ("https://api.github.com", "GitHub REST API base URL"),
    "GITHUB_TOKEN": ("", "GitHub token (optional; raises the rate limit). Never logged"),
    "DEVSIGNAL_NPM_PACKAGES": ("", "comma-separated npm packages to track (e.g. @acme/sdk,acme-cli)"),
    "DEVSIGNAL_PYPI_PACKAGES": ("", "comma-separated PyPI packages to track"),
    "DEVSIGNAL_GITHUB_REPOS": ("", "comma-separated GitHub repositories to track (owner/name)"),
    "DEVSIGNAL_PYPI_FILE_DOWNLOADS_DIR": ("", "folder of Linehaul/BigQuery file_downloads exports (CSV, CSV.gz or Parquet); empty = none"),
    "DEVSIGNAL_HTTP_TIMEOUT": ("60", "read timeout in seconds of each upstream HTTP request"),
    "DEVSIGNAL_HTTP_MAX_ATTEMPTS": ("5", "attempts per upstream HTTP request before the run fails"),
    "DEVSIGNAL_HTTP_BACKOFF": ("1", "base wait in seconds between retries (×1, 2, 4, 8) when there is no Retry-After"),
    "DEVSIGNAL_CRM_DIR": ("", "folder of HubSpot / Salesforce CSV exports to load"),
    "DEVSIGNAL_SEGMENT_ARCHIVE_DIR": ("", "folder of Segment archive files (gzipped JSON lines) to load"),
    "DEVSIGNAL_SEGMENT_WRITE_KEYS": ("", "comma-separated Segment write keys the intake API accepts (HTTP Basic user). Never logged"),
    "DEVSIGNAL_SEGMENT_WEBHOOK_SECRET": ("", "shared secret of the Segment webhook destination (X-Signature HMAC-SHA1); empty = endpoint off. Never logged"),
    "DEVSIGNAL_INTERNAL_DOMAINS": ("", "comma-separated email domains of your own company (filtered as noise)"),
    "DEVSIGNAL_START_DATE": ("", "first day to backfill download series from (YYYY-MM-DD); empty = 90 days ago"),
    "DEVSIGNAL_SCORE_AS_OF": ("", "score as of this day (YYYY-MM-DD); empty = today. The demo sets the world's last day"),
    "DAGSTER_HOME": ("", "Dagster instance folder; empty = <DEVSIGNAL_HOME>/dagster"),
    "DEVSIGNAL_APP_URL": ("http://localhost:8501", "the CRM's public URL (links in Slack alerts and emails)"),
    "DEVSIGNAL_SLACK_BOT_TOKEN": ("", "Slack bot token (xoxb-...); empty = alerts go to the local sink. Never logged"),
    "DEVSIGNAL_SLACK_SIGNING_SECRET": ("", "Slack app signing secret (v0 HMAC of interactions); empty = /slack/interactions off. Never logged"),
    "DEVSIGNAL_SLACK_API_URL": ("https://slack.com/api/", "Slack Web API base URL"),
    "DEVSIGNAL_SLACK_DEFAULT_CHANNEL": ("#devsignal-alerts", "channel for alerts whose account has no owner channel"),
    "DEVSIGNAL_SLACK_HOT_COOLDOWN_HOURS": ("168", "hours before another HOT alert for the same account (unless it left HOT and came back)"),
    "DEVSIGNAL_SLACK_SINK_FILE": ("", "local sink for alerts when there is no token (JSON lines); empty = <DEVSIGNAL_HOME>/sinks/slack.jsonl"),
    "DEVSIGNAL_WEBHOOK_ALLOW_PRIVATE": ("", "comma-separated CIDRs outbound webhooks may reach despite the SSRF guard (tests, on-prem receivers)"),
    "DEVSIGNAL_CRM_OWNER_EMAIL": ("", "email of the CRM's first OWNER, created on first run; empty = owner@devsignal.local"),
    "DEVSIGNAL_CRM_OWNER_PASSWORD": ("", "password of that first OWNER; empty = one is generated and printed once. Never logged"),
}


def load_dotenv(path: Path | None = None) -> None:
    """Read `KEY=VALUE` lines from the checkout's `.env` into the environment (the environment wins)."""
    path = path or REPO_ROOT / ".env"
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        os.environ.setdefault(key.strip(), value.strip().strip('"').strip("'"))


def get(name: str) -> str:
    """The value of a known setting: the environment, else its default."""
    default, _ = SETTINGS[name]
    return os.environ.get(name, default).strip()


def get_list(name: str) -> list[str]:
    return [item.strip() for item in get(name).split(",") if item.strip()]


def home() -> Path:
    path = Path(get("DEVSIGNAL_HOME"))
    return path if path.is_absolute() else REPO_ROOT / path


def world_dir() -> Path:
    return Path(get("DEVSIGNAL_WORLD_DIR") or home() / "world")


def dagster_home() -> Path:
    return Path(get("DAGSTER_HOME") or home() / "dagster")


def dbt_project_dir() -> Path:
    return REPO_ROOT / "dbt_project"


@dataclass(frozen=True)
class PgParams:
    """A PostgreSQL URL taken apart, in the shape libpq, dbt and dlt each want."""

    host: str  # a hostname, or a unix-socket folder
    port: int
    user: str
    password: str
    dbname: str

    def url(self, dbname: str | None = None, driver: str = "postgresql") -> str:
        db = dbname or self.dbname
        auth = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        if self.host.startswith("/"):
            return f"{driver}://{auth}@/{db}?host={self.host}&port={self.port}"
        return f"{driver}://{auth}@{self.host}:{self.port}/{db}"

    def sqlalchemy_url(self, dbname: str | None = None) -> str:
        # spell the driver: a bare postgresql:// means psycopg 3 under SQLAlchemy 2.1
        return self.url(dbname, driver="postgresql+psycopg2")

    def libpq_env(self) -> dict[str, str]:
        return {"PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user,
                "PGPASSWORD": self.password, "PGDATABASE": self.dbname}


def parse_pg_url(url: str) -> PgParams:
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    host = query.get("host", [parsed.hostname or "localhost"])[0]
    port = int(query.get("port", [parsed.port or 5432])[0])
    return PgParams(
        host=unquote(host),
        port=port,
        user=unquote(parsed.username or "postgres"),
        password=unquote(parsed.password or ""),
        dbname=(parsed.path or "/devsignal").lstrip("/") or "devsignal",
    )
