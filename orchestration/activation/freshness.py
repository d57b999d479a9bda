"""Is each source fresh? Alerts that a stale or failed source would make wrong are blocked.

The Dagster ingestion assets record every load's outcome in `app.source_health`
(`record_success` / `record_failure`). A source is **stale** when its last load failed, or when its
last success is older than its limit (segment: when an inbox event has waited longer than its limit
since the last successful load, i.e. the loader is behind or broken). A source never loaded is not
stale: nothing downstream depends on it yet.

Without a health row (loads run outside Dagster, e.g. `devsignal load`), the newest completed dlt
load in `raw_<source>._dlt_loads` stands in for the last success.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text

# how old a source's last successful load may be; matches its schedule with slack for a late run
MAX_AGE: dict[str, timedelta] = {
    "npm": timedelta(hours=36),       # daily partitions
    "pypi": timedelta(hours=36),      # daily partitions
    "github": timedelta(hours=3),     # hourly
    "crm": timedelta(days=8),         # a drop folder: weekly exports are normal
    "segment": timedelta(minutes=15), # the fast path: an inbox event waiting longer means the loader broke
}


@dataclass(frozen=True)
class SourceState:
    source: str
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str | None
    stale_reason: str | None          # None = fresh (or never loaded)

    @property
    def stale(self) -> bool:
        return self.stale_reason is not None


def _check_source(source: str) -> None:
    if source not in MAX_AGE:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(MAX_AGE)}")


def record_success(connection, source: str, at: datetime | None = None) -> None:
    _check_source(source)
    connection.execute(
        text("""insert into app.source_health (source, last_success_at, max_age)
                values (:source, coalesce(cast(:at as timestamptz), now()), cast(:max_age as interval))
                on conflict (source) do update
                set last_success_at = excluded.last_success_at, max_age = excluded.max_age, updated_at = now()"""),
        {"source": source, "at": at, "max_age": f"{MAX_AGE[source].total_seconds()} seconds"})


def record_failure(connection, source: str, error: str, at: datetime | None = None) -> None:
    _check_source(source)
    connection.execute(
        text("""insert into app.source_health (source, last_failure_at, last_error, max_age)
                values (:source, coalesce(cast(:at as timestamptz), now()), :error, cast(:max_age as interval))
                on conflict (source) do update
                set last_failure_at = excluded.last_failure_at, last_error = excluded.last_error,
                    max_age = excluded.max_age, updated_at = now()"""),
        {"source": source, "at": at, "error": error[:2000],
         "max_age": f"{MAX_AGE[source].total_seconds()} seconds"})


def _last_dlt_load(connection, source: str) -> datetime | None:
    exists = connection.execute(text("select to_regclass(:name)"), {"name": f"raw_{source}._dlt_loads"}).scalar()
    if not exists:
        return None
    return connection.execute(text(f"select max(inserted_at) from raw_{source}._dlt_loads where status = 0")).scalar()


def _oldest_waiting_inbox_event(connection, since: datetime | None) -> datetime | None:
    return connection.execute(
        text("""select min(received_at) from intake.inbox
                where received_at > coalesce(cast(:since as timestamptz), '-infinity')"""),
        {"since": since}).scalar()


def source_states(connection, now: datetime | None = None) -> dict[str, SourceState]:
    """Every source's state, as of `now` (default: the database's clock)."""
    now = now or connection.execute(text("select now()")).scalar()
    health = {row.source: row for row in connection.execute(text("select * from app.source_health"))}
    states = {}
    for source, limit in MAX_AGE.items():
        row = health.get(source)
        success = row.last_success_at if row else None
        success = success or _last_dlt_load(connection, source)
        failure = row.last_failure_at if row else None
        error = row.last_error if row else None
        reason = None
        if failure is not None and (success is None or failure > success):
            reason = f"{source}: last load failed at {failure:%Y-%m-%d %H:%M} UTC ({(error or '').splitlines()[0][:200] if error else 'no detail'})"
        elif source == "segment":
            waiting = _oldest_waiting_inbox_event(connection, success)
            if waiting is not None and now - waiting > limit:
                reason = (f"segment: inbox events waiting {_age(now - waiting)} since the last load "
                          f"(limit {_age(limit)})")
        elif success is not None and now - success > limit:
            reason = f"{source}: last successful load {_age(now - success)} ago (limit {_age(limit)})"
        states[source] = SourceState(source, success, failure, error, reason)
    return states


def stale_sources(connection, now: datetime | None = None) -> dict[str, str]:
    """source -> why it is stale, for the stale ones only."""
    return {s.source: s.stale_reason for s in source_states(connection, now).values() if s.stale}


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds // 86400}d"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600}h"
    if seconds >= 120:
        return f"{seconds // 60}min"
    return f"{seconds}s"
