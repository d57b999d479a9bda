{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['account_id', 'score_date', 'score_version'],
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['score_date', 'score_version', 'account_id'], 'unique': true},
             {'columns': ['account_id', 'score_version', 'score_date']}],
    pre_hook=["{{ pqa_prepare_incremental('score_tier', ['account_scores_current']) }}", "{{ pqa_work_mem() }}"],
    post_hook=["{{ pqa_drop_departed_accounts() }}", "{{ pqa_tier_change_index() }}"]
) }}

-- post-hooks: an account that left the account set (internal domains or identity rules changed)
-- takes its history with it, so an incremental run equals a full refresh (pqa_drop_departed_accounts);
-- a partial index on the tier changes, so fct_account_tier_changes reads them without a scan
-- (pqa_tier_change_index).

-- One row per account, per day (first signal day .. var score_as_of) and per score version: the
-- PQA score as it stood at the end of that day (UTC), point in time (only signals that occurred
-- by then), with each factor's value and points, the tier, and how it moved.
--
--   v1  the seed's 6-factor model exactly (int_pqa__v1_factors); tier = its thresholds; trend
--       against the previous day (>= +5 RISING, <= -5 FALLING), as the seed did.
--   v2  int_pqa__v2_factors; tier with hysteresis: upgrades are immediate, a lower tier is
--       published only once it has held for `downgrade_after_days` days (the published tier is the
--       highest threshold tier of the last N days), and an account silent for more than
--       `inactive_after_days` is INACTIVE at once; trend against `trend_compare_days` earlier.
--
-- History, not one overwritten row: tier changes, trends against 7 and 30 days ago and the
-- backtest read this table. Incremental on score_date: each run recomputes the last
-- `pqa_lookback_days` days (late signals) and appends new ones, reading 30 days of its own history
-- for the lags and the hysteresis; a new account gets its whole history; `--full-refresh`
-- rebuilds all.

{%- set history_days = 30 %}
{%- set incremental = pqa_is_incremental('score_tier') %}

with

config as (

    select
        cast({{ pqa_param('downgrade_after_days') }} as integer) as downgrade_after_days,
        cast({{ pqa_param('trend_compare_days') }} as integer) as trend_compare_days,
        {{ pqa_param('trend_threshold_points') }} as trend_threshold_points
    from ({{ pqa_config_rows('v2') }}) as config_rows

),

{% if incremental %}
-- the first day rebuilt per account already held; accounts not held yet get everything
built as (

    select
        account_id,
        least(score_date, {{ score_as_of() }}) - {{ pqa_lookback_days() }} as from_day
    from {{ this }}
    where score_date = (select max(score_date) from {{ this }})
    group by account_id, score_date

),

-- the first day any account is rebuilt from: an account the table does not hold yet (added by a
-- config or identity change, e.g. a domain no longer internal) needs its whole history, so then
-- everything is read (only its rows and the lookback days are written)
rebuild_from as (

    select
        case
            when exists (
                select 1 from {{ ref('int_accounts__merged') }} as accounts
                where not exists (select 1 from built where built.account_id = accounts.account_id)
            ) then cast('0001-01-01' as date)
            else coalesce(min(from_day), cast('0001-01-01' as date))
        end as first_from_day
    from built

),
{% endif %}

