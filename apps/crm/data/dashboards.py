"""Dashboard reads: a member's dashboards, and the data of the 10 widget types (SPEC-seed §9,
with its definitions fixed: "today" is the UTC day, `total_deals` says it counts every stage, the
trend compares with yesterday, missing days are zeros)."""

from __future__ import annotations

import pandas as pd

from apps.state.deals import STAGES

from . import cached, query

TITLES = {
    "total_contacts": "People", "total_companies": "Accounts", "total_deals": "Deals (all stages)",
    "total_signals_today": "Signals today (UTC)", "hot_accounts": "Hot accounts",
    "recent_signals": "Recent signals", "top_companies_by_signals": "Top accounts by signals, 30 days",
    "signal_trend": "Signals per day, 30 days", "deal_pipeline": "Deal pipeline",
    "signals_by_source": "Signals by source, 30 days",
}


def dashboards(owner: str) -> pd.DataFrame:
    """The member's dashboards, default first (not cached: it changes with every save)."""
    frame = query("""select dashboard_id, name, is_default, updated_at from app.dashboards where owner = :owner
                     order by is_default desc, dashboard_id""", owner=owner)
    return frame if not frame.empty else pd.DataFrame(columns=["dashboard_id", "name", "is_default", "updated_at"])


def _one_row(frame: pd.DataFrame, **defaults) -> dict:
    return defaults if frame.empty else {key: (None if pd.isna(value) else value)
                                         for key, value in frame.iloc[0].items()}


@cached(ttl=120)
def widget_data(widget_type: str):
    """The widget's data: a dict for a stat, a DataFrame for a list or a chart."""
    if widget_type == "total_contacts":
        return _one_row(query("""select count(*) as value,
                                        count(*) filter (where first_seen_at >= current_date) as trend
                                 from marts.dim_people where not is_anonymous and noise_reason is null"""),
                        value=0, trend=0)
    if widget_type == "total_companies":
        return _one_row(query("""select count(*) as value, count(*) filter (where first_seen_at >= current_date) as trend
                                 from marts.dim_accounts"""), value=0, trend=0)
    if widget_type == "total_deals":
        return _one_row(query("""select count(*) as value, coalesce(sum(amount), 0)::float as total_value,
                                        count(*) filter (where stage not in ('CLOSED_WON', 'CLOSED_LOST')) as open
                                 from app.deals where deleted_at is null"""), value=0, total_value=0.0, open=0)
    if widget_type == "total_signals_today":
        row = _one_row(query("""select count(*) filter (where occurred_on = current_date) as value,
                                       count(*) filter (where occurred_on = current_date - 1) as yesterday
                                from marts.fct_signals where occurred_on >= current_date - 1"""),
                       value=0, yesterday=0)
        value, yesterday = int(row["value"] or 0), int(row["yesterday"] or 0)
        # change against yesterday in percent; None when yesterday had nothing (no ratio to give)
        return {"value": value, "yesterday": yesterday,
                "trend": None if yesterday == 0 else round((value - yesterday) * 100 / yesterday)}
    if widget_type == "hot_accounts":
        return query("""select name, domain, score, trend, count_signals_30d as signals_30d, count_users_30d as users_30d
                        from marts.account_scores_current where tier = 'HOT'
                        order by score desc, domain limit 5""")
    if widget_type == "recent_signals":
        return query("""select s.occurred_at, s.signal_type, s.source, p.display_name as person, a.name as account
                        from (select * from marts.fct_signals order by occurred_at desc limit 10) s
                        left join marts.dim_people p on p.person_id = s.person_id
                        left join marts.dim_accounts a on a.account_id = s.account_id
                        order by s.occurred_at desc""")
    if widget_type == "top_companies_by_signals":
        return query("""select a.name, a.domain, count(*) as signals
                        from marts.fct_signals s join marts.dim_accounts a on a.account_id = s.account_id
                        where s.occurred_on > current_date - 30
                        group by a.name, a.domain order by signals desc, a.domain limit 10""")
    if widget_type == "signal_trend":
        return query("""select day::date as day, count(s.signal_id) as signals
                        from generate_series(current_date - 29, current_date, interval '1 day') as day
                        left join marts.fct_signals s on s.occurred_on = day::date
                        group by day order by day""")
    if widget_type == "deal_pipeline":
        frame = query("""select stage, count(*) as deals, coalesce(sum(amount), 0)::float as value
                         from app.deals where deleted_at is null group by stage""")
        pipeline = pd.DataFrame({"stage": list(STAGES), "order": range(len(STAGES))})
        if frame.empty:
            return pipeline.assign(deals=0, value=0.0)
        return pipeline.merge(frame, on="stage", how="left").fillna({"deals": 0, "value": 0.0}).astype({"deals": int})
    if widget_type == "signals_by_source":
        return query("""select source, count(*) as signals from marts.fct_signals
                        where occurred_on > current_date - 30 group by source order by signals desc limit 10""")
    raise ValueError(f"unknown widget type {widget_type!r}")
