"""Accounts: the list with its filters, and everything Account 360 shows.

Reads the marts (`account_scores_current`, `fct_account_scores_daily`, `fct_account_tier_changes`,
`fct_signals`, `dim_accounts`, `dim_people`) and the app's own tables live (owners, tags, notes,
deals, suppressions), so a write shows on the next rerun without waiting for the pipeline.
Suppressed ("deleted") accounts never appear.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

from . import cached, query, relation_exists

LIST_LIMIT = 500
SPARK_DAYS = 30
SIGNAL_TYPE_WINDOW_DAYS = 30
NO_OWNER = "(no owner)"


@dataclass(frozen=True)
class AccountFilter:
    """The Accounts page's filters; also what a saved view stores (as a dict)."""

    tiers: tuple[str, ...] = ()
    min_score: int = 0
    max_score: int = 100
    trends: tuple[str, ...] = ()
    owner: str | None = None            # a member's email, or NO_OWNER
    tag: str | None = None
    signal_types: tuple[str, ...] = ()  # any of these in the last SIGNAL_TYPE_WINDOW_DAYS days
    active_within_days: int | None = None
    search: str = ""

    def to_dict(self) -> dict:
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> "AccountFilter":
        known = {name: values[name] for name in cls.__dataclass_fields__ if name in values}
        for name in ("tiers", "trends", "signal_types"):
            if name in known:
                known[name] = tuple(known[name] or ())
        return cls(**known)


def _like(text: str) -> str | None:
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    return "%" + cleaned.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


ACCOUNT_LIST_SQL = """
    with filtered as (
        select c.account_id, c.name, c.domain, c.industry, c.size_band, c.tier, c.score, c.trend,
               c.score_7d_ago, c.score_date, c.score_version, c.count_users_30d, c.count_signals_30d,
               c.last_signal_at, o.owner
        from marts.account_scores_current c
        left join app.account_owners o on o.account_id = c.account_id
        where not exists (select 1 from app.account_suppressions x where x.account_id = c.account_id)
          and (cast(:tiers as text[]) is null or c.tier = any(cast(:tiers as text[])))
          and c.score between :min_score and :max_score
          and (cast(:trends as text[]) is null or c.trend = any(cast(:trends as text[])))
          and (cast(:owner as text) is null
               or (cast(:owner as text) = :no_owner and o.owner is null) or o.owner = cast(:owner as text))
          and (cast(:tag as text) is null or exists (
                select 1 from app.account_tags t where t.account_id = c.account_id and t.tag = cast(:tag as text)))
          and (cast(:signal_types as text[]) is null or exists (
                select 1 from marts.fct_signals s
                where s.account_id = c.account_id and s.signal_type = any(cast(:signal_types as text[]))
                  and s.occurred_at >= c.score_date - make_interval(days => :signal_window)))
          and (cast(:active_days as integer) is null
               or c.last_signal_at >= now() - make_interval(days => cast(:active_days as integer)))
          and (cast(:search as text) is null or c.name ilike cast(:search as text) or c.domain ilike cast(:search as text))
        order by c.score desc, c.domain
        limit :limit
    )
    select f.account_id, f.name, f.domain, f.tier, f.score, f.trend, f.score - f.score_7d_ago as change_7d,
           coalesce(spark.scores, array[]::integer[]) as sparkline, f.owner,
           coalesce(tags.tags, array[]::text[]) as tags, f.industry, f.size_band, f.count_users_30d,
           f.count_signals_30d, f.last_signal_at
    from filtered f
    left join lateral (
        select array_agg(t.tag order by t.tag) as tags from app.account_tags t where t.account_id = f.account_id
    ) tags on true
    left join lateral (
        select array_agg(d.score order by d.score_date) as scores
        from marts.fct_account_scores_daily d
        where d.account_id = f.account_id and d.score_version = f.score_version
          and d.score_date > f.score_date - :spark_days
    ) spark on true
    order by f.score desc, f.domain
"""