v1 as (

    select
        v1.account_id,
        v1.score_date,
        v1.scored_at,
        v1.score_version,
        cast(v1.count_users_30d as numeric) as pqa_user_count_value,
        round(cast(case when v1.count_signals_30d > 0 then 1.0 * v1.count_signals_7d / v1.count_signals_30d end as numeric), 4)
            as pqa_usage_velocity_value,
        cast(v1.count_signal_types_30d as numeric) as pqa_feature_breadth_value,
        round(cast(v1.days_since_last_signal as numeric), 4) as pqa_engagement_recency_value,
        cast(v1.count_senior_contacts as numeric) as pqa_seniority_signals_value,
        round(v1.pqa_firmographic_fit_points / 10.0, 4) as pqa_firmographic_fit_value,
        cast(v1.pqa_user_count_points as numeric) as pqa_user_count_points,
        cast(v1.pqa_usage_velocity_points as numeric) as pqa_usage_velocity_points,
        cast(v1.pqa_feature_breadth_points as numeric) as pqa_feature_breadth_points,
        cast(v1.pqa_engagement_recency_points as numeric) as pqa_engagement_recency_points,
        cast(v1.pqa_seniority_signals_points as numeric) as pqa_seniority_signals_points,
        cast(v1.pqa_firmographic_fit_points as numeric) as pqa_firmographic_fit_points,
        cast(v1.score as integer) as score,
        cast(null as numeric) as intent_score,
        cast(null as numeric) as fit_score,
        false as is_silent,
        v1.tier as score_tier,
        v1.count_signals_30d,
        v1.count_signals_7d,
        v1.count_users_30d,
        v1.count_signal_types_30d,
        v1.count_senior_contacts,
        cast(null as integer) as count_signals_window,
        cast(null as integer) as count_signal_types_window,
        cast(null as integer) as count_active_people,
        cast(null as integer) as count_active_senior_people,
        v1.last_signal_at,
        round(cast(v1.days_since_last_signal as numeric), 4) as days_since_last_signal,
        v1.size_band,
        evidence.evidence_signal_ids,
        evidence.evidence_signal_types
    from {{ ref('int_pqa__v1_factors') }} as v1
    -- the same evidence as v2's (the strongest recent signals of the account that day)
    left join {{ ref('int_pqa__v2_account_day_inputs') }} as evidence
        on v1.account_id = evidence.account_id and v1.score_date = evidence.score_date
    {% if incremental %}
    left join built on v1.account_id = built.account_id
    where v1.score_date >= (select first_from_day from rebuild_from)
        and v1.score_date >= coalesce(built.from_day, cast('0001-01-01' as date))
        and (evidence.score_date is null or evidence.score_date >= (select first_from_day from rebuild_from))
    {% endif %}

),

v2 as (

    select
        v2.account_id,
        v2.score_date,
        v2.scored_at,
        v2.score_version,
        v2.pqa_user_count_value,
        v2.pqa_usage_velocity_value,
        v2.pqa_feature_breadth_value,
        v2.pqa_engagement_recency_value,
        v2.pqa_seniority_signals_value,
        v2.pqa_firmographic_fit_value,
        v2.pqa_user_count_points,
        v2.pqa_usage_velocity_points,
        v2.pqa_feature_breadth_points,
        v2.pqa_engagement_recency_points,
        v2.pqa_seniority_signals_points,
        v2.pqa_firmographic_fit_points,
        v2.score,
        v2.intent_score,
        v2.fit_score,
        v2.is_silent,
        v2.score_tier,
        cast(null as integer) as count_signals_30d,
        v2.count_signals_7d,
        cast(null as integer) as count_users_30d,
        cast(null as integer) as count_signal_types_30d,
        cast(null as integer) as count_senior_contacts,
        v2.count_signals_window,
        v2.count_signal_types_window,
        v2.count_active_people,
        v2.count_active_senior_people,
        v2.last_signal_at,
        v2.days_since_last_signal,
        v2.size_band,
        v2.evidence_signal_ids,
        v2.evidence_signal_types
    from {{ ref('int_pqa__v2_factors') }} as v2
    {% if incremental %}
    left join built on v2.account_id = built.account_id
    where v2.score_date >= (select first_from_day from rebuild_from)
        and v2.score_date >= coalesce(built.from_day, cast('0001-01-01' as date))
    {% endif %}

),

new_rows as (

    select *, true as is_new, cast(null as text) as stored_tier from v1
    union all
    select *, true as is_new, cast(null as text) as stored_tier from v2

),

{% if incremental %}
-- the days just before the rebuilt ones, for the lags and the hysteresis (their stored tier is kept)
{%- set kept = ['account_id', 'score_date', 'score_version', 'score', 'score_tier'] %}
{%- set columns = [
    ('account_id', 'text'), ('score_date', 'date'), ('scored_at', 'timestamp with time zone'), ('score_version', 'text'),
    ('pqa_user_count_value', 'numeric'), ('pqa_usage_velocity_value', 'numeric'), ('pqa_feature_breadth_value', 'numeric'),
    ('pqa_engagement_recency_value', 'numeric'), ('pqa_seniority_signals_value', 'numeric'), ('pqa_firmographic_fit_value', 'numeric'),
    ('pqa_user_count_points', 'numeric'), ('pqa_usage_velocity_points', 'numeric'), ('pqa_feature_breadth_points', 'numeric'),
    ('pqa_engagement_recency_points', 'numeric'), ('pqa_seniority_signals_points', 'numeric'), ('pqa_firmographic_fit_points', 'numeric'),
    ('score', 'integer'), ('intent_score', 'numeric'), ('fit_score', 'numeric'), ('is_silent', 'boolean'), ('score_tier', 'text'),
    ('count_signals_30d', 'integer'), ('count_signals_7d', 'integer'), ('count_users_30d', 'integer'),
    ('count_signal_types_30d', 'integer'), ('count_senior_contacts', 'integer'), ('count_signals_window', 'integer'),
    ('count_signal_types_window', 'integer'), ('count_active_people', 'integer'), ('count_active_senior_people', 'integer'),
    ('last_signal_at', 'timestamp with time zone'), ('days_since_last_signal', 'numeric'), ('size_band', 'text'),
    ('evidence_signal_ids', 'jsonb'), ('evidence_signal_types', 'jsonb'),
] %}
history as (

    select
        {%- for name, data_type in columns %}
        {% if name in kept %}this.{{ name }}{% else %}cast(null as {{ data_type }}){% endif %} as {{ name }},
        {%- endfor %}
        false as is_new,
        this.tier as stored_tier
    from {{ this }} as this
    inner join built on this.account_id = built.account_id
    where this.score_date >= (select first_from_day from rebuild_from) - {{ history_days }}
        and this.score_date >= built.from_day - {{ history_days }}
        and this.score_date < built.from_day

),
{% endif %}

