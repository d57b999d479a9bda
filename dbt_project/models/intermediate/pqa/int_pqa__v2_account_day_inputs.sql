{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['account_id', 'score_date'],
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['score_date', 'account_id'], 'unique': true}],
    pre_hook=["{{ pqa_prepare_incremental('evidence_signal_types') }}", "{{ pqa_work_mem() }}"],
    post_hook=["{{ pqa_drop_departed_accounts() }}"]
) }}

-- post-hook: an account that left the account set (internal domains or identity rules changed)
-- takes its history with it, so an incremental run equals a full refresh (pqa_drop_departed_accounts).

-- One row per account per day of the score spine (the first attributed signal day .. var
-- score_as_of, the same spine as v1) with the inputs of the PQA v2 score as seen at the END of
-- that day (UTC): only signals that occurred before the next midnight count (point in time).
-- Every activity input looks at the last `window_days` whole days (config), with each signal
-- decayed by the half-life of its type:
--
--   decayed_signal_volume    sum over signals of exp(-ln2 * age_days / half_life(type))
--   decayed_active_people    sum over people active in the window of exp(-ln2 * days since their last signal / user_half_life)
--   people_breadth           mean, over the `breadth_top_people` broadest people, of the sum of the
--                            breadth weights of the signal types each of them used in the window
--   count_active_senior_people  people active in the window whose title (Segment identify or CRM
--                            contact, known by that day) is senior by whole word (is_senior_title_v2)
--   evidence_signal_ids      the latest signal of the 3 strongest signal types of the window
--                            (breadth weight x decay), the "why" behind the score
--
-- Cost: it reads int_pqa__signal_days (the signals pre-aggregated per account, day, type and
-- person), aggregates them per account, type and day, and spreads those over the `window_days` days
-- they count for; nothing joins days to raw signals.
-- Incremental: recomputes the last `pqa_lookback_days` days (late signals) and appends new days,
-- reading only the signals of the window before them (the last signal ever comes from the day
-- before, already built); a new account gets its whole history; `--full-refresh` rebuilds all.

{%- set incremental = pqa_is_incremental('evidence_signal_types') %}

with

config as (

    select
        cast({{ pqa_param('window_days') }} as integer) as window_days,
        {{ pqa_param('default_half_life_days') }} as default_half_life_days,
        {{ pqa_param('user_half_life_days') }} as user_half_life_days,
        cast({{ pqa_param('breadth_top_people') }} as integer) as breadth_top_people,
        {{ pqa_param('breadth_weight') }} as default_breadth_weight
    from ({{ pqa_config_rows('v2') }}) as config_rows

),

type_params as (

    select
        subject as signal_type,
        max(value) filter (where parameter = 'half_life_days') as half_life_days,
        max(value) filter (where parameter = 'breadth_weight') as breadth_weight
    from ({{ pqa_config_rows('v2') }}) as config_rows
    where subject <> '*'
    group by subject

),

accounts as (

    select account_id, size_band from {{ ref('int_accounts__merged') }}

),

-- the spine starts on the first attributed signal day (an incremental run keeps the one built)
bounds as (

    select
        coalesce(
            {% if incremental %}(select min(score_date) from {{ this }}),{% endif %}
            (select min(signal_day) from {{ ref('int_pqa__signal_days') }} where signal_day <= {{ score_as_of() }}),
            {{ score_as_of() }}
        ) as first_day,
        {{ score_as_of() }} as last_day

),

scope as (

    {{ pqa_scope('accounts', '(select first_day from bounds)', incremental) }}

),

