"""The CRM's data access: the only place SQL lives. Parameterised, cached with a short TTL."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from devsignal import db

TIERS = ("HOT", "WARM", "COLD", "INACTIVE")


@st.cache_data(ttl=60)
def scored_accounts(tiers: tuple[str, ...] = TIERS, limit: int = 500) -> pd.DataFrame:
    """Accounts with their current score, hottest first; empty if the pipeline has not run yet."""
    query = sa.text("""
        select a.name as account, a.domain, s.tier, s.score, s.trend, s.score_date
        from marts.account_scores_current s
        join marts.dim_accounts a using (account_id)
        where s.tier = any(:tiers)
        order by s.score desc, a.domain
        limit :limit
    """)
    with db.engine().connect() as conn:
        exists = conn.execute(sa.text("select to_regclass('marts.account_scores_current') is not null")).scalar()
        if not exists:
            return pd.DataFrame(columns=["account", "domain", "tier", "score", "trend", "score_date"])
        return pd.read_sql(query, conn, params={"tiers": list(tiers), "limit": limit})
