{{ config(materialized='table') }}

-- One row per (candidate account domain, name key): every way the sources name a company whose domain
-- we know, for matching free-text company names (GitHub `company`, Segment traits.company, CRM
-- company names) to an account. A candidate domain is one a CRM company / Salesforce account, a
-- Segment group's website, a GitHub organisation's blog or a work email points at; personal and
-- reserved domains never are (nor test domains: seed noise_patterns), the vendor's own are kept but flagged `is_internal` (so `@vendor`
-- on a GitHub profile is recognised as staff, not as an unknown company).
--
--   name_kind           name text                                    from
--   crm_name            HubSpot company / Salesforce account name     the CRM company record
--   group_name          Segment group traits.name                     the group call
--   record_company      traits.company / GitHub company / CRM         a record that also carries a
--                       contact company, next to a work email         work email at the domain
--   github_org          the organisation's login                      a GitHub organisation profile
--   domain_stem         `acme` of acme.io                             the domain itself
--
-- `name_key` (company_name_key: words run together, legal suffixes dropped) is what exact matching
-- uses; `name_text` (company_name_text: the words) is what TF-IDF matching uses.

with

records as (

    select * from {{ ref('int_identity__source_records') }}

),

named as (

    select domain as account_domain, company_name as raw_name, 'crm_name' as name_kind
    from {{ ref('stg_crm__hubspot_companies') }}

    union all

    select domain, account_name, 'crm_name'
    from {{ ref('stg_crm__salesforce_accounts') }}

    union all

    select website_domain, group_name, 'group_name'
    from {{ ref('stg_segment__groups') }}

    union all

    -- a record with a work email and a company name says the two belong together
    select split_part(email, '@', 2), company_text, 'record_company'
    from records
    where email is not null
        and company_text is not null
        and {{ company_text_domain('company_text') }} is null

    union all

    select blog_domain, github_login, 'github_org'
    from records
    where record_source = 'github_profile' and github_account_type = 'organization' and blog_domain is not null

    union all

    select blog_domain, full_name, 'crm_name'
    from records
    where record_source = 'github_profile' and github_account_type = 'organization' and blog_domain is not null

),

domains as (

    select account_domain from named where account_domain is not null
    union
    select split_part(email, '@', 2) from records where email is not null
    union
    select account_domain_hint from records where account_domain_hint is not null

),

candidate_domains as (

    select
        account_domain,
        {{ domain_exclusion_reason('account_domain') }} as exclusion_reason
    from domains

),

test_domains as (

    select pattern from {{ ref('noise_patterns') }} where noise_type = 'test_account' and field = 'email'

),

usable_domains as (

    select account_domain, exclusion_reason = 'internal_domain' as is_internal
    from candidate_domains
    where (exclusion_reason is null or exclusion_reason = 'internal_domain')
        -- a test domain (forgeflow-staging.com) is no company either
        and not {{ matches_any_pattern("'someone@' || account_domain", 'test_domains') }}

),

names as (

    select
        named.account_domain,
        named.name_kind,
        case when named.name_kind = 'github_org' then {{ github_org_key('named.raw_name') }}
            else {{ company_name_key('named.raw_name') }} end as name_key,
        case when named.name_kind = 'github_org' then {{ github_org_key('named.raw_name') }}
            else {{ company_name_text('named.raw_name') }} end as name_text,
        named.raw_name
    from named
    inner join usable_domains on named.account_domain = usable_domains.account_domain

    union all

    select account_domain, 'domain_stem', {{ domain_stem('account_domain') }}, {{ domain_stem('account_domain') }}, account_domain
    from usable_domains

),

final as (

    select
        names.account_domain,
        names.name_key,
        min(names.name_text) as name_text,
        (array_agg(names.raw_name order by names.name_kind, names.raw_name))[1] as example_name,
        string_agg(distinct names.name_kind, ',' order by names.name_kind) as name_kinds,
        count(*) as count_mentions,
        bool_or(usable_domains.is_internal) as is_internal
    from names
    inner join usable_domains on names.account_domain = usable_domains.account_domain
    where names.name_key is not null and names.name_key <> ''
    group by names.account_domain, names.name_key

)

select * from final
