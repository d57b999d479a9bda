-- One row per account per day: the seed's 6-factor PQA score, v1, exactly as SPEC-seed §3.3–3.4
-- (pure arithmetic over int_pqa__account_day_inputs; every rule is unit-tested in
-- _pqa__models.yml). The seed's flaws are kept on purpose (v2 is a later model):
-- velocity is a ratio (1 of 1 signals = full points), seniority counts CRM titles by substring.
--
--  factor               points  rule
--  user_count           0-25    min(users_30d * 5, 25)
--  usage_velocity       0-20    round(signals_7d / signals_30d * 20); 0 when signals_30d = 0
--  feature_breadth      0-20    min(signal_types_30d * 4, 20)
--  engagement_recency   0-15    days since last signal d: <=1 15, <=3 12, <=7 8, <=14 4, else/none 0
--  seniority_signals    0-10    min(senior_contacts * 5, 10)
--  firmographic_fit     0-10    STARTUP 8, SMALL 10, MEDIUM 8, LARGE 6, ENTERPRISE 4, unknown 5
--  score = min(round(sum), 100); HOT >= 80, WARM >= 50, COLD >= 20, else INACTIVE

with

inputs as (

    select * from {{ ref('int_pqa__account_day_inputs') }}

),

points as (

    select
        *,
        least(count_users_30d * 5, 25) as pqa_user_count_points,
        case
            when coalesce(count_signals_30d, 0) = 0 then 0
            else cast(round(20.0 * count_signals_7d / count_signals_30d) as integer)
        end as pqa_usage_velocity_points,
        least(count_signal_types_30d * 4, 20) as pqa_feature_breadth_points,
        case
            when days_since_last_signal is null then 0
            when days_since_last_signal <= 1 then 15
            when days_since_last_signal <= 3 then 12
            when days_since_last_signal <= 7 then 8
            when days_since_last_signal <= 14 then 4
            else 0
        end as pqa_engagement_recency_points,
        least(count_senior_contacts * 5, 10) as pqa_seniority_signals_points,
        case size_band
            when 'STARTUP' then 8
            when 'SMALL' then 10
            when 'MEDIUM' then 8
            when 'LARGE' then 6
            when 'ENTERPRISE' then 4
            else 5
        end as pqa_firmographic_fit_points
    from inputs

),

scored as (

    select
        *,
        least(
            pqa_user_count_points
            + pqa_usage_velocity_points
            + pqa_feature_breadth_points
            + pqa_engagement_recency_points
            + pqa_seniority_signals_points
            + pqa_firmographic_fit_points,
            100
        ) as score
    from points

),

final as (

    select
        account_id,
        score_date,
        scored_at,
        'v1' as score_version,
        pqa_user_count_points,
        pqa_usage_velocity_points,
        pqa_feature_breadth_points,
        pqa_engagement_recency_points,
        pqa_seniority_signals_points,
        pqa_firmographic_fit_points,
        score,
        case
            when score >= 80 then 'HOT'
            when score >= 50 then 'WARM'
            when score >= 20 then 'COLD'
            else 'INACTIVE'
        end as tier,
        jsonb_build_array(
            jsonb_build_object(
                'name', 'user_count', 'points', pqa_user_count_points, 'max_points', 25, 'weight', 0.25,
                'description', count_users_30d || ' distinct users active in last 30 days'),
            jsonb_build_object(
                'name', 'usage_velocity', 'points', pqa_usage_velocity_points, 'max_points', 20, 'weight', 0.20,
                'description', count_signals_7d || ' signals in last 7 days out of ' || count_signals_30d || ' in 30 days'),
            jsonb_build_object(
                'name', 'feature_breadth', 'points', pqa_feature_breadth_points, 'max_points', 20, 'weight', 0.20,
                'description', count_signal_types_30d || ' distinct signal types in last 30 days'),
            jsonb_build_object(
                'name', 'engagement_recency', 'points', pqa_engagement_recency_points, 'max_points', 15, 'weight', 0.15,
                'description', case
                    when days_since_last_signal is null then 'No signals yet'
                    else 'Last signal ' || floor(days_since_last_signal) || ' days ago'
                end),
            jsonb_build_object(
                'name', 'seniority_signals', 'points', pqa_seniority_signals_points, 'max_points', 10, 'weight', 0.10,
                'description', count_senior_contacts || ' senior contacts'),
            jsonb_build_object(
                'name', 'firmographic_fit', 'points', pqa_firmographic_fit_points, 'max_points', 10, 'weight', 0.10,
                'description', 'Company size: ' || coalesce(size_band, 'unknown'))
        ) as factors,
        count_signals_30d,
        count_signals_7d,
        count_users_30d,
        count_signal_types_30d,
        last_signal_at,
        days_since_last_signal,
        count_senior_contacts,
        size_band
    from scored

)

select * from final