-- the signals that count for at least one day being (re)built, per account, day, type and person
-- (int_pqa__signal_days: count, decayed volume at the day's end, latest signal)
signals as (

    select
        signal_days.account_id,
        signal_days.signal_type,
        signal_days.actor_key,
        signal_days.signal_day,
        signal_days.count_signals,
        signal_days.decayed_at_day_end,
        signal_days.last_signal_at,
        signal_days.last_signal_id,
        coalesce(type_params.half_life_days, config.default_half_life_days) as half_life_days,
        coalesce(type_params.breadth_weight, config.default_breadth_weight) as breadth_weight
    from {{ ref('int_pqa__signal_days') }} as signal_days
    inner join scope on signal_days.account_id = scope.account_id
    cross join config
    left join type_params on signal_days.signal_type = type_params.signal_type
    where signal_days.signal_day <= {{ score_as_of() }}
        and signal_days.signal_day >= (select min(from_day) from scope) - config.window_days + 1
        and signal_days.signal_day > scope.from_day - config.window_days

),

-- per account, type and day: the count, the decayed volume at the day's end, the latest signal
type_days as (

    select
        account_id,
        signal_type,
        signal_day,
        min(half_life_days) as half_life_days,
        min(breadth_weight) as breadth_weight,
        cast(sum(count_signals) as bigint) as count_signals,
        sum(decayed_at_day_end) as decayed_at_day_end,
        max(last_signal_at) as last_signal_at,
        (array_agg(last_signal_id order by last_signal_at desc, last_signal_id desc))[1] as last_signal_id
    from signals
    group by account_id, signal_type, signal_day

),

type_days_with_next as (

    select
        *,
        lead(signal_day) over (partition by account_id, signal_type order by signal_day) as next_signal_day
    from type_days

),

-- each type-day spread over the days it counts for: signal_day + k, k < window_days
type_window as (

    select
        type_days.account_id,
        type_days.signal_day + k as score_date,
        k as age_days,
        type_days.signal_type,
        type_days.count_signals,
        type_days.decayed_at_day_end * exp(-ln(2) / type_days.half_life_days * k) as decayed_volume,
        type_days.breadth_weight * exp(-ln(2) / type_days.half_life_days * k) as evidence_strength,
        -- the type's latest day as of score_date (its next day, if any, is later)
        coalesce(type_days.signal_day + k < type_days.next_signal_day, true) as is_latest_of_type,
        type_days.last_signal_at,
        type_days.last_signal_id
    from type_days_with_next as type_days
    inner join scope on type_days.account_id = scope.account_id
    cross join config
    cross join lateral generate_series(
        greatest(0, scope.from_day - type_days.signal_day),
        least(config.window_days - 1, {{ score_as_of() }} - type_days.signal_day)
    ) as k

),

activity as (

    select
        account_id,
        score_date,
        sum(count_signals) as count_signals_window,
        sum(count_signals) filter (where age_days < 7) as count_signals_7d,
        count(*) filter (where is_latest_of_type) as count_signal_types_window,
        sum(decayed_volume) as decayed_signal_volume,
        max(last_signal_at) as last_signal_at_window,
        to_jsonb((array_agg(last_signal_id order by evidence_strength desc, last_signal_at desc, last_signal_id)
            filter (where is_latest_of_type))[1:3]) as evidence_signal_ids,
        to_jsonb((array_agg(signal_type order by evidence_strength desc, last_signal_at desc, last_signal_id)
            filter (where is_latest_of_type))[1:3]) as evidence_signal_types
    from type_window
    group by account_id, score_date

),

-- people: each (person, type, day) covers the days until the type's next use by that person or
-- the end of the window, whichever is first, so every person-day of the window is counted once
person_type_days as (

    select distinct account_id, actor_key, signal_type, signal_day, breadth_weight
    from signals
    where actor_key is not null

),

person_type_spans as (

    select
        person_type_days.*,
        least(
            signal_day + (select window_days from config) - 1,
            lead(signal_day) over (partition by account_id, actor_key, signal_type order by signal_day) - 1,
            {{ score_as_of() }}
        ) as covered_until
    from person_type_days

),

person_days as (

    select
        spans.account_id,
        spans.actor_key,
        spans.signal_day + k as score_date,
        sum(spans.breadth_weight) as breadth,
        max(spans.signal_day) as last_active_day
    from person_type_spans as spans
    inner join scope on spans.account_id = scope.account_id
    cross join lateral generate_series(
        greatest(0, scope.from_day - spans.signal_day),
        spans.covered_until - spans.signal_day
    ) as k
    group by spans.account_id, spans.actor_key, spans.signal_day + k

),

-- when a person first held a senior title we know of (Segment identify traits, CRM contacts;
-- a CRM contact without a create date has always existed)
senior_titles as (

    select email, min(known_at) as senior_since
    from (
        select email, title, identified_at as known_at
        from {{ ref('stg_segment__identifies') }}
        where email is not null and identified_at is not null

        union all

        select email, title, coalesce(created_at, cast('1970-01-01' as timestamp) at time zone 'UTC')
        from {{ ref('int_crm__contacts_unioned') }}
        where email is not null
    ) as titles
    where {{ is_senior_title_v2('title') }}
    group by email

),

ranked_people as (

    select
        person_days.*,
        coalesce(
            senior_titles.senior_since < cast(person_days.score_date + 1 as timestamp) at time zone 'UTC',
            false
        ) as is_senior,
        row_number() over (
            partition by person_days.account_id, person_days.score_date
            order by person_days.breadth desc, person_days.actor_key
        ) as breadth_rank
    from person_days
    left join senior_titles on person_days.actor_key = senior_titles.email

),

people as (

    select
        ranked_people.account_id,
        ranked_people.score_date,
        count(*) as count_active_people,
        sum(exp(-ln(2) / config.user_half_life_days * (ranked_people.score_date - ranked_people.last_active_day)))
            as decayed_active_people,
        avg(ranked_people.breadth) filter (where ranked_people.breadth_rank <= config.breadth_top_people)
            as people_breadth,
        count(*) filter (where ranked_people.is_senior) as count_active_senior_people
    from ranked_people
    cross join config
    group by ranked_people.account_id, ranked_people.score_date

),

spine as (

    select
        scope.account_id,
        accounts.size_band,
        cast(day as date) as score_date
    from scope
    inner join accounts on scope.account_id = accounts.account_id
    cross join lateral generate_series(
        cast(scope.from_day as timestamp), cast({{ score_as_of() }} as timestamp), interval '1 day'
    ) as day

),

-- the latest signal ever (the window may be empty): a running max over the spine, seeded with
-- the last signal before the first day rebuilt (the day before, already built; none on a full build)
daily_last_signal as (

    select account_id, signal_day, max(last_signal_at) as last_signal_at
    from signals
    group by account_id, signal_day

),

last_signal_before as (

    {%- if incremental %}
    select scope.account_id, built.last_signal_at
    from scope
    inner join {{ this }} as built
        on scope.account_id = built.account_id and built.score_date = scope.from_day - 1
    {%- else %}
    select cast(null as text) as account_id, cast(null as timestamp with time zone) as last_signal_at
    where false
    {%- endif %}

),

joined as (

    select
        spine.account_id,
        spine.score_date,
        spine.size_band,
        greatest(
            last_signal_before.last_signal_at,
            max(daily_last_signal.last_signal_at) over (
                partition by spine.account_id order by spine.score_date rows between unbounded preceding and current row)
        ) as last_signal_at,
        coalesce(activity.count_signals_window, 0) as count_signals_window,
        coalesce(activity.count_signals_7d, 0) as count_signals_7d,
        coalesce(activity.count_signal_types_window, 0) as count_signal_types_window,
        coalesce(activity.decayed_signal_volume, 0) as decayed_signal_volume,
        coalesce(people.count_active_people, 0) as count_active_people,
        coalesce(people.decayed_active_people, 0) as decayed_active_people,
        coalesce(people.people_breadth, 0) as people_breadth,
        coalesce(people.count_active_senior_people, 0) as count_active_senior_people,
        activity.evidence_signal_ids,
        activity.evidence_signal_types
    from spine
    left join activity
        on spine.account_id = activity.account_id and spine.score_date = activity.score_date
    left join people
        on spine.account_id = people.account_id and spine.score_date = people.score_date
    left join daily_last_signal
        on spine.account_id = daily_last_signal.account_id and spine.score_date = daily_last_signal.signal_day
    left join last_signal_before on spine.account_id = last_signal_before.account_id

),

final as (

    select
        account_id,
        score_date,
        cast(score_date + 1 as timestamp) at time zone 'UTC' as scored_at,
        cast(count_signals_window as integer) as count_signals_window,
        cast(count_signals_7d as integer) as count_signals_7d,
        cast(count_signal_types_window as integer) as count_signal_types_window,
        round(cast(decayed_signal_volume as numeric), 4) as decayed_signal_volume,
        cast(count_active_people as integer) as count_active_people,
        round(cast(decayed_active_people as numeric), 4) as decayed_active_people,
        round(cast(people_breadth as numeric), 4) as people_breadth,
        cast(count_active_senior_people as integer) as count_active_senior_people,
        last_signal_at,
        round(cast(extract(epoch from (cast(score_date + 1 as timestamp) at time zone 'UTC' - last_signal_at)) / 86400.0
            as numeric), 4) as days_since_last_signal,
        size_band,
        coalesce(evidence_signal_ids, cast('[]' as jsonb)) as evidence_signal_ids,
        coalesce(evidence_signal_types, cast('[]' as jsonb)) as evidence_signal_types
    from joined

)

select * from final
