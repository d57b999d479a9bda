{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['signal_day', 'account_id']}, {'columns': ['account_id', 'signal_day']}],
    pre_hook=["{{ pqa_signal_days_prepare() }}", "{{ pqa_work_mem() }}"],
    post_hook=["delete from {{ this }} as days where not exists (select 1 from {{ ref('int_accounts__merged') }} as accounts where accounts.account_id = days.account_id)"]
) }}

-- One row per account, UTC day, signal type and person (actor_key; null for a signal without one)
-- of the attributed signals: how many, their decayed volume at the day's end (v2 half-life of the
-- type), the latest one. What both score versions' inputs read instead of the raw signals (3-5x
-- fewer rows, and an incremental run reads only its days of them).
--
-- Incremental (append): the pre-hook deletes the last `pqa_lookback_days` days it holds, and they
-- are rebuilt from the signals with the new ones; an account it does not hold yet (added by a config
-- or identity change) gets all its days. The post-hook drops the accounts that left the account set.
-- A change of the v2 half-lives (seed pqa_scoring_config) or of the attribution of older days needs
-- `--full-refresh` (select it with `+`: see models/intermediate/pqa/README.md).

{%- set rebuild_from = pqa_signal_days_rebuild_from() %}

with

config as (

    select {{ pqa_param('default_half_life_days') }} as default_half_life_days
    from ({{ pqa_config_rows('v2') }}) as config_rows

),

type_params as (

    select subject as signal_type, max(value) filter (where parameter = 'half_life_days') as half_life_days
    from ({{ pqa_config_rows('v2') }}) as config_rows
    where subject <> '*'
    group by subject

),

{%- if rebuild_from is not none %}
-- the accounts it does not hold yet (after the pre-hook's delete): all their days are read
new_accounts as (

    select accounts.account_id
    from {{ ref('int_accounts__merged') }} as accounts
    where not exists (select 1 from {{ this }} as held where held.account_id = accounts.account_id)

),

-- the days rebuilt, then the older days of the new accounts (both through the signals' indexes)
attributed as (

    select * from {{ ref('int_signals__attributed') }}
    where account_id is not null
        and occurred_at >= cast(cast('{{ rebuild_from }}' as date) as timestamp) at time zone 'UTC'

    union all

    select attributed.* from {{ ref('int_signals__attributed') }} as attributed
    inner join new_accounts on attributed.account_id = new_accounts.account_id
    where attributed.occurred_at < cast(cast('{{ rebuild_from }}' as date) as timestamp) at time zone 'UTC'

),
{%- else %}
attributed as (

    select * from {{ ref('int_signals__attributed') }} where account_id is not null

),
{%- endif %}

signals as (

    select
        attributed.account_id,
        attributed.signal_id,
        attributed.signal_type,
        attributed.actor_key,
        attributed.occurred_at,
        cast(attributed.occurred_at at time zone 'UTC' as date) as signal_day,
        coalesce(type_params.half_life_days, config.default_half_life_days) as half_life_days
    from attributed
    cross join config
    left join type_params on attributed.signal_type = type_params.signal_type

),

final as (

    select
        account_id,
        signal_day,
        signal_type,
        actor_key,
        count(*) as count_signals,
        sum(exp(-ln(2) / half_life_days
            * extract(epoch from (cast(signal_day + 1 as timestamp) at time zone 'UTC' - occurred_at)) / 86400.0
        )) as decayed_at_day_end,
        max(occurred_at) as last_signal_at,
        (array_agg(signal_id order by occurred_at desc, signal_id desc))[1] as last_signal_id
    from signals
    group by account_id, signal_day, signal_type, actor_key

)

select * from final
