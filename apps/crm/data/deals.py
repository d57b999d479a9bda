"""Deals reads: the board (app.deals with account names from marts), stage totals, stage history."""

from __future__ import annotations

import pandas as pd

from apps.state.deals import STAGES

from . import cached, query, relation_exists

DEAL_COLUMNS = ["deal_id", "title", "stage", "amount", "currency", "owner", "account_id", "account_name",
                "person_id", "expected_close_date", "description", "source", "updated_at"]


_BOARD = """
    select d.deal_id, d.title, d.stage, d.amount, d.currency, d.owner, d.account_id,
           a.name as account_name, d.person_id, d.expected_close_date, d.description, d.source, d.updated_at
    from app.deals d
    left join marts.dim_accounts a on a.account_id = d.account_id
    where d.deleted_at is null and (cast(:owner as text) is null or d.owner = :owner)
    order by d.updated_at desc, d.deal_id desc
    limit :limit
"""
# before the first dbt build there is no marts.dim_accounts: the same rows without names
_BOARD_WITHOUT_MARTS = """
    select d.deal_id, d.title, d.stage, d.amount, d.currency, d.owner, d.account_id,
           null::text as account_name, d.person_id, d.expected_close_date, d.description, d.source, d.updated_at
    from app.deals d
    where d.deleted_at is null and (cast(:owner as text) is null or d.owner = :owner)
    order by d.updated_at desc, d.deal_id desc
    limit :limit
"""


@cached(ttl=15)
def open_board(owner: str | None = None, limit: int = 2000) -> pd.DataFrame:
    """Every live deal (newest change first), with its account's name when the marts know it."""
    sql = _BOARD if relation_exists("marts.dim_accounts") else _BOARD_WITHOUT_MARTS
    frame = query(sql, owner=owner, limit=limit)
    return frame if not frame.empty else pd.DataFrame(columns=DEAL_COLUMNS)


@cached(ttl=15)
def stage_totals(owner: str | None = None) -> pd.DataFrame:
    """All 9 stages in PLG order, each with its deal count and amount (0 when empty)."""
    frame = query("""
        select stage, count(*) as deals, coalesce(sum(amount), 0) as amount
        from app.deals
        where deleted_at is null and (cast(:owner as text) is null or owner = :owner)
        group by stage
    """, owner=owner)
    totals = pd.DataFrame({"stage": list(STAGES)})
    if frame.empty:
        return totals.assign(deals=0, amount=0.0)
    totals = totals.merge(frame, on="stage", how="left").fillna({"deals": 0, "amount": 0})
    return totals.astype({"deals": int, "amount": float})


@cached(ttl=15)
def stage_history(deal_id: int) -> pd.DataFrame:
    return query("""
        select changed_at, from_stage, to_stage, changed_by, via
        from app.deal_stage_history where deal_id = :deal_id order by changed_at desc, change_id desc
    """, deal_id=deal_id)


@cached(ttl=300)
def account_choices(limit: int = 5000) -> pd.DataFrame:
    """Accounts a deal can be on: account_id and a label, hottest first."""
    frame = query("""
        select a.account_id, a.name || ' (' || a.domain || ')' as label
        from marts.dim_accounts a
        left join marts.account_scores_current s using (account_id)
        order by s.score desc nulls last, a.name
        limit :limit
    """, limit=limit)
    return frame if not frame.empty else pd.DataFrame(columns=["account_id", "label"])