scores as (

    select * from new_rows
    {% if incremental %}
    union all
    select * from history
    {% endif %}

),

-- hysteresis (v2): the published tier is the highest threshold tier of the last N days, i.e. a
-- lower tier shows only once it has held N days. For v1, N = 1 (the threshold tier itself).
ranked as (

    select
        scores.*,
        case when scores.score_version = 'v2' then config.downgrade_after_days else 1 end as hold_days,
        case when scores.score_version = 'v2' then config.trend_compare_days else 1 end as trend_days,
        case when scores.score_version = 'v2' then config.trend_threshold_points else 5 end as trend_points,
        case scores.score_tier when 'HOT' then 3 when 'WARM' then 2 when 'COLD' then 1 else 0 end as tier_rank
    from scores
    cross join config

),

held as (

    select
        *,
        max(case when tier_rank >= 3 then score_date end) over by_day as last_hot_day,
        max(case when tier_rank >= 2 then score_date end) over by_day as last_warm_day,
        max(case when tier_rank >= 1 then score_date end) over by_day as last_cold_day
    from ranked
    window by_day as (partition by account_id, score_version order by score_date
                      rows between unbounded preceding and current row)

),

tiered as (

    select
        *,
        coalesce(stored_tier, case
            when is_silent then 'INACTIVE'
            when score_date - last_hot_day < hold_days then 'HOT'
            when score_date - last_warm_day < hold_days then 'WARM'
            when score_date - last_cold_day < hold_days then 'COLD'
            else 'INACTIVE'
        end) as tier
    from held

),

moved as (

    select
        *,
        lag(score) over by_day as previous_score,
        lag(tier) over by_day as previous_tier,
        lag(score, trend_days) over by_day as trend_base_score,
        lag(score, 7) over by_day as score_7d_ago,
        lag(score, 30) over by_day as score_30d_ago
    from tiered
    window by_day as (partition by account_id, score_version order by score_date)

),

final as (

    select
        ---------- ids
        {{ surrogate_key(['account_id', 'score_date', 'score_version']) }} as account_score_id,
        account_id,
        score_date,
        score_version,
        scored_at,

        ---------- score
        score,
        tier,
        score_tier,
        case
            when score - trend_base_score >= trend_points then 'RISING'
            when score - trend_base_score <= -trend_points then 'FALLING'
            else 'STABLE'
        end as trend,
        previous_score,
        previous_tier,
        coalesce(tier <> previous_tier, false) as is_tier_change,
        score_7d_ago,
        score_30d_ago,
        intent_score,
        fit_score,
        is_silent,

        ---------- factor points (contributions)
        pqa_user_count_points,
        pqa_usage_velocity_points,
        pqa_feature_breadth_points,
        pqa_engagement_recency_points,
        pqa_seniority_signals_points,
        pqa_firmographic_fit_points,

        ---------- factor values (what was measured)
        pqa_user_count_value,
        pqa_usage_velocity_value,
        pqa_feature_breadth_value,
        pqa_engagement_recency_value,
        pqa_seniority_signals_value,
        pqa_firmographic_fit_value,

        ---------- evidence
        evidence_signal_ids,
        evidence_signal_types,
        count_signals_30d,
        count_signals_7d,
        count_users_30d,
        count_signal_types_30d,
        count_senior_contacts,
        count_signals_window,
        count_signal_types_window,
        count_active_people,
        count_active_senior_people,
        last_signal_at,
        days_since_last_signal,
        size_band

    from moved
    where is_new

)

select * from final
