"""Search: one box over accounts, people, deals and notes, with PostgreSQL full-text search.

Weighted tsvectors (A: names and titles, B: domains, emails, logins and note bodies, C: industry,
job title and deal descriptions). Deals and notes carry a generated, GIN-indexed `search_vector`
(migration 0009). Accounts and people live in dbt marts: dbt's `marts.mart_search_documents`
(models/marts/app/) stores their vectors with a GIN index; until a build has made it, they are
built per row at query time: ~10 ms at the demo's 1.7k rows, but 1.1-1.4 s at 10k accounts /
100k people, where the mart answers in 15-320 ms (the upper end when 25k rows match and all are
ranked).

The text a person typed is only ever a bound parameter: `websearch_to_tsquery` accepts any input
without a syntax error (quotes, `-`, `or`), and a prefix query (`word:*`, so "acm" finds "acme.com")
is built from the input's letters and digits only. Highlights come from `ts_headline` with control
characters as markers, which `highlight_markdown` turns into bold after escaping everything else.
"""

from __future__ import annotations

import re

import pandas as pd

from . import query

MIN_CHARS = 2
MAX_CHARS = 200
TYPES = ("account", "person", "deal", "note")
START, STOP = "\x02", "\x03"
_WORD = re.compile(r"\w+", re.UNICODE)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&:=\"'])")
COLUMNS = ["type", "id", "title", "subtitle", "snippet", "rank"]

_HEAD = """
with q as (
    select case when :prefix = '' then websearch_to_tsquery('english', :q)
                else websearch_to_tsquery('english', :q) || to_tsquery('simple', :prefix) end as query
),
"""
# accounts and people with vectors built per row at query time (before dbt builds the mart)
_MARTS_LIVE = """
accounts as (
    select 'account' as type, a.account_id as id, a.name as title, a.domain as subtitle,
           concat_ws(' · ', a.name, a.domain, a.industry) as body,
           setweight(to_tsvector('english', coalesce(a.name, '')), 'A')
           || setweight(to_tsvector('simple', coalesce(a.domain, '')), 'B')
           || setweight(to_tsvector('english', coalesce(a.industry, '')), 'C') as vector
    from marts.dim_accounts a
    where 'account' = any(cast(:types as text[]))
),
people as (
    select 'person', p.person_id, p.display_name, coalesce(p.primary_email, p.github_login, p.title),
           concat_ws(' · ', p.display_name, p.primary_email, p.github_login, p.title),
           setweight(to_tsvector('english', concat_ws(' ', p.display_name, p.full_name)), 'A')
           || setweight(to_tsvector('simple', concat_ws(' ', p.primary_email, p.github_login)), 'B')
           || setweight(to_tsvector('english', coalesce(p.title, '')), 'C')
    from marts.dim_people p
    where 'person' = any(cast(:types as text[])) and not p.is_anonymous
),
"""
# the same rows from dbt's marts.mart_search_documents: stored vectors, GIN-indexed
_MARTS_INDEXED = """
accounts as (
    select d.entity_type as type, d.entity_id as id, d.title, d.subtitle, d.body, d.search_vector as vector
    from marts.mart_search_documents d
    where d.entity_type = 'account' and 'account' = any(cast(:types as text[]))
      and d.search_vector @@ (select query from q)
),
people as (
    select d.entity_type, d.entity_id, d.title, d.subtitle, d.body, d.search_vector
    from marts.mart_search_documents d
    where d.entity_type = 'person' and 'person' = any(cast(:types as text[]))
      and d.search_vector @@ (select query from q)
),
"""
_TAIL = """
deals as (
    select 'deal', d.deal_id::text, d.title,
           initcap(replace(d.stage, '_', ' ')) || coalesce(' · $' || to_char(d.amount, 'FM999,999,999,990'), ''),
           concat_ws(' · ', d.title, d.description), d.search_vector
    from app.deals d
    where 'deal' = any(cast(:types as text[])) and d.deleted_at is null
),
notes as (
    select 'note', n.note_id::text, left(n.body, 80), to_char(n.created_at, 'YYYY-MM-DD') || ' · ' || n.author,
           n.body, n.search_vector
    from app.notes n
    where 'note' = any(cast(:types as text[]))
),
everything as (
    select * from accounts union all select * from people union all select * from deals union all select * from notes
),
ranked as (
    select e.type, e.id, e.title, e.subtitle, e.body, ts_rank(e.vector, q.query) as rank,
           row_number() over (partition by e.type order by ts_rank(e.vector, q.query) desc, e.title) as nth
    from everything e cross join q
    where e.vector @@ q.query
)
select r.type, r.id, r.title, r.subtitle,
       ts_headline('english', r.body, q.query,
                   'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxFragments=2, MaxWords=18, MinWords=6')
           as snippet,
       r.rank
from ranked r cross join q
where r.nth <= :per_type
order by r.rank desc, r.type, r.title
limit :limit
"""
_SEARCH_LIVE = _HEAD + _MARTS_LIVE + _TAIL
_SEARCH_INDEXED = _HEAD + _MARTS_INDEXED + _TAIL
TABLES = {"account": "marts.dim_accounts", "person": "marts.dim_people", "deal": "app.deals", "note": "app.notes"}