def account_list_params(filters: AccountFilter, limit: int = LIST_LIMIT) -> dict:
    return {"tiers": list(filters.tiers) or None, "min_score": int(filters.min_score), "max_score": int(filters.max_score),
            "trends": list(filters.trends) or None, "owner": filters.owner or None, "no_owner": NO_OWNER,
            "tag": filters.tag or None, "signal_types": list(filters.signal_types) or None,
            "signal_window": SIGNAL_TYPE_WINDOW_DAYS, "active_days": filters.active_within_days,
            "search": _like(filters.search), "limit": int(limit), "spark_days": SPARK_DAYS}


@cached(ttl=30)
def account_list(filters: AccountFilter, limit: int = LIST_LIMIT) -> pd.DataFrame:
    """Accounts matching `filters`, hottest first, with a 30-day score sparkline, owner and tags."""
    return query(ACCOUNT_LIST_SQL, **account_list_params(filters, limit))


@cached(ttl=300)
def signal_types() -> list[str]:
    frame = query("select distinct signal_type from marts.fct_signals order by 1")
    return [] if frame.empty else frame["signal_type"].tolist()


@cached(ttl=30)
def tags() -> list[str]:
    frame = query("select distinct tag from app.account_tags order by 1")
    return [] if frame.empty else frame["tag"].tolist()


@cached(ttl=30)
def account_choices(limit: int = 5000) -> pd.DataFrame:
    """account_id, label ("Name (domain)") for pickers; hottest first."""
    return query("""
        select a.account_id, a.name || ' (' || a.domain || ')' as label
        from marts.dim_accounts a
        left join marts.account_scores_current c on c.account_id = a.account_id
        where not exists (select 1 from app.account_suppressions x where x.account_id = a.account_id)
        order by c.score desc nulls last, a.domain
        limit :limit""", limit=limit)


# -- Account 360 ------------------------------------------------------------------------------------

@cached(ttl=30)
def account(account_id: str) -> dict | None:
    """Score, tier, trend, factors, firmographics, owner and tags of one account (None if unknown or deleted)."""
    frame = query("""
        select a.account_id, a.name, a.domain, a.industry, a.size_band, a.count_employees, a.firmographic_sources,
               a.count_signals, a.count_people, a.count_crm_contacts, a.first_seen_at, a.last_seen_at,
               c.score, c.tier, c.trend, c.score_date, c.previous_score, c.previous_tier, c.tier_since, c.score_7d_ago,
               c.score_30d_ago, c.intent_score, c.fit_score, c.reason, c.factors, c.evidence_signal_ids,
               c.count_signals_30d, c.count_active_people, c.count_signal_types_30d, c.count_active_senior_people,
               c.last_signal_at, c.days_since_last_signal, o.owner,
               array(select t.tag from app.account_tags t where t.account_id = a.account_id order by t.tag) as tags
        from marts.dim_accounts a
        left join marts.account_scores_current c on c.account_id = a.account_id
        left join app.account_owners o on o.account_id = a.account_id
        where a.account_id = :account_id
          and not exists (select 1 from app.account_suppressions x where x.account_id = a.account_id)""",
                  account_id=account_id)
    return None if frame.empty else frame.iloc[0].to_dict()


def factors(account_row: dict) -> pd.DataFrame:
    """Each factor's contribution (points of its maximum) and what it measured."""
    rows = account_row.get("factors") or []
    frame = pd.DataFrame(rows, columns=["name", "points", "max_points", "value", "description"])
    return frame[["name", "points", "max_points", "value", "description"]]


@cached(ttl=60)
def evidence_signals(account_id: str) -> pd.DataFrame:
    """The signals the current score names as its evidence."""
    return query("""
        select s.occurred_at, s.signal_type, s.source, coalesce(p.display_name, s.person_id) as person, s.signal_id
        from marts.account_scores_current c
        cross join lateral jsonb_array_elements_text(c.evidence_signal_ids) as evidence(signal_id)
        join marts.fct_signals s on s.signal_id = evidence.signal_id
        left join marts.dim_people p on p.person_id = s.person_id
        where c.account_id = :account_id
        order by s.occurred_at desc""", account_id=account_id)


@cached(ttl=60)
def score_history(account_id: str, days: int = 90) -> pd.DataFrame:
    return query("""
        select d.score_date, d.score, d.tier
        from marts.fct_account_scores_daily d
        join marts.account_scores_current c on c.account_id = d.account_id and c.score_version = d.score_version
        where d.account_id = :account_id and d.score_date > c.score_date - :days
        order by d.score_date""", account_id=account_id, days=days)


