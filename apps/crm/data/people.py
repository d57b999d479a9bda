"""People: the list, one person's identities across sources, and their employment history."""

from __future__ import annotations

import pandas as pd

from . import cached, query

LIST_LIMIT = 500


def _like(text: str) -> str | None:
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    return "%" + cleaned.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@cached(ttl=60)
def people_list(search: str = "", account_id: str | None = None, include_noise: bool = False,
                identified_only: bool = True, limit: int = LIST_LIMIT) -> pd.DataFrame:
    """People, most recently seen first; bots, internal and test accounts hidden unless asked for."""
    return query("""
        select p.person_id, p.display_name, p.title, p.primary_email, p.github_login, a.name as account,
               p.account_domain, p.match_rule, p.match_confidence, p.count_identifiers, p.identifier_types,
               p.noise_reason, p.first_seen_at, p.last_seen_at, p.account_id
        from marts.dim_people p
        left join marts.dim_accounts a on a.account_id = p.account_id
        where (cast(:search as text) is null or p.display_name ilike cast(:search as text)
               or p.primary_email ilike cast(:search as text) or p.github_login ilike cast(:search as text)
               or p.account_domain ilike cast(:search as text))
          and (cast(:account_id as text) is null or p.account_id = cast(:account_id as text))
          and (:include_noise or not (p.is_bot or p.is_internal or p.is_test_account))
          and (not :identified_only or not p.is_anonymous)
        order by p.last_seen_at desc nulls last, p.person_id
        limit :limit""", search=_like(search), account_id=account_id, include_noise=bool(include_noise),
                 identified_only=bool(identified_only), limit=int(limit))


@cached(ttl=60)
def person(person_id: str) -> dict | None:
    """One person (an alias id resolves to the person it was merged into)."""
    frame = query("""
        select p.*, a.name as account_name
        from marts.dim_people p
        left join marts.dim_accounts a on a.account_id = p.account_id
        where p.person_id = coalesce(
            (select al.person_id from marts.dim_person_aliases al where al.alias_person_id = :person_id), :person_id)""",
                  person_id=person_id)
    return None if frame.empty else frame.iloc[0].to_dict()


@cached(ttl=60)
def identities(person_id: str) -> pd.DataFrame:
    """Every identifier that resolved to this person, with where it was seen."""
    return query("""
        select i.identifier_type, i.identifier_value, i.seen_in, i.email_domain, i.count_observations,
               i.first_seen_at, i.last_seen_at, i.is_blocked, i.block_reason
        from marts.dim_identifiers i where i.person_id = :person_id
        order by i.identifier_type, i.first_seen_at""", person_id=person_id)


@cached(ttl=60)
def employment(person_id: str) -> pd.DataFrame:
    """Which accounts this person's signals were attributed to over time (a job change shows as two rows)."""
    return query("""
        select coalesce(a.name, s.account_domain, '(unattributed)') as account, s.account_domain, s.account_id,
               min(s.occurred_at) as first_signal_at, max(s.occurred_at) as last_signal_at, count(*) as signals,
               (array_agg(distinct s.match_rule))[1:3] as match_rules
        from marts.fct_signals s
        left join marts.dim_accounts a on a.account_id = s.account_id
        where s.person_id = :person_id
        group by 1, 2, 3 order by max(s.occurred_at) desc""", person_id=person_id)


@cached(ttl=60)
def recent_signals(person_id: str, limit: int = 50) -> pd.DataFrame:
    return query("""
        select s.occurred_at, s.signal_type, s.source, s.account_domain
        from marts.fct_signals s where s.person_id = :person_id
        order by s.occurred_at desc limit :limit""", person_id=person_id, limit=limit)
