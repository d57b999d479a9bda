"""Home: what changed on the latest score date, my accounts, and how fresh each source is."""

from __future__ import annotations

import pandas as pd

from . import cached, query

# one literal statement per source (schemas cannot be bound parameters, and no SQL is formatted)
FRESHNESS_SQL = {
    "npm": "select max(inserted_at) as last_load_at, count(*) as loads from raw_npm._dlt_loads where status = 0",
    "pypi": "select max(inserted_at) as last_load_at, count(*) as loads from raw_pypi._dlt_loads where status = 0",
    "github": "select max(inserted_at) as last_load_at, count(*) as loads from raw_github._dlt_loads where status = 0",
    "segment": "select max(inserted_at) as last_load_at, count(*) as loads from raw_segment._dlt_loads where status = 0",
    "crm": "select max(inserted_at) as last_load_at, count(*) as loads from raw_crm._dlt_loads where status = 0",
}


@cached(ttl=60)
def latest_score_date():
    frame = query("select max(score_date) as score_date from marts.account_scores_current")
    return None if frame.empty else frame.iat[0, 0]


@cached(ttl=60)
def new_hot_accounts() -> pd.DataFrame:
    """Accounts that became HOT on the latest score date."""
    return query("""
        select c.account_id, c.name, c.domain, c.score, t.from_tier, t.reason
        from marts.fct_account_tier_changes t
        join marts.account_scores_current c on c.account_id = t.account_id and c.score_version = t.score_version
        where t.score_date = c.score_date and t.to_tier = 'HOT' and c.tier = 'HOT'
          and not exists (select 1 from app.account_suppressions x where x.account_id = c.account_id)
        order by c.score desc""")


@cached(ttl=60)
def tier_changes(days: int = 7, limit: int = 500) -> pd.DataFrame:
    return query("""
        select t.score_date, a.name, a.domain, t.from_tier, t.to_tier, t.direction, t.score, t.score_change, t.account_id
        from marts.fct_account_tier_changes t
        join marts.dim_accounts a on a.account_id = t.account_id
        where t.score_date > (select max(score_date) from marts.fct_account_tier_changes) - :days
          and not exists (select 1 from app.account_suppressions x where x.account_id = t.account_id)
        order by t.score_date desc, t.score desc limit :limit""", days=days, limit=limit)


@cached(ttl=60)
def new_signups(days: int = 7, limit: int = 500) -> pd.DataFrame:
    """`signup` signals in the `days` before the latest one."""
    return query("""
        select s.occurred_at, coalesce(p.display_name, s.person_id) as person, s.account_domain, s.person_id
        from marts.fct_signals s
        left join marts.dim_people p on p.person_id = s.person_id
        where s.signal_type = 'signup'
          and s.occurred_at > (select max(occurred_at) from marts.fct_signals where signal_type = 'signup')
                              - make_interval(days => :days)
        order by s.occurred_at desc limit :limit""", days=days, limit=limit)


@cached(ttl=30)
def my_accounts(owner: str) -> pd.DataFrame:
    return query("""
        select c.name, c.domain, c.tier, c.score, c.trend, o.assigned_at, c.account_id
        from app.account_owners o
        join marts.account_scores_current c on c.account_id = o.account_id
        where o.owner = :owner
          and not exists (select 1 from app.account_suppressions x where x.account_id = o.account_id)
        order by c.score desc""", owner=owner)


@cached(ttl=60)
def source_freshness() -> pd.DataFrame:
    """Per source: its last successful load (dlt's `_dlt_loads`); a source never loaded is absent."""
    frames = []
    for source, sql in FRESHNESS_SQL.items():
        frame = query(sql)
        if not frame.empty and frame["last_load_at"].notna().any():
            frames.append(frame.assign(source=source)[["source", "last_load_at", "loads"]])
    if not frames:
        return pd.DataFrame(columns=["source", "last_load_at", "loads", "age_hours"])
    result = pd.concat(frames, ignore_index=True)
    result["age_hours"] = ((pd.Timestamp.now(tz="UTC") - pd.to_datetime(result["last_load_at"], utc=True))
                           .dt.total_seconds() / 3600).round(1)
    return result.sort_values("age_hours")
