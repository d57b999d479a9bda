{# indexes: the CRM reads an account's or a person's signals newest first; the activation sensors read new signals in order #}
{{
    config(
        materialized='incremental',
        unique_key='signal_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['signal_id'], 'unique': true},
            {'columns': ['account_id', 'occurred_at']},
            {'columns': ['person_id', 'occurred_at']},
            {'columns': ['occurred_at', 'signal_id']},
        ],
        post_hook=[
            "create index if not exists {{ this.name }}_account_type_time on {{ this }} (account_id, signal_type, occurred_at) include (person_id)",
            "delete from {{ this }} as loaded where not exists (select 1 from {{ ref('int_signals__attributed') }} as attributed where attributed.signal_id = loaded.signal_id and not attributed.is_noise)"
        ],
    )
}}

-- One row per person-level signal event that is not noise (bots, the vendor's staff and test
-- accounts are in int_signals__noise): its canonical signal_type (seed signal_type_aliases), source,
-- the person, the account it is credited to on that day (null when nothing ties the person to one,
-- with the reason) and the rule and confidence behind that.
--
-- Incremental: a run rewrites (a) every signal of the last var signals_lookback_days days before
-- the newest one loaded (late events land there), (b) any older signal that is new, or whose
-- person, account, type or rule changed since it was written (a merge, a manual override, a job
-- change learnt later), compared through `attribution_hash`; a post-hook deletes signals that are
-- gone or became noise. So an incremental run and a full refresh give the same rows (tested).

{%- set lookback_days = var('signals_lookback_days', 3) %}

with

attributed as (

    select
        signal_id,
        signal_type,
        source,
        source_event,
        occurred_at,
        person_id,
        account_id,
        account_domain,
        match_rule,
        match_confidence,
        exclusion_reason as unattributed_reason,
        properties,
        md5(concat_ws('|', signal_type, source_event, occurred_at, person_id, account_id, match_rule,
                      match_confidence, exclusion_reason, properties::text)) as attribution_hash
    from {{ ref('int_signals__attributed') }}
    where not is_noise

),

{% if is_incremental() %}

loaded as (

    select signal_id, min(attribution_hash) as attribution_hash from {{ this }} group by signal_id

),

window_start as (

    select coalesce(max(occurred_at), '-infinity'::timestamptz) - interval '{{ lookback_days }} days' as starts_at
    from {{ this }}

),

to_write as (

    select attributed.*
    from attributed
    left join loaded on attributed.signal_id = loaded.signal_id
    where attributed.occurred_at >= (select starts_at from window_start)
        or loaded.signal_id is null
        or loaded.attribution_hash <> attributed.attribution_hash

),

{% else %}

to_write as (

    select * from attributed

),

{% endif %}

final as (

    select
        ---------- ids
        signal_id,
        person_id,
        account_id,

        ---------- signal
        signal_type,
        source,
        source_event,
        properties,

        ---------- attribution
        account_domain,
        match_rule,
        match_confidence,
        unattributed_reason,
        attribution_hash,

        ---------- timestamps
        occurred_at,
        cast(occurred_at at time zone 'UTC' as date) as occurred_on

    from to_write

)

select * from final