@cached(ttl=60)
def signal_mix(account_id: str, days: int = 30) -> pd.DataFrame:
    return query("""
        select s.signal_type, count(*) as signals, count(distinct s.person_id) as people, max(s.occurred_at) as last_at
        from marts.fct_signals s
        where s.account_id = :account_id
          and s.occurred_at >= (select max(occurred_at) from marts.fct_signals where account_id = :account_id)
                               - make_interval(days => :days)
        group by s.signal_type order by signals desc""", account_id=account_id, days=days)


TIMELINE_SQL = """
    select * from (
    (select s.occurred_at as at, 'signal' as lane, s.signal_type as what,
            coalesce(p.display_name, s.person_id, '') || ' via ' || s.source as detail
     from (select occurred_at, signal_type, person_id, source from marts.fct_signals
           where account_id = :account_id order by occurred_at desc limit :limit) as s  -- newest first, then names
     left join marts.dim_people p on p.person_id = s.person_id)
    union all
    (select n.created_at, 'note', 'note by ' || n.author, n.body
     from app.notes n where n.account_id = :account_id order by n.created_at desc limit :limit)
    union all
    (select d.created_at, 'deal', 'deal created: ' || d.title, d.stage || coalesce(' · ' || d.amount::text || ' ' || d.currency, '')
     from app.deals d where d.account_id = :account_id and d.deleted_at is null order by d.created_at desc limit :limit)
    union all
    (select h.changed_at, 'stage', d.title || ': ' || coalesce(h.from_stage, 'new') || ' → ' || h.to_stage,
            'by ' || h.changed_by || ' via ' || h.via
     from app.deal_stage_history h join app.deals d on d.deal_id = h.deal_id
     where d.account_id = :account_id and h.from_stage is not null order by h.changed_at desc limit :limit)
    union all
    (select t.scored_at, 'tier', t.from_tier || ' → ' || t.to_tier, coalesce(t.reason, '')
     from marts.fct_account_tier_changes t where t.account_id = :account_id order by t.scored_at desc limit :limit)
    ) as lanes order by at desc
"""

# the Slack engineer's table (migration 0004): a lane only where it exists
ALERTS_SQL = """
    select coalesce(a.sent_at, a.started_at) as at, 'alert' as lane, 'Slack alert: ' || a.alert_type as what,
           a.channel || ' via ' || a.transport || ' (' || a.status || ')' as detail
    from app.slack_alerts_sent a
    where a.account_id = :account_id
    order by a.started_at desc limit :limit
"""


@cached(ttl=30)
def timeline(account_id: str, limit: int = 200) -> tuple[pd.DataFrame, bool]:
    """Signals, notes, deals, stage changes, tier changes and Slack alerts sent (each lane its newest
    `limit`), newest first. Returns (timeline, whether the alerts lane exists in this database)."""
    frame = query(TIMELINE_SQL, account_id=account_id, limit=limit)
    if not relation_exists("app.slack_alerts_sent"):
        return frame, False
    alerts = query(ALERTS_SQL, account_id=account_id, limit=limit)
    if not alerts.empty:
        frame = pd.concat([frame, alerts], ignore_index=True).sort_values("at", ascending=False, ignore_index=True)
    return frame, True


@cached(ttl=60)
def account_people(account_id: str) -> pd.DataFrame:
    """Who at this account does what: seniority (from the title), match rule, signals by type.
    The account's signals are read once (by account), not once per person."""
    return query("""
        with activity as (
            select s.person_id, s.signal_type, count(*) as signals, max(s.occurred_at) as last_at
            from marts.fct_signals s where s.account_id = :account_id
            group by s.person_id, s.signal_type
        ), per_person as (
            select person_id, sum(signals) as signals, max(last_at) as last_at,
                   (array_agg(signal_type order by signals desc, signal_type))[1:3] as top_types
            from activity group by person_id
        )
        select p.person_id, p.display_name, p.title,
               case when p.title ~* '\\m(ceo|cto|cio|coo|cfo|founder|co-founder|vp|vice president|head|director|chief|principal)\\M'
                    then 'senior' else null end as seniority,
               p.match_rule, p.match_confidence, p.primary_email, p.github_login,
               coalesce(a.signals, 0)::bigint as signals, a.top_types, a.last_at
        from marts.dim_people p
        left join per_person a on a.person_id = p.person_id
        where p.account_id = :account_id and not p.is_bot and not p.is_internal and not p.is_test_account
        order by a.signals desc nulls last, p.display_name""", account_id=account_id)


