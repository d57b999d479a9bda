-- One row per CRM person (HubSpot, Salesforce and generic-CSV contacts, deduplicated by normalised email; a
-- contact without an email is dropped, as the seed's CRM import did) with the account they belong
-- to: their work-email domain, else the domain of the company the CRM associates them with.
-- `is_senior_v1` is the seed's seniority rule, substring quirk included (SPEC-seed §3.3 factor 5).

with

hubspot_companies as (

    select hubspot_company_id, domain from {{ ref('stg_crm__hubspot_companies') }}

),

salesforce_accounts as (

    select salesforce_account_id, domain from {{ ref('stg_crm__salesforce_accounts') }}

),

records as (

    select
        'hubspot' as crm_source,
        contacts.hubspot_contact_id as crm_contact_id,
        contacts.email,
        contacts.email_domain,
        hubspot_companies.domain as associated_domain,
        contacts.first_name,
        contacts.last_name,
        contacts.title,
        contacts.created_at
    from {{ ref('stg_crm__hubspot_contacts') }} as contacts
    left join hubspot_companies on contacts.hubspot_company_id = hubspot_companies.hubspot_company_id

    union all

    select
        'salesforce',
        contacts.salesforce_contact_id,
        contacts.email,
        contacts.email_domain,
        salesforce_accounts.domain,
        contacts.first_name,
        contacts.last_name,
        contacts.title,
        contacts.created_at
    from {{ ref('stg_crm__salesforce_contacts') }} as contacts
    left join salesforce_accounts on contacts.salesforce_account_id = salesforce_accounts.salesforce_account_id

    union all

    -- a generic contacts CSV names a company but carries no company id or domain to associate
    select
        'generic',
        contacts.generic_contact_key,
        contacts.email,
        contacts.email_domain,
        cast(null as text),
        contacts.first_name,
        contacts.last_name,
        contacts.title,
        cast(null as timestamptz)
    from {{ ref('stg_crm__generic_contacts') }} as contacts

),

usable_domains as (

    select
        records.*,
        case
            when {{ domain_exclusion_reason('records.email_domain') }} is null then records.email_domain
        end as work_email_domain,
        case
            when {{ domain_exclusion_reason('records.associated_domain') }} is null then records.associated_domain
        end as crm_company_domain
    from records
    where records.email is not null

),

per_email as (

    select
        email,
        min(email_domain) as email_domain,
        (array_agg(work_email_domain order by created_at desc nulls last)
            filter (where work_email_domain is not null))[1] as work_email_domain,
        (array_agg(crm_company_domain order by created_at desc nulls last)
            filter (where crm_company_domain is not null))[1] as crm_company_domain,
        (array_agg(first_name order by created_at desc nulls last) filter (where first_name is not null))[1] as first_name,
        (array_agg(last_name order by created_at desc nulls last) filter (where last_name is not null))[1] as last_name,
        (array_agg(title order by created_at desc nulls last) filter (where title is not null))[1] as title,
        string_agg(distinct crm_source, ',' order by crm_source) as crm_sources,
        count(*) as count_crm_records,
        min(created_at) as created_at
    from usable_domains
    group by email

),

final as (

    select
        {{ surrogate_key(['email']) }} as crm_person_id,
        email,
        email_domain,
        coalesce(work_email_domain, crm_company_domain) as account_domain,
        {{ surrogate_key(['coalesce(work_email_domain, crm_company_domain)']) }} as account_id,
        case
            when work_email_domain is not null then 'work_email_domain'
            when crm_company_domain is not null then 'crm_company_association'
        end as match_rule,
        first_name,
        last_name,
        title,
        {{ is_senior_title_v1('title') }} as is_senior_v1,
        crm_sources,
        count_crm_records,
        created_at
    from per_email

)

select * from final
