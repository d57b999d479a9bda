"""Identity review reads: suggested merges with their evidence, a person's identifiers, the
decisions recorded in app.identity_overrides (and whether a build has applied them yet).

Suggestions: the identity graph joins two identifiers only when one record carries both, so a
developer's GitHub login and their product login often stay two people (dbt_project/models/
intermediate/identity/README.md, "Left out"). A suggestion is a group of people with the same
name (case and spacing ignored) credited to the same account; the evidence is each person's
identifiers, sources and account rule. Groups with a merge already decided are left out.
"""

from __future__ import annotations

import pandas as pd

from . import query

SUGGESTION_COLUMNS = ["name", "account_id", "account_domain", "people", "person_ids", "evidence"]

_SUGGESTIONS = """
with people as (
    select person_id, display_name, lower(regexp_replace(btrim(display_name), '\\s+', ' ', 'g')) as name_key,
           account_id, account_domain, match_rule, coalesce(identifier_types, '') as identifier_types, first_seen_at
    from marts.dim_people
    where not is_anonymous and noise_reason is null and account_id is not null
      and display_name is not null and display_name <> person_id
),
decided as (
    select person_id, other_person_id from app.identity_overrides where action = 'merge' and revoked_at is null
),
groups as (
    select name_key, account_id, min(display_name) as name, min(account_domain) as account_domain,
           count(*) as people,
           array_agg(person_id order by first_seen_at nulls last, person_id) as person_ids,
           string_agg(identifier_types || ' via ' || match_rule, '  |  ' order by first_seen_at nulls last, person_id)
               as evidence
    from people
    group by name_key, account_id
    having count(*) > 1
)
select g.name, g.account_id, g.account_domain, g.people, g.person_ids,
       'same name, same account (' || g.account_domain || '); ' || g.evidence as evidence
from groups g
where not exists (select 1 from decided d where d.person_id = any(g.person_ids) and d.other_person_id = any(g.person_ids))
order by g.people desc, g.name
limit :limit
"""
# before the app's migrations ran there are no decisions to leave out
_SUGGESTIONS_NO_DECISIONS = _SUGGESTIONS.replace(
    "select person_id, other_person_id from app.identity_overrides where action = 'merge' and revoked_at is null",
    "select null::text as person_id, null::text as other_person_id where false")


def merge_suggestions(limit: int = 500) -> pd.DataFrame:
    from . import relation_exists

    sql = _SUGGESTIONS if relation_exists("app.identity_overrides") else _SUGGESTIONS_NO_DECISIONS
    frame = query(sql, limit=limit)
    return frame if not frame.empty else pd.DataFrame(columns=SUGGESTION_COLUMNS)


def people(person_ids: list[str]) -> pd.DataFrame:
    """The people (as the last build left them), with their account and how it was decided."""
    return query("""select person_id, display_name, primary_email, github_login, title, account_domain, match_rule,
                           match_confidence, identifier_types, first_seen_at, last_seen_at
                    from marts.dim_people where person_id = any(cast(:ids as text[]))
                    order by first_seen_at nulls last, person_id""", ids=list(person_ids))


def identifiers(person_ids: list[str]) -> pd.DataFrame:
    """Every identifier of these people, with the sources it was seen in."""
    frame = query("""select person_id, identifier_type, identifier_value, seen_in, count_observations,
                            first_seen_at, last_seen_at
                     from marts.dim_identifiers where person_id = any(cast(:ids as text[]))
                     order by person_id, identifier_type, identifier_value""", ids=list(person_ids))
    return frame if not frame.empty else pd.DataFrame(columns=["person_id", "identifier_type", "identifier_value",
                                                               "seen_in", "count_observations", "first_seen_at",
                                                               "last_seen_at"])


def find_people(text: str, limit: int = 25) -> pd.DataFrame:
    """People whose name, email, login or id contains `text` (a bound pattern; % and _ are literal)."""
    text = (text or "").strip()[:200]
    if len(text) < 2:
        return pd.DataFrame(columns=["person_id", "label"])
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    frame = query("""select person_id, display_name || coalesce(' · ' || primary_email, '')
                            || coalesce(' · @' || github_login, '') || coalesce(' · ' || account_domain, '') as label
                     from marts.dim_people
                     where display_name ilike :p or primary_email ilike :p or github_login ilike :p or person_id = :exact
                     order by display_name limit :limit""", p=pattern, exact=text, limit=limit)
    return frame if not frame.empty else pd.DataFrame(columns=["person_id", "label"])


def decisions(limit: int = 200) -> pd.DataFrame:
    """Recorded decisions, newest first, with whether the marts reflect them yet."""
    frame = query("""
        select o.override_id, o.action, o.person_id, o.other_person_id, o.identifier_type, o.identifier_value,
               o.account_id, o.account_domain, o.effective_from, o.reason, o.created_by, o.created_at, o.revoked_at,
               case
                   when o.revoked_at is not null then 'revoked'
                   when o.action = 'merge' and exists (select 1 from marts.dim_person_aliases a
                        where a.alias_reason = 'manual_merge' and a.alias_person_id in (o.person_id, o.other_person_id))
                       then 'applied'
                   when o.action = 'set_account' and exists (select 1 from marts.dim_people p
                        where p.person_id = o.person_id and p.match_rule = 'manual') then 'applied'
                   when o.action = 'split' and exists (select 1 from marts.dim_identifiers i
                        where i.identifier_type = o.identifier_type and i.identifier_value = lower(o.identifier_value)
                          and i.first_seen_at is not null and i.person_id is not null
                          and not exists (select 1 from marts.dim_identifiers j where j.person_id = i.person_id
                                          and j.identifier_key <> i.identifier_key)) then 'applied'
                   else 'waiting for the next build'
               end as status
        from app.identity_overrides o
        order by o.created_at desc, o.override_id desc
        limit :limit
    """, limit=limit)
    return frame


def account_choices() -> pd.DataFrame:
    frame = query("select account_id, name || ' (' || domain || ')' as label from marts.dim_accounts order by name")
    return frame if not frame.empty else pd.DataFrame(columns=["account_id", "label"])
