-- One row per account per day (first signal day .. var score_as_of): the PQA score as it stood at
-- the end of that day, its six factor contributions (columns and the `factors` jsonb), tier, and
-- trend against the previous day (delta >= +5 RISING, <= -5 FALLING, else STABLE; the first day
-- is STABLE). History, not one overwritten row: tier changes and backtests read this table.

with

factors as (

    select * from {{ ref('int_pqa__v1_factors') }}

),

with_previous as (

    select
        *,
        lag(score) over by_account as previous_score,
        lag(tier) over by_account as previous_tier
    from factors
    window by_account as (partition by account_id, score_version order by score_date)

),

final as (

    select
        ---------- ids
        {{ surrogate_key(['account_id', 'score_date', 'score_version']) }} as account_score_id,
        account_id,
        score_date,
        score_version,
        scored_at,

        ---------- factor points
        pqa_user_count_points,
        pqa_usage_velocity_points,
        pqa_feature_breadth_points,
        pqa_engagement_recency_points,
        pqa_seniority_signals_points,
        pqa_firmographic_fit_points,
        factors,

        ---------- score
        score,
        tier,
        case
            when score - previous_score >= 5 then 'RISING'
            when score - previous_score <= -5 then 'FALLING'
            else 'STABLE'
        end as trend,
        previous_score,
        previous_tier,
        coalesce(tier <> previous_tier, false) as is_tier_change,

        ---------- evidence
        count_signals_30d,
        count_signals_7d,
        count_users_30d,
        count_signal_types_30d,
        last_signal_at,
        count_senior_contacts,
        size_band

    from with_previous

)

select * from final
