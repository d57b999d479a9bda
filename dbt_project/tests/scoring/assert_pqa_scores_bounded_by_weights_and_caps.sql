-- Weights and caps bound every score to 0..100: each factor's points lie within 0..its weight
-- (v1: the seed's 25/20/20/15/10/10; v2: the config's factor_weight), the score within 0..100 and
-- within 1 point of the sum of its factors' (rounded) points. Rows returned = violations.

with

weights as (

    select
        'v2' as score_version,
        {{ pqa_param('factor_weight', 'user_count') }} as user_count,
        {{ pqa_param('factor_weight', 'usage_velocity') }} as usage_velocity,
        {{ pqa_param('factor_weight', 'feature_breadth') }} as feature_breadth,
        {{ pqa_param('factor_weight', 'engagement_recency') }} as engagement_recency,
        {{ pqa_param('factor_weight', 'seniority_signals') }} as seniority_signals,
        {{ pqa_param('factor_weight', 'firmographic_fit') }} as firmographic_fit
    from ({{ pqa_config_rows('v2') }}) as config_rows

    union all

    select 'v1', 25, 20, 20, 15, 10, 10

),

scores as (

    select
        s.account_id,
        s.score_date,
        s.score_version,
        s.score,
        s.pqa_user_count_points + s.pqa_usage_velocity_points + s.pqa_feature_breadth_points
            + s.pqa_engagement_recency_points + s.pqa_seniority_signals_points + s.pqa_firmographic_fit_points as sum_points,
        s.pqa_user_count_points not between 0 and weights.user_count
            or s.pqa_usage_velocity_points not between 0 and weights.usage_velocity
            or s.pqa_feature_breadth_points not between 0 and weights.feature_breadth
            or s.pqa_engagement_recency_points not between 0 and weights.engagement_recency
            or s.pqa_seniority_signals_points not between 0 and weights.seniority_signals
            or s.pqa_firmographic_fit_points not between 0 and weights.firmographic_fit as factor_out_of_bounds
    from {{ ref('fct_account_scores_daily') }} as s
    inner join weights on s.score_version = weights.score_version

)

select *
from scores
where score not between 0 and 100
    or factor_out_of_bounds
    or abs(score - least(sum_points, 100)) > 1
