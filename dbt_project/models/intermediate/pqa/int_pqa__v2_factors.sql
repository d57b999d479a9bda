-- One row per account per day: the PQA v2 score, the same six factors as v1 done right. Pure
-- arithmetic over int_pqa__v2_account_day_inputs and the v2 rows of the seed
-- pqa_scoring_config (every number below is a parameter there); unit-tested in _pqa__models.yml.
--
-- Each factor has a `value` (what was measured), a normalised 0..1 share, and `points`
-- = weight x share (its contribution). Weights sum to 100 and every share is capped at 1, so the
-- score is bounded to 0..100 by construction.
--
--  factor              value                                    share (0..1)
--  user_count          decayed active people                    ln(1 + people) / ln(1 + saturation)
--  usage_velocity      decayed signals per active person        ln(1 + x) / ln(1 + saturation)   (1 signal: ~0.15, not 1)
--  feature_breadth     weighted types of the broadest people    x / saturation
--  engagement_recency  days since the last signal               exp(-ln2 x days / recency_half_life); 0 beyond the window
--  seniority_signals   active people with a senior title        x / saturation
--  firmographic_fit    size band                                size_fit(band)
--
-- Fit is kept apart from intent: intent_score = the five activity factors' points over their
-- weights (0..100); fit_score = size_fit x 100; fit's points are scaled by
-- min(intent_score / fit_full_at_intent_score, 1), so a company that does nothing scores 0.
-- score = round(sum of points); score_tier from the tier_min_score thresholds; an account silent
-- for more than inactive_after_days (or never seen) is INACTIVE. Hysteresis is applied in
-- fct_account_scores_daily (it needs the previous days).

with

inputs as (

    -- the arithmetic runs in double precision (numeric ln/exp are slow); outputs are rounded numerics
    select
        account_id,
        score_date,
        scored_at,
        cast(decayed_signal_volume as double precision) as decayed_signal_volume,
        cast(decayed_active_people as double precision) as decayed_active_people,
        cast(people_breadth as double precision) as people_breadth,
        cast(days_since_last_signal as double precision) as days_since_last_signal,
        count_active_senior_people,
        size_band,
        count_signals_window,
        count_signals_7d,
        count_signal_types_window,
        count_active_people,
        last_signal_at,
        evidence_signal_ids,
        evidence_signal_types
    from {{ ref('int_pqa__v2_account_day_inputs') }}

),

config as (

    select
        {{ pqa_param('window_days') }} as window_days,
        {{ pqa_param('recency_half_life_days') }} as recency_half_life_days,
        {{ pqa_param('inactive_after_days') }} as inactive_after_days,
        {{ pqa_param('tier_min_score', 'HOT') }} as hot_min_score,
        {{ pqa_param('tier_min_score', 'WARM') }} as warm_min_score,
        {{ pqa_param('tier_min_score', 'COLD') }} as cold_min_score,
        {{ pqa_param('factor_weight', 'user_count') }} as user_count_weight,
        {{ pqa_param('factor_weight', 'usage_velocity') }} as usage_velocity_weight,
        {{ pqa_param('factor_weight', 'feature_breadth') }} as feature_breadth_weight,
        {{ pqa_param('factor_weight', 'engagement_recency') }} as engagement_recency_weight,
        {{ pqa_param('factor_weight', 'seniority_signals') }} as seniority_signals_weight,
        {{ pqa_param('factor_weight', 'firmographic_fit') }} as firmographic_fit_weight,
        {{ pqa_param('saturation', 'user_count') }} as user_count_saturation,
        {{ pqa_param('saturation', 'usage_velocity') }} as usage_velocity_saturation,
        {{ pqa_param('saturation', 'feature_breadth') }} as feature_breadth_saturation,
        {{ pqa_param('saturation', 'seniority_signals') }} as seniority_signals_saturation,
        {{ pqa_param('fit_full_at_intent_score') }} as fit_full_at_intent_score,
        {{ pqa_param('size_fit', 'STARTUP') }} as fit_startup,
        {{ pqa_param('size_fit', 'SMALL') }} as fit_small,
        {{ pqa_param('size_fit', 'MEDIUM') }} as fit_medium,
        {{ pqa_param('size_fit', 'LARGE') }} as fit_large,
        {{ pqa_param('size_fit', 'ENTERPRISE') }} as fit_enterprise,
        {{ pqa_param('size_fit') }} as fit_unknown
    from ({{ pqa_config_rows('v2') }}) as config_rows

),

