-- One row per normalised email seen anywhere (Segment identify, GitHub public profile, CRM contact)
-- with the account domain it attributes to. The thin slice of identity: an email's domain is its
-- account, unless it is a personal mailbox (seed personal_email_domains), the vendor's own
-- (var internal_domains) or a reserved test domain (example.com, *.test): those rows stay, with
-- account_domain null and the reason (macro domain_exclusion_reason).

with

emails as (

    select email, email_domain, 'segment' as seen_in, identified_at as seen_at
    from {{ ref('stg_segment__identifies') }}

    union all

    select email, email_domain, 'github', created_at
    from {{ ref('stg_github__users') }}

    union all

    select email, email_domain, 'hubspot', created_at
    from {{ ref('stg_crm__hubspot_contacts') }}

    union all

    select email, email_domain, 'salesforce', created_at
    from {{ ref('stg_crm__salesforce_contacts') }}

),

per_email as (

    select
        email,
        min(email_domain) as email_domain,
        string_agg(distinct seen_in, ',' order by seen_in) as seen_in,
        min(seen_at) as first_seen_at
    from emails
    where email is not null
    group by email

),

classified as (

    select
        *,
        {{ domain_exclusion_reason('email_domain') }} as exclusion_reason
    from per_email

),

final as (

    select
        email,
        email_domain,
        exclusion_reason,
        case when exclusion_reason is null then email_domain end as account_domain,
        case when exclusion_reason is null then 'work_email_domain' end as match_rule,
        seen_in,
        first_seen_at
    from classified

)

select * from final
