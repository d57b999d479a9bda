-- One row per account, keyed by its domain: every domain that signals, CRM contacts, CRM companies
-- or Segment groups attribute to (personal, internal and reserved domains never become accounts), with the
-- best firmographics available. Firmographics precedence, per attribute: Salesforce account >
-- HubSpot company > generic companies CSV > Segment group, the most recent record first within a source.

with

firmographic_records as (

    select
        domain,
        1 as source_rank,
        'salesforce' as source,
        account_name as account_name,
        industry,
        count_employees,
        size_band,
        created_at as seen_at
    from {{ ref('stg_crm__salesforce_accounts') }}

    union all

    select domain, 2, 'hubspot', company_name, industry, count_employees, size_band, created_at
    from {{ ref('stg_crm__hubspot_companies') }}

    union all

    select domain, 3, 'generic', company_name, industry, count_employees, size_band, cast(null as timestamptz)
    from {{ ref('stg_crm__generic_companies') }}

    union all

    select website_domain, 4, 'segment', group_name, industry, count_employees, size_band, grouped_at
    from {{ ref('stg_segment__groups') }}

),

firmographics as (

    select
        domain,
        (array_agg(account_name order by source_rank, seen_at desc nulls last)
            filter (where account_name is not null))[1] as account_name,
        (array_agg(industry order by source_rank, seen_at desc nulls last)
            filter (where industry is not null))[1] as industry,
        (array_agg(size_band order by source_rank, seen_at desc nulls last)
            filter (where size_band is not null))[1] as size_band,
        (array_agg(count_employees order by source_rank, seen_at desc nulls last)
            filter (where size_band is not null))[1] as count_employees,
        string_agg(distinct source, ',' order by source) as firmographic_sources,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at
    from firmographic_records
    where domain is not null
    group by domain

),

signal_activity as (

    select
        account_domain as domain,
        count(*) as count_signals,
        min(occurred_at) as first_signal_at,
        max(occurred_at) as last_signal_at
    from {{ ref('int_signals__attributed') }}
    where account_domain is not null
    group by account_domain

),

crm_people as (

    select
        account_domain as domain,
        count(*) as count_crm_contacts,
        min(created_at) as first_seen_at,
        max(created_at) as last_seen_at
    from {{ ref('int_crm__contacts_unioned') }}
    where account_domain is not null
    group by account_domain

),

domains as (

    select domain from firmographics
    union
    select domain from signal_activity
    union
    select domain from crm_people

),

final as (

    select
        {{ surrogate_key(['domains.domain']) }} as account_id,
        domains.domain,
        coalesce(firmographics.account_name, domains.domain) as name,
        firmographics.size_band,
        firmographics.count_employees,
        firmographics.industry,
        firmographics.firmographic_sources,
        coalesce(signal_activity.count_signals, 0) as count_signals,
        coalesce(crm_people.count_crm_contacts, 0) as count_crm_contacts,
        signal_activity.first_signal_at,
        signal_activity.last_signal_at,
        least(firmographics.first_seen_at, signal_activity.first_signal_at, crm_people.first_seen_at) as first_seen_at,
        greatest(firmographics.last_seen_at, signal_activity.last_signal_at, crm_people.last_seen_at) as last_seen_at
    from domains
    left join firmographics on domains.domain = firmographics.domain
    left join signal_activity on domains.domain = signal_activity.domain
    left join crm_people on domains.domain = crm_people.domain
    where {{ domain_exclusion_reason('domains.domain') }} is null

)

select * from final
