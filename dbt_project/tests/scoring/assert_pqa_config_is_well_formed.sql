-- The v2 config must bound the score: factor weights are non-negative and sum to exactly 100,
-- saturations and half-lives are positive, size fits lie in 0..1, tier thresholds are ordered
-- HOT > WARM > COLD > 0, and the windows the SQL relies on are sane (the daily fact reads 30 days
-- of its own history, so downgrade_after_days and trend_compare_days are at most 30).
-- Rows returned = violations.

with

config as (

    {{ pqa_config_rows('v2') }}

),

checks as (

    select 'factor weights must sum to 100' as problem
    from config where parameter = 'factor_weight' having abs(sum(value) - 100) > 1e-9

    union all
    select 'a factor weight is negative' from config where parameter = 'factor_weight' and value < 0

    union all
    select 'six factor weights expected' from config where parameter = 'factor_weight' having count(*) <> 6

    union all
    select 'a saturation, half-life or window is not positive'
    from config
    where parameter in ('saturation', 'half_life_days', 'default_half_life_days', 'user_half_life_days',
                        'recency_half_life_days', 'window_days', 'breadth_top_people', 'fit_full_at_intent_score')
        and value <= 0

    union all
    select 'a size fit is outside 0..1' from config where parameter = 'size_fit' and value not between 0 and 1

    union all
    select 'tier thresholds must be HOT > WARM > COLD > 0'
    from (
        select
            max(value) filter (where subject = 'HOT') as hot,
            max(value) filter (where subject = 'WARM') as warm,
            max(value) filter (where subject = 'COLD') as cold
        from config where parameter = 'tier_min_score'
    ) as t
    where not (hot > warm and warm > cold and cold > 0 and hot <= 100)

    union all
    select 'downgrade_after_days and trend_compare_days must be 1..30'
    from config
    where parameter in ('downgrade_after_days', 'trend_compare_days') and value not between 1 and 30

    union all
    select 'window_days must be 1..90' from config where parameter = 'window_days' and value not between 1 and 90

    union all
    select 'a required global parameter is missing'
    from (values ('window_days'), ('default_half_life_days'), ('user_half_life_days'), ('recency_half_life_days'),
                 ('breadth_top_people'), ('inactive_after_days'), ('downgrade_after_days'), ('trend_compare_days'),
                 ('trend_threshold_points'), ('fit_full_at_intent_score')) as required(parameter)
    where not exists (select 1 from config where config.parameter = required.parameter and config.subject = '*')

)

select * from checks
