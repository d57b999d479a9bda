{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['account_id', 'score_date'],
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['score_date', 'account_id'], 'unique': true}],
    pre_hook=["{{ pqa_prepare_incremental('scored_at') }}", "{{ pqa_work_mem() }}"],
    post_hook=["{{ pqa_drop_departed_accounts() }}"]
) }}

-- post-hook: an account that left the account set (internal domains or identity rules changed)
-- takes its history with it, so an incremental run equals a full refresh (pqa_drop_departed_accounts).

-- One row per account per day of the score spine (first signal day .. var score_as_of) with every
-- input of the PQA v1 score, as seen at the END of that day (UTC; `scored_at` = the next midnight),
-- so the 30- and 7-day windows are whole days: 30d = score_date-29 .. score_date.
--
-- Built to be cheap: it reads int_pqa__signal_days (the signals pre-aggregated per account, day,
-- type and person), aggregates them per account-day, then windows over the dense spine. Rolling *distinct* counts (users, signal types) use +1/-1 deltas: an actor active on day d
-- counts for days d .. d+29, so it adds 1 on d and removes 1 on min(d+30, its next active day) —
-- where the next active day adds it back. A running sum of the deltas is the distinct count. No
-- day-to-signal join anywhere.
--
-- Incremental (the v1 numbers are the same either way): a run recomputes the last
-- `pqa_lookback_days` days per account (var, default 3; a new account gets its whole history),
-- windowing over the 29 days before them. Only the signals of those days are read: a count or a
-- distinct count over 30 days depends on nothing older, so the deltas start there; what needs all
-- history comes from `carry` (senior CRM contacts before, the last signal ever from the day before,
-- already built). `--full-refresh` rebuilds everything.

{%- set incremental = pqa_is_incremental('scored_at') %}

with

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

spine as (

    {{ date_spine('(select first_day from bounds)', '(select last_day from bounds)') }}

),

-- the first day (re)built per account; the dense days start 29 days earlier (the 30-day window)
scope as (

    select account_id, from_day, from_day - 29 as dense_from_day
    from ({{ pqa_scope('accounts', '(select first_day from bounds)', incremental) }}) as scope

),

-- per account, day, type and person: the signals pre-aggregated (int_pqa__signal_days)
signals as (

    select account_id, signal_day, signal_type, actor_key, count_signals, last_signal_at
    from {{ ref('int_pqa__signal_days') }}
    where signal_day <= {{ score_as_of() }}
        {%- if incremental %}
        and signal_day >= (select min(dense_from_day) from scope)
        {%- endif %}

),

account_days as (

    select accounts.account_id, accounts.size_band, spine.date_day as score_date
    from accounts
    inner join scope on accounts.account_id = scope.account_id
    inner join spine on spine.date_day >= scope.dense_from_day

),

daily_signals as (

    select
        account_id,
        signal_day,
        cast(sum(count_signals) as bigint) as count_signals,
        max(last_signal_at) as last_signal_at
    from signals
    group by account_id, signal_day

),

actor_days as (

    select distinct account_id, actor_key, signal_day
    from signals
    where actor_key is not null

),

type_days as (

    select distinct account_id, signal_type, signal_day
    from signals

),

distinct_deltas as (

    select account_id, signal_day as delta_day, 1 as user_delta, 0 as type_delta
    from actor_days

    union all

    select
        account_id,
        least(signal_day + 30, lead(signal_day) over (partition by account_id, actor_key order by signal_day)),
        -1,
        0
    from actor_days

    union all

    select account_id, signal_day, 0, 1
    from type_days

    union all

    select
        account_id,
        least(signal_day + 30, lead(signal_day) over (partition by account_id, signal_type order by signal_day)),
        0,
        -1
    from type_days

),

daily_deltas as (

    select account_id, delta_day, sum(user_delta) as user_delta, sum(type_delta) as type_delta
    from distinct_deltas
    group by account_id, delta_day

),

-- seniority counts the contacts that existed on the day (a CRM contact without a create date
-- has always existed)
senior_contact_deltas as (

    select
        account_id,
        greatest(
            coalesce(cast(created_at at time zone 'UTC' as date), (select first_day from bounds)),
            (select first_day from bounds)
        ) as delta_day,
        count(*) as senior_delta
    from {{ ref('int_crm__contacts_unioned') }}
    where is_senior_v1 and account_id is not null
    group by 1, 2

),

