-- One row per account (a company, keyed by its domain): name, size, industry and when it was seen.

with

accounts as (

    select * from {{ ref('int_accounts__merged') }}

),

final as (

    select
        ---------- ids
        account_id,
        domain,

        ---------- attributes
        name,
        size_band,
        count_employees,
        industry,
        firmographic_sources,

        ---------- activity
        count_signals,
        count_crm_contacts,
        first_signal_at,
        last_signal_at,
        first_seen_at,
        last_seen_at

    from accounts

)

select * from final
