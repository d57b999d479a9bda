{{ config(materialized='view') }}

-- One row per account: its latest daily PQA score (the row for var score_as_of), with the
-- account's name and domain. The analysts' and the app's "who is hot now".

with

scores as (

    select * from {{ ref('fct_account_scores_daily') }}

),

accounts as (

    select account_id, domain, name, size_band as account_size_band, industry
    from {{ ref('dim_accounts') }}

),

latest as (

    select distinct on (account_id, score_version) *
    from scores
    order by account_id, score_version, score_date desc

),

final as (

    select
        latest.account_id,
        accounts.domain,
        accounts.name,
        accounts.industry,
        latest.score_date,
        latest.score_version,
        latest.scored_at,
        latest.score,
        latest.tier,
        latest.trend,
        latest.previous_score,
        latest.previous_tier,
        latest.pqa_user_count_points,
        latest.pqa_usage_velocity_points,
        latest.pqa_feature_breadth_points,
        latest.pqa_engagement_recency_points,
        latest.pqa_seniority_signals_points,
        latest.pqa_firmographic_fit_points,
        latest.factors,
        latest.count_signals_30d,
        latest.count_signals_7d,
        latest.count_users_30d,
        latest.count_signal_types_30d,
        latest.last_signal_at,
        latest.count_senior_contacts,
        latest.size_band
    from latest
    inner join accounts on latest.account_id = accounts.account_id

)

select * from final