@cached(ttl=30)
def account_deals(account_id: str) -> pd.DataFrame:
    return query("""
        select d.deal_id, d.title, d.stage, d.amount, d.currency, d.owner, d.expected_close_date, d.created_at, d.closed_at
        from app.deals d where d.account_id = :account_id and d.deleted_at is null
        order by d.closed_at nulls first, d.created_at desc""", account_id=account_id)


@cached(ttl=30)
def account_notes(account_id: str) -> pd.DataFrame:
    return query("""select note_id, created_at, author, body from app.notes where account_id = :account_id
                    order by created_at desc limit 100""", account_id=account_id)


# -- Intelligence: a brief and next-best actions written from the account's facts (no AI key) ------

@dataclass
class Brief:
    summary: str
    facts: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


def intelligence(account_row: dict, people: pd.DataFrame, mix: pd.DataFrame, deals: pd.DataFrame) -> Brief:
    """Rules over the facts on the page: what the account is doing and what to do next. Deterministic."""
    name, tier, score = account_row["name"], account_row.get("tier"), account_row.get("score")
    if tier is None or pd.isna(score):
        return Brief(f"{name} has no score yet: the pipeline has not scored it.",
                     actions=["Run the pipeline (or wait for the next scheduled run)."])
    trend = (account_row.get("trend") or "STABLE").lower()
    summary = f"{name} is {tier} at {int(score)}/100 and {trend}"
    change = account_row.get("score_7d_ago")
    if change is not None and not pd.isna(change):
        summary += f" ({int(score) - int(change):+d} in 7 days)"
    summary += "."
    facts = []
    if account_row.get("reason"):
        facts.append(f"Score reason: {account_row['reason']}")
    active = int(account_row.get("count_active_people") or 0)
    facts.append(f"{active} people active in the scoring window; {len(people)} known at the account.")
    if not mix.empty:
        top = ", ".join(f"{row.signal_type} ({row.signals})" for row in mix.head(3).itertuples())
        facts.append(f"Most frequent recent signals: {top}.")
    seniors = people[people["seniority"] == "senior"] if "seniority" in people else people.iloc[0:0]
    if not seniors.empty:
        facts.append("Senior people: " + ", ".join(f"{row.display_name} ({row.title})" for row in seniors.head(3).itertuples()) + ".")
    days_silent = account_row.get("days_since_last_signal")
    if days_silent is not None and not pd.isna(days_silent):
        facts.append(f"Last signal {float(days_silent):.0f} days before the score date.")
    open_deals = deals[deals["closed_at"].isna()] if not deals.empty else deals
    facts.append(f"{len(open_deals)} open deal(s)." if not deals.empty else "No deal yet.")

    actions = []
    types = set(mix["signal_type"]) if not mix.empty else set()
    if account_row.get("owner") is None and tier in ("HOT", "WARM"):
        actions.append("Claim the account: it is " + tier + " and has no owner.")
    if tier == "HOT" and open_deals.empty:
        actions.append("Open a deal: a HOT account with no open deal.")
    if "pricing_viewed" in types or "trial_started" in types:
        actions.append("Reach out about pricing: they viewed pricing or started a trial recently.")
    if "teammate_invited" in types and active >= 3:
        actions.append("Offer a team plan: teammates are being invited and several people are active.")
    if not seniors.empty:
        first = seniors.iloc[0]
        actions.append(f"Contact {first['display_name']} ({first['title']}), the most senior active person.")
    elif not people.empty:
        first = people.iloc[0]
        actions.append(f"Contact {first['display_name']}, the most active person, and ask who owns tooling decisions.")
    if trend == "falling":
        actions.append("Check in: the score is falling; find out whether the evaluation stalled.")
    if tier in ("COLD", "INACTIVE") and not actions:
        actions.append("No action now: watch for a tier change.")
    return Brief(summary, facts, actions)