shares as (

    select
        inputs.*,
        config.*,
        inputs.decayed_signal_volume / greatest(inputs.decayed_active_people, 1) as signals_per_person,
        least(1.0, ln(1 + inputs.decayed_active_people) / ln(1 + config.user_count_saturation)) as user_count_share,
        least(1.0, ln(1 + inputs.decayed_signal_volume / greatest(inputs.decayed_active_people, 1))
            / ln(1 + config.usage_velocity_saturation)) as usage_velocity_share,
        least(1.0, inputs.people_breadth / config.feature_breadth_saturation) as feature_breadth_share,
        case
            when inputs.days_since_last_signal is null or inputs.days_since_last_signal > config.window_days then 0.0
            else exp(-ln(2) * inputs.days_since_last_signal / config.recency_half_life_days)
        end as engagement_recency_share,
        least(1.0, inputs.count_active_senior_people / config.seniority_signals_saturation) as seniority_signals_share,
        case inputs.size_band
            when 'STARTUP' then config.fit_startup
            when 'SMALL' then config.fit_small
            when 'MEDIUM' then config.fit_medium
            when 'LARGE' then config.fit_large
            when 'ENTERPRISE' then config.fit_enterprise
            else config.fit_unknown
        end as firmographic_fit_share
    from inputs
    cross join config

),

intent as (

    select
        *,
        user_count_weight * user_count_share
            + usage_velocity_weight * usage_velocity_share
            + feature_breadth_weight * feature_breadth_share
            + engagement_recency_weight * engagement_recency_share
            + seniority_signals_weight * seniority_signals_share as intent_points,
        user_count_weight + usage_velocity_weight + feature_breadth_weight
            + engagement_recency_weight + seniority_signals_weight as intent_weight
    from shares

),

points as (

    select
        *,
        100.0 * intent_points / intent_weight as intent_score_exact,
        firmographic_fit_weight * firmographic_fit_share
            * least(1.0, (100.0 * intent_points / intent_weight) / fit_full_at_intent_score) as fit_points,
        days_since_last_signal is null or days_since_last_signal > inactive_after_days as is_silent
    from intent

),

scored as (

    select
        *,
        cast(least(100, greatest(0, round(intent_points + fit_points))) as integer) as score
    from points

),

final as (

    select
        account_id,
        score_date,
        scored_at,
        'v2' as score_version,

        ---------- factor values (what was measured)
        round(cast(decayed_active_people as numeric), 4) as pqa_user_count_value,
        round(cast(signals_per_person as numeric), 4) as pqa_usage_velocity_value,
        round(cast(people_breadth as numeric), 4) as pqa_feature_breadth_value,
        round(cast(days_since_last_signal as numeric), 4) as pqa_engagement_recency_value,
        cast(count_active_senior_people as numeric) as pqa_seniority_signals_value,
        round(cast(firmographic_fit_share as numeric), 4) as pqa_firmographic_fit_value,

        ---------- factor contributions (points)
        round(cast(user_count_weight * user_count_share as numeric), 2) as pqa_user_count_points,
        round(cast(usage_velocity_weight * usage_velocity_share as numeric), 2) as pqa_usage_velocity_points,
        round(cast(feature_breadth_weight * feature_breadth_share as numeric), 2) as pqa_feature_breadth_points,
        round(cast(engagement_recency_weight * engagement_recency_share as numeric), 2) as pqa_engagement_recency_points,
        round(cast(seniority_signals_weight * seniority_signals_share as numeric), 2) as pqa_seniority_signals_points,
        round(cast(fit_points as numeric), 2) as pqa_firmographic_fit_points,

        ---------- score
        score,
        round(cast(intent_score_exact as numeric), 1) as intent_score,
        round(cast(100 * firmographic_fit_share as numeric), 1) as fit_score,
        is_silent,
        case
            when is_silent then 'INACTIVE'
            when score >= hot_min_score then 'HOT'
            when score >= warm_min_score then 'WARM'
            when score >= cold_min_score then 'COLD'
            else 'INACTIVE'
        end as score_tier,

        ---------- evidence
        count_signals_window,
        count_signals_7d,
        count_signal_types_window,
        count_active_people,
        count_active_senior_people,
        last_signal_at,
        round(cast(days_since_last_signal as numeric), 4) as days_since_last_signal,
        size_band,
        evidence_signal_ids,
        evidence_signal_types

    from scored

)

select * from final