-- what happened before the first dense day, for the running counts
carry as (

    select
        scope.account_id,
        coalesce(deltas.user_carry, 0) as user_carry,
        coalesce(deltas.type_carry, 0) as type_carry,
        coalesce(seniors.senior_carry, 0) as senior_carry,
        {% if incremental %}greatest(latest.last_signal_at_carry, built.last_signal_at){% else %}latest.last_signal_at_carry{% endif %}
            as last_signal_at_carry
    from scope
    left join (
        select daily_deltas.account_id, sum(daily_deltas.user_delta) as user_carry, sum(daily_deltas.type_delta) as type_carry
        from daily_deltas
        inner join scope on daily_deltas.account_id = scope.account_id
        where daily_deltas.delta_day < scope.dense_from_day
        group by daily_deltas.account_id
    ) as deltas on scope.account_id = deltas.account_id
    left join (
        select senior_contact_deltas.account_id, sum(senior_contact_deltas.senior_delta) as senior_carry
        from senior_contact_deltas
        inner join scope on senior_contact_deltas.account_id = scope.account_id
        where senior_contact_deltas.delta_day < scope.dense_from_day
        group by senior_contact_deltas.account_id
    ) as seniors on scope.account_id = seniors.account_id
    left join (
        select daily_signals.account_id, max(daily_signals.last_signal_at) as last_signal_at_carry
        from daily_signals
        inner join scope on daily_signals.account_id = scope.account_id
        where daily_signals.signal_day < scope.dense_from_day
        group by daily_signals.account_id
    ) as latest on scope.account_id = latest.account_id
    {%- if incremental %}
    left join {{ this }} as built
        on scope.account_id = built.account_id and built.score_date = scope.dense_from_day - 1
    {%- endif %}

),

joined as (

    select
        account_days.account_id,
        account_days.score_date,
        account_days.size_band,
        coalesce(daily_signals.count_signals, 0) as count_signals,
        daily_signals.last_signal_at,
        coalesce(daily_deltas.user_delta, 0) as user_delta,
        coalesce(daily_deltas.type_delta, 0) as type_delta,
        coalesce(senior_contact_deltas.senior_delta, 0) as senior_delta,
        carry.user_carry,
        carry.type_carry,
        carry.senior_carry,
        carry.last_signal_at_carry
    from account_days
    inner join carry on account_days.account_id = carry.account_id
    left join daily_signals
        on account_days.account_id = daily_signals.account_id
        and account_days.score_date = daily_signals.signal_day
    left join daily_deltas
        on account_days.account_id = daily_deltas.account_id
        and account_days.score_date = daily_deltas.delta_day
    left join senior_contact_deltas
        on account_days.account_id = senior_contact_deltas.account_id
        and account_days.score_date = senior_contact_deltas.delta_day

),

windowed as (

    select
        account_id,
        score_date,
        cast(score_date + 1 as timestamp) at time zone 'UTC' as scored_at,
        cast(sum(count_signals) over last_30_days as integer) as count_signals_30d,
        cast(sum(count_signals) over last_7_days as integer) as count_signals_7d,
        cast(sum(user_delta) over to_date + user_carry as integer) as count_users_30d,
        cast(sum(type_delta) over to_date + type_carry as integer) as count_signal_types_30d,
        greatest(max(last_signal_at) over to_date, last_signal_at_carry) as last_signal_at,
        cast(sum(senior_delta) over to_date + senior_carry as integer) as count_senior_contacts,
        size_band
    from joined
    window
        last_30_days as (partition by account_id order by score_date rows between 29 preceding and current row),
        last_7_days as (partition by account_id order by score_date rows between 6 preceding and current row),
        to_date as (partition by account_id order by score_date rows between unbounded preceding and current row)

),

final as (

    select
        windowed.account_id,
        windowed.score_date,
        windowed.scored_at,
        windowed.count_signals_30d,
        windowed.count_signals_7d,
        windowed.count_users_30d,
        windowed.count_signal_types_30d,
        windowed.last_signal_at,
        cast(extract(epoch from (windowed.scored_at - windowed.last_signal_at)) / 86400.0 as double precision)
            as days_since_last_signal,
        windowed.count_senior_contacts,
        windowed.size_band
    from windowed
    inner join scope on windowed.account_id = scope.account_id
    where windowed.score_date >= scope.from_day

)

select * from final