def prefix_query(text: str) -> str:
    """`word:* & word:*` from the letters and digits of `text` only (safe for to_tsquery)."""
    return " & ".join(f"{word.lower()}:*" for word in _WORD.findall(text)[:8])


def search(text: str, types: tuple[str, ...] = TYPES, limit: int = 30) -> pd.DataFrame:
    """Ranked matches (type, id, title, subtitle, snippet, rank), best first; empty under MIN_CHARS."""
    text = (text or "").replace("\x00", "").strip()[:MAX_CHARS]
    unknown = set(types) - set(TYPES)
    if unknown:
        raise ValueError(f"unknown search types {sorted(unknown)}; expected some of {', '.join(TYPES)}")
    if len(text) < MIN_CHARS or not types:
        return pd.DataFrame(columns=COLUMNS)
    limit = max(1, min(int(limit), 100))
    frame = _query_with_missing_tables(text, list(types), limit)
    return frame if not frame.empty else pd.DataFrame(columns=COLUMNS)


def _query_with_missing_tables(text: str, types: list[str], limit: int) -> pd.DataFrame:
    from . import relation_exists

    indexed = relation_exists("marts.mart_search_documents")
    sql = _SEARCH_INDEXED if indexed else _SEARCH_LIVE
    # a type whose table does not exist yet (marts before the first build) is left out, not an error
    existing = {t for t in TYPES if (indexed and t in ("account", "person")) or relation_exists(TABLES[t])}
    present = [t for t in types if t in existing]
    if not present:
        return pd.DataFrame(columns=COLUMNS)
    if existing != set(TYPES):
        sql = _without(sql, set(TYPES) - existing)
    return query(sql, q=text, prefix=prefix_query(text), types=present, per_type=limit, limit=limit)


def _without(sql: str, missing: set[str]) -> str:
    """The query with the CTEs of missing relations swapped for empty ones (fixed text only)."""
    empty = "select null::text, null::text, null::text, null::text, null::text, null::tsvector where false"
    for cte, kind in (("accounts", "account"), ("people", "person"), ("deals", "deal"), ("notes", "note")):
        if kind in missing:
            start = sql.index(f"\n{cte} as (") + len(f"\n{cte} as (")
            end = sql.index("\n),", start)
            sql = sql[:start] + "\n    " + empty + sql[end:]
    return sql


def highlight_markdown(snippet: str) -> str:
    """A ts_headline snippet as safe markdown: every markdown character escaped, matches in bold."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", (snippet or "").replace("\n", " "))
    return escaped.replace(START, "**").replace(STOP, "**")
