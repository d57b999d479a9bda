"""The CRM's reads at scale: the Accounts list and Account 360's queries, p50/p95 per query.

A database of its own (`devsignal_bench_crm`, on the bench's server, dropped afterwards) gets the
app's migrations and marts generated in SQL at the target size (default 10,000 accounts and 10
million signals, skewed so the hottest accounts hold far more signals than the median; 10 people per
account; 90 days of daily scores). Marts carry the indexes dbt builds today; the queries are then
timed as-is (`today`), and again after the indexes the CRM asks for (`indexed`, see INDEXES). The
queries are the CRM's own SQL (`apps.crm.data.accounts`), called without Streamlit's cache.

Baseline (same run): the bare `select ... from account_scores_current order by score desc limit 500`,
the cheapest read of the same list; `list_over_baseline` is the Accounts list's p95 over it.
Size: `--crm-accounts`, `--crm-signals` when the bench's parser has them, else the defaults.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

DATABASE = "devsignal_bench_crm"
DEFAULT_ACCOUNTS = 10_000
DEFAULT_SIGNALS = 10_000_000
PEOPLE_PER_ACCOUNT = 10
# without the CRM's indexes some reads scan all signals per account: cap each statement
TODAY_TIMEOUT_SECONDS = 60
DAYS = 90
SIGNAL_TYPES = ("api_call", "page_view", "feature_used", "pipeline_ran", "docs_viewed", "project_created",
                "teammate_invited", "integration_connected", "pricing_viewed", "signup", "trial_started",
                "repo_star", "issue_opened", "pr_opened")

# what dbt builds today (model configs): kept in both phases
DBT_INDEXES = (
    "create unique index on marts.account_scores_current (account_id)",
    "create unique index on marts.fct_account_scores_daily (score_date, score_version, account_id)",
)
# what the CRM asks dbt for (as `indexes=[...]` in each model's config)
INDEXES = (
    "create index fct_signals_account_time on marts.fct_signals (account_id, occurred_at desc)",
    # the list's signal-type filter, the signal mix and who-does-what, from the index alone
    "create index fct_signals_account_type_time on marts.fct_signals (account_id, signal_type, occurred_at) include (person_id)",
    "create index fct_signals_person_time on marts.fct_signals (person_id, occurred_at desc)",
    "create index fct_signals_signal_id on marts.fct_signals (signal_id)",
    "create index fct_scores_daily_account on marts.fct_account_scores_daily (account_id, score_version, score_date)",
    "create index fct_tier_changes_account on marts.fct_account_tier_changes (account_id, scored_at desc)",
    "create index dim_people_account on marts.dim_people (account_id)",
    "create unique index dim_people_person on marts.dim_people (person_id)",
)


def _generate(cur, accounts: int, signals: int) -> None:
    types = "array[" + ", ".join(f"'{name}'" for name in SIGNAL_TYPES) + "]"
    cur.execute("create schema marts")
    cur.execute("""
        create table marts.dim_accounts as
        select md5('account' || i) as account_id, 'acct' || i || '.example' as domain, 'Account ' || i as name,
               (array['STARTUP', 'SMALL', 'MID', 'ENTERPRISE'])[1 + i %% 4] as size_band,
               (i %% 5000)::numeric as count_employees, 'Computer Software' as industry, 'crm' as firmographic_sources,
               0::bigint as count_signals, 0::bigint as count_crm_contacts, %(people)s::bigint as count_people,
               now() - interval '90 days' as first_signal_at, now() as last_signal_at,
               now() - interval '90 days' as first_seen_at, now() as last_seen_at, i as n
        from generate_series(1, %(accounts)s) as i""", {"accounts": accounts, "people": PEOPLE_PER_ACCOUNT})
    cur.execute("""
        create table marts.dim_people as
        select 'p_' || md5('person' || a.n || '-' || k) as person_id, 'Person ' || a.n || '-' || k as display_name,
               'Person ' || a.n || '-' || k as full_name,
               case when k = 1 then 'VP Engineering' when k = 2 then 'Staff Engineer' else 'Software Engineer' end as title,
               'p' || k || '@' || a.domain as primary_email, null::text as github_login, null::text as segment_user_id,
               2::bigint as count_identifiers, 'email' as identifier_types, false as is_anonymous, a.account_id,
               a.domain as account_domain, 'work_email_domain' as match_rule, 0.9::numeric as match_confidence,
               null::text as supporting_rules, false as is_bot, false as is_internal, false as is_test_account,
               null::text as noise_reason, null::text as noise_detail,
               now() - interval '90 days' as first_seen_at, now() as last_seen_at, a.n, k
        from marts.dim_accounts a cross join generate_series(1, %(people)s) as k""", {"people": PEOPLE_PER_ACCOUNT})
    # the first 3 x accounts signals are spread evenly (each account's evidence); the rest skewed
    # towards low account numbers (account n gets ~ 1/sqrt(n) of the volume)
    cur.execute(f"""
        create table marts.fct_signals as
        select md5('signal' || s.i) as signal_id, 'p_' || md5('person' || s.account_n || '-' || (1 + s.i %% %(people)s)) as person_id,
               md5('account' || s.account_n) as account_id, ({types})[1 + (s.i * 7) %% {len(SIGNAL_TYPES)}] as signal_type,
               'segment' as source, 'track' as source_event, jsonb_build_object('path', '/app/' || (s.i %% 50)) as properties,
               'acct' || s.account_n || '.example' as account_domain, 'work_email_domain' as match_rule,
               0.9::numeric as match_confidence, null::text as unattributed_reason, md5(s.i::text) as attribution_hash,
               now() - (s.i %% 7776000) * interval '1 second' as occurred_at, (now() - (s.i %% 7776000) * interval '1 second')::date as occurred_on
        from (
            select i, case when i <= 3 * %(accounts)s then 1 + (i - 1) %% %(accounts)s
                           else 1 + floor(%(accounts)s * power(((i * 2654435761) %% 1000003) / 1000003.0, 2))::int end as account_n
            from generate_series(1, %(signals)s) as i
        ) as s""", {"accounts": accounts, "signals": signals, "people": PEOPLE_PER_ACCOUNT})
    factors = ("jsonb_build_array(" + ", ".join(
        f"jsonb_build_object('name', '{name}', 'value', 1, 'points', {points}, 'max_points', {points}, "
        f"'weight', 0.1, 'description', '{name} measured')"
        for name, points in (("user_count", 10), ("usage_velocity", 25), ("feature_breadth", 40),
                             ("engagement_recency", 10), ("seniority_signals", 5), ("firmographic_fit", 10))) + ")")
    cur.execute(f"""
        create table marts.fct_account_scores_daily as
        select md5(a.account_id || d::text) as account_score_id, a.account_id, d::date as score_date, 'v2' as score_version,
               d + interval '23 hours' as scored_at, s.score,
               case when s.score >= 75 then 'HOT' when s.score >= 50 then 'WARM' when s.score >= 20 then 'COLD' else 'INACTIVE' end as tier
        from marts.dim_accounts a
        cross join generate_series(current_date - {DAYS - 1}, current_date, interval '1 day') as d
        cross join lateral (select least(100, abs(hashtext(a.account_id || d::text)) %% 7 + 600 / (6 + a.n %% 100))::int as score) s""",
                {})
    cur.execute(f"""
        create table marts.account_scores_current as
        select a.account_id, a.domain, a.name, a.industry, d.score_date, 'v2' as score_version, d.scored_at, d.score, d.tier,
               (array['RISING', 'STABLE', 'FALLING'])[1 + a.n %% 3] as trend, d.score - 2 as previous_score,
               d.tier as previous_tier, d.score_date - 10 as tier_since, d.score - 3 as score_7d_ago, d.score - 5 as score_30d_ago,
               d.score::numeric as intent_score, 80::numeric as fit_score, d.tier as score_tier,
               'score ' || d.score || ' (synthetic)' as reason, {factors} as factors,
               jsonb_build_array(md5('signal' || a.n), md5('signal' || (a.n + %(accounts)s)), md5('signal' || (a.n + 2 * %(accounts)s)))
                   as evidence_signal_ids,
               '["api_call"]'::jsonb as evidence_signal_types, 10 as count_signals_30d, 3 as count_signals_7d,
               3 as count_users_30d, 4 as count_signal_types_30d, 1 as count_senior_contacts, 100 as count_signals_window,
               3 as count_active_people, 1 as count_active_senior_people, now() as last_signal_at,
               0::numeric as days_since_last_signal, a.size_band
        from marts.dim_accounts a
        join marts.fct_account_scores_daily d on d.account_id = a.account_id and d.score_date = current_date""",
                {"accounts": accounts})
    cur.execute("""
        create table marts.fct_account_tier_changes as
        select md5(d.account_score_id) as tier_change_id, d.account_score_id, d.account_id, d.score_version, d.score_date,
               d.scored_at, 'WARM' as from_tier, d.tier as to_tier, 'UPGRADE' as direction, d.score, d.score - 4 as previous_score,
               4 as score_change, d.score - 3 as score_7d_ago, d.score::numeric as intent_score, 80::numeric as fit_score,
               'synthetic' as reason, '[]'::jsonb as factors, '[]'::jsonb as evidence_signal_ids,
               '[]'::jsonb as evidence_signal_types
        from marts.fct_account_scores_daily d where abs(hashtext(d.account_score_id)) %% 20 = 0""", {})
    cur.execute("create table marts.dim_person_aliases (alias_person_id text, person_id text, alias_reason text, aliased_at timestamptz)")
    # some app state: owners and tags on a tenth of the accounts
    cur.execute("""insert into app.account_owners (account_id, owner, assigned_by)
                   select account_id, 'rep' || (n %% 10) || '@bench.test', 'bench' from marts.dim_accounts where n %% 10 = 0""", {})
    cur.execute("""insert into app.account_tags (account_id, tag, added_by)
                   select account_id, 'tag' || (n %% 7), 'bench' from marts.dim_accounts where n %% 10 = 1""", {})
    for statement in DBT_INDEXES:
        cur.execute(statement)
    cur.execute("analyze")


def _time(fn, repeat: int) -> dict:
    import sqlalchemy

    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            fn()
        except sqlalchemy.exc.OperationalError as error:
            if "statement timeout" not in str(error):
                raise
            return {"p50_ms": None, "p95_ms": None, "timed_out_after_s": TODAY_TIMEOUT_SECONDS}
        seconds.append(time.perf_counter() - started)
    seconds.sort()
    p95 = seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))]
    return {"p50_ms": round(statistics.median(seconds) * 1000, 1), "p95_ms": round(p95 * 1000, 1)}


def _queries(hot_account: str, median_account: str) -> dict:
    from apps.crm.data import accounts as reads

    def raw(fn):
        return getattr(fn, "__wrapped__", fn)  # past Streamlit's cache: every call reaches PostgreSQL

    def account_360(account_id: str):
        row = raw(reads.account)(account_id)
        raw(reads.evidence_signals)(account_id)
        raw(reads.score_history)(account_id)
        raw(reads.timeline)(account_id)
        people = raw(reads.account_people)(account_id)
        mix = raw(reads.signal_mix)(account_id)
        deals = raw(reads.account_deals)(account_id)
        reads.intelligence(row, people, mix, deals)

    return {
        "accounts_list": lambda: raw(reads.account_list)(reads.AccountFilter()),
        "accounts_list_filtered": lambda: raw(reads.account_list)(reads.AccountFilter(
            tiers=("HOT", "WARM"), signal_types=("pricing_viewed",), active_within_days=30)),
        "account_360_hot": lambda: account_360(hot_account),
        "account_360_median": lambda: account_360(median_account),
        "timeline_hot": lambda: raw(reads.timeline)(hot_account),
        "people_hot": lambda: raw(reads.account_people)(hot_account),
        "signal_mix_hot": lambda: raw(reads.signal_mix)(hot_account),
    }


def bench_crm_queries(args, world_dir: Path) -> dict:
    from apps import migrations
    from apps.crm.data import query
    from devsignal import db

    accounts = getattr(args, "crm_accounts", None) or DEFAULT_ACCOUNTS
    signals = getattr(args, "crm_signals", None) or DEFAULT_SIGNALS
    keep = bool(getattr(args, "crm_keep", False))  # keep the database for looking at plans (python -m ... --keep)
    params = db.connection()
    admin = db.connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'drop database if exists "{DATABASE}" with (force)')
        cur.execute(f'create database "{DATABASE}"')
    previous = os.environ.get("DEVSIGNAL_DATABASE_URL")
    os.environ["DEVSIGNAL_DATABASE_URL"] = params.url(DATABASE)
    db.connection.cache_clear()
    result: dict = {"accounts": accounts, "signals": signals}
    try:
        migrations.upgrade()
        started = time.perf_counter()
        with db.connect() as conn, conn.cursor() as cur:
            _generate(cur, accounts, signals)
        result["generate_seconds"] = round(time.perf_counter() - started, 1)
        hot = query("select account_id from marts.fct_signals group by 1 order by count(*) desc limit 1").iat[0, 0]
        median = query("select account_id from marts.dim_accounts where n = :n", n=accounts // 2).iat[0, 0]
        result["signals_hot_account"] = int(query("select count(*) from marts.fct_signals where account_id = :a", a=hot).iat[0, 0])
        queries = _queries(hot, median)
        result["baseline"] = _time(lambda: query(
            "select account_id, name, domain, tier, score from marts.account_scores_current order by score desc limit 500"), 20)
        os.environ["PGOPTIONS"] = f"-c statement_timeout={TODAY_TIMEOUT_SECONDS * 1000}"
        db._engine_for.cache_clear()
        try:
            result["today"] = {name: _time(fn, 3) for name, fn in queries.items()}
        finally:
            os.environ.pop("PGOPTIONS", None)
            db._engine_for.cache_clear()
        started = time.perf_counter()
        with db.connect() as conn, conn.cursor() as cur:
            for statement in INDEXES:
                cur.execute(statement)
        conn = db.connect()
        try:
            conn.autocommit = True  # vacuum sets the visibility map (autovacuum's job after a dbt build)
            with conn.cursor() as cur:
                cur.execute("vacuum analyze marts.fct_signals")
                cur.execute("analyze")
        finally:
            conn.close()
        result["index_seconds"] = round(time.perf_counter() - started, 1)
        result["indexed"] = {name: _time(fn, 20) for name, fn in queries.items()}
        baseline = result["baseline"]["p95_ms"] or 0.1
        result["list_over_baseline"] = round(result["indexed"]["accounts_list"]["p95_ms"] / baseline, 1)
        result["worst_p95_ms_indexed"] = max(value["p95_ms"] for value in result["indexed"].values())
    finally:
        db.connection.cache_clear()
        db._engine_for.cache_clear()
        if previous is None:
            os.environ.pop("DEVSIGNAL_DATABASE_URL", None)
        else:
            os.environ["DEVSIGNAL_DATABASE_URL"] = previous
        db.connection.cache_clear()
        if not keep:
            with admin.cursor() as cur:
                cur.execute(f'drop database if exists "{DATABASE}" with (force)')
        admin.close()
    return result


if __name__ == "__main__":  # python -m bench.crm_queries [accounts] [signals] [--keep]: this benchmark alone
    import json
    import sys
    from types import SimpleNamespace

    sizes = [int(value) for value in sys.argv[1:] if value.isdigit()]
    arguments = SimpleNamespace(crm_accounts=sizes[0] if sizes else None, crm_signals=sizes[1] if len(sizes) > 1 else None,
                                crm_keep="--keep" in sys.argv)
    print(json.dumps(bench_crm_queries(arguments, Path(".")), indent=2))
