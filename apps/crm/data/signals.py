"""Signals explorer and package adoption reads.

Signals come from `marts.fct_signals` (person-level events, noise already left out), aggregated in
SQL. Package downloads are market signals, not account signals: they come from the npm / PyPI
staging models (no package mart exists yet; when one does, only these queries change).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from . import cached, query

_FILTER = """
    occurred_at >= cast(:start as date) and occurred_at < cast(:end as date) + 1
    and (cardinality(cast(:types as text[])) = 0 or signal_type = any(cast(:types as text[])))
    and (cardinality(cast(:sources as text[])) = 0 or source = any(cast(:sources as text[])))
    and (cast(:account_id as text) is null or account_id = :account_id)
"""


def _params(start: date, end: date, types: tuple[str, ...], sources: tuple[str, ...], account_id: str | None) -> dict:
    return {"start": start, "end": end, "types": list(types), "sources": list(sources), "account_id": account_id}


@cached(ttl=300)
def vocabulary() -> pd.DataFrame:
    """Each (source, signal_type) with its count: the filter choices."""
    frame = query("select source, signal_type, count(*) as signals from marts.fct_signals group by 1, 2 order by 3 desc")
    return frame if not frame.empty else pd.DataFrame(columns=["source", "signal_type", "signals"])


@cached(ttl=300)
def latest_day() -> date | None:
    frame = query("select max(occurred_on) as day from marts.fct_signals")
    return None if frame.empty or pd.isna(frame.day[0]) else frame.day[0]


@cached(ttl=300)
def accounts_with_signals() -> pd.DataFrame:
    frame = query("""select account_id, name || ' (' || domain || ')' as label from marts.dim_accounts
                     where count_signals > 0 order by count_signals desc""")
    return frame if not frame.empty else pd.DataFrame(columns=["account_id", "label"])


# constant SQL put together at import (the filters are bound parameters, never text)
_SUMMARY = """select count(*) as signals, count(distinct person_id) as people, count(distinct account_id) as accounts,
                     count(*) filter (where account_id is null) as unattributed
              from marts.fct_signals where""" + _FILTER
_BY_DAY = ("select occurred_on as day, signal_type, count(*) as signals from marts.fct_signals where"
           + _FILTER + "group by 1, 2 order by 1, 2")
_RECENT = """
    with matched as (
        select * from marts.fct_signals where""" + _FILTER + """
        order by occurred_at desc limit :limit
    )
    select m.occurred_at, m.signal_type, m.source, a.name as account, p.display_name as person, m.match_rule,
           m.unattributed_reason, m.properties::text as properties
    from matched m
    left join marts.dim_accounts a on a.account_id = m.account_id
    left join marts.dim_people p on p.person_id = m.person_id
    order by m.occurred_at desc
"""


@cached(ttl=120)
def summary(start: date, end: date, types: tuple[str, ...] = (), sources: tuple[str, ...] = (),
            account_id: str | None = None) -> dict:
    frame = query(_SUMMARY, **_params(start, end, types, sources, account_id))
    if frame.empty:
        return {"signals": 0, "people": 0, "accounts": 0, "unattributed": 0}
    return {key: int(value) for key, value in frame.iloc[0].items()}


@cached(ttl=120)
def by_day(start: date, end: date, types: tuple[str, ...] = (), sources: tuple[str, ...] = (),
           account_id: str | None = None) -> pd.DataFrame:
    """Signals per day and type (a long frame: day, signal_type, signals)."""
    frame = query(_BY_DAY, **_params(start, end, types, sources, account_id))
    return frame if not frame.empty else pd.DataFrame(columns=["day", "signal_type", "signals"])


@cached(ttl=120)
def recent(start: date, end: date, types: tuple[str, ...] = (), sources: tuple[str, ...] = (),
           account_id: str | None = None, limit: int = 500) -> pd.DataFrame:
    """The newest signals matching the filters, with the account and the person's name."""
    return query(_RECENT, limit=limit, **_params(start, end, types, sources, account_id))


# ---------------------------------------------------------------- package adoption

@cached(ttl=600)
def packages() -> pd.DataFrame:
    """Each tracked package: registry, name, first and last day with data, total downloads."""
    frame = query("""
        select 'npm' as registry, package_name, min(download_day) as first_day, max(download_day) as last_day,
               sum(count_downloads)::bigint as downloads
        from staging.stg_npm__downloads group by package_name
        union all
        select 'PyPI', package_name, min(download_day), max(download_day), sum(count_downloads)::bigint
        from staging.stg_pypi__downloads
        where breakdown_kind = 'overall' and breakdown_category = 'without_mirrors'
        group by package_name
        order by 1, 2
    """)
    return frame if not frame.empty else pd.DataFrame(columns=["registry", "package_name", "first_day", "last_day",
                                                               "downloads"])


@cached(ttl=600)
def daily_downloads(registry: str, package_name: str, start: date, end: date) -> pd.DataFrame:
    """Downloads per day (npm: the day's count; PyPI: overall with and without mirrors)."""
    if registry == "npm":
        frame = query("""select download_day as day, 'downloads' as series, count_downloads::bigint as downloads
                         from staging.stg_npm__downloads
                         where package_name = :package and download_day between :start and :end order by 1""",
                      package=package_name, start=start, end=end)
    else:
        frame = query("""select download_day as day, breakdown_category as series, count_downloads::bigint as downloads
                         from staging.stg_pypi__downloads
                         where package_name = :package and breakdown_kind = 'overall'
                           and download_day between :start and :end order by 1, 2""",
                      package=package_name, start=start, end=end)
    return frame if not frame.empty else pd.DataFrame(columns=["day", "series", "downloads"])


@cached(ttl=600)
def version_downloads(package_name: str) -> pd.DataFrame:
    """npm downloads per version over the last 7 days, as of each day the registry was read."""
    frame = query("""select week_end_day, package_version as version, count_downloads::bigint as downloads
                     from staging.stg_npm__version_downloads where package_name = :package
                     order by week_end_day desc, count_downloads desc, package_version desc""", package=package_name)
    return frame if not frame.empty else pd.DataFrame(columns=["week_end_day", "version", "downloads"])


@cached(ttl=600)
def pypi_breakdown(package_name: str, kind: str, start: date, end: date) -> pd.DataFrame:
    """PyPI downloads by python_major / python_minor / system over the range."""
    frame = query("""select breakdown_category as category, sum(count_downloads)::bigint as downloads
                     from staging.stg_pypi__downloads
                     where package_name = :package and breakdown_kind = :kind and download_day between :start and :end
                     group by 1 order by 2 desc""", package=package_name, kind=kind, start=start, end=end)
    return frame if not frame.empty else pd.DataFrame(columns=["category", "downloads"])
