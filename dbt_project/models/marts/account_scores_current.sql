{{ config(materialized='table', indexes=[{'columns': ['account_id'], 'unique': true}]) }}

-- One row per account: its score on the last day scored (var score_as_of) in the LIVE score
-- version (var `pqa_live_score_version`, default v2), with the account's name and domain, the
-- factors (jsonb, the shape the seed stored), a one-line reason and the evidence signal ids; the
-- other version's score and tier sit alongside (shadow mode: v1 stays visible while v2 is live).
-- The app's "who is hot now" (apps/crm/data.py, devsignal/pipeline.py).

{%- set live = pqa_live_score_version() %}
{%- set shadow = 'v1' if live == 'v2' else 'v2' %}

with

last_day as (

    select max(score_date) as score_date from {{ ref('fct_account_scores_daily') }}

),

scores as (

    select scores.*
    from {{ ref('fct_account_scores_daily') }} as scores
    where scores.score_date = (select score_date from last_day)

),

live as (

    select * from scores where score_version = '{{ live }}'

),

shadow as (

    select account_id, score, tier from scores where score_version = '{{ shadow }}'

),

tier_since as (

    select account_id, max(score_date) as tier_since
    from {{ ref('fct_account_tier_changes') }}
    where score_version = '{{ live }}'
    group by account_id

),

first_day as (

    select min(score_date) as score_date from {{ ref('fct_account_scores_daily') }}

),

weights as (

    {{ pqa_v2_weights_relation() }}

),

-- the scored accounts are int_accounts__merged's (not dim_accounts: dim_accounts carries this
-- model's score, tier and trend, so reading it here would be a cycle)
accounts as (

    select account_id, domain, name, industry from {{ ref('int_accounts__merged') }}

),

final as (

    select
        ---------- ids
        live.account_id,
        accounts.domain,
        accounts.name,
        accounts.industry,
        live.score_date,
        live.score_version,
        live.scored_at,

        ---------- score
        live.score,
        live.tier,
        live.trend,
        live.previous_score,
        live.previous_tier,
        coalesce(tier_since.tier_since, (select score_date from first_day)) as tier_since,
        live.score_7d_ago,
        live.score_30d_ago,
        live.intent_score,
        live.fit_score,
        live.score_tier,
        {{ pqa_reason('live') }} as reason,

        ---------- factors
        live.pqa_user_count_points,
        live.pqa_usage_velocity_points,
        live.pqa_feature_breadth_points,
        live.pqa_engagement_recency_points,
        live.pqa_seniority_signals_points,
        live.pqa_firmographic_fit_points,
        {{ pqa_factors_json('live', 'weights') }} as factors,

        ---------- evidence
        live.evidence_signal_ids,
        live.evidence_signal_types,
        live.count_signals_30d,
        live.count_signals_7d,
        live.count_users_30d,
        live.count_signal_types_30d,
        live.count_senior_contacts,
        live.count_signals_window,
        live.count_active_people,
        live.count_active_senior_people,
        live.last_signal_at,
        live.days_since_last_signal,
        live.size_band,

        ---------- the other version, side by side
        shadow.score as {{ shadow }}_score,
        shadow.tier as {{ shadow }}_tier

    from live
    inner join accounts on live.account_id = accounts.account_id
    cross join weights
    left join shadow on live.account_id = shadow.account_id
    left join tier_since on live.account_id = tier_since.account_id

)

select * from final
