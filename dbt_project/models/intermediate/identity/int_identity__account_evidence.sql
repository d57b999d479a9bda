{{ config(materialized='table') }}

-- One row per piece of evidence that a person worked at a company: which person (through the
-- identifier the evidence is about), which account domain, by which rule, how sure, and when the
-- source said so (null = undated: a GitHub profile, a CRM record without a create date).
--
--   rule_rank  match_rule          evidence                                                confidence
--   1          crm_association     a CRM contact's associated company / account (its      0.95 (by name 0.85)
--                                  domain, else its name through exact name matching)
--   2          segment_group       a group call's traits.website (else its name)         0.90 (by name 0.80)
--   3          work_email_domain   an email at a non-personal domain, on any record        0.85
--   4          github_company      a GitHub profile's company: a domain, an `@org` or a    0.80
--                                  name (exact key); its blog at a known account domain    0.70
--                                  (an organisation's own profile: its blog)               0.90
--   5          fuzzy_name          traits.company / CRM contact company / a GitHub         0.75 x similarity
--                                  company that exact matching missed, matched by TF-IDF
--                                  (int_identity__company_name_matches, calibrated threshold)
-- (rule 0, manual, comes from app.identity_overrides in int_identity__person_account_spells.)
-- The vendor's own domains are evidence too (`is_internal`): they mark staff, never an account.

with

records as (

    select * from {{ ref('int_identity__source_records') }}

),

people as (

    select identifier_key, person_id
    from {{ ref('int_identity__person_identifiers') }}

),

candidates as (

    select account_domain, bool_or(is_internal) as is_internal
    from {{ ref('int_identity__account_names') }}
    group by account_domain

),

name_matches as (

    select company_text, account_domain, similarity, match_method
    from {{ ref('int_identity__company_name_matches') }}
    where is_accepted

),

-- the identifier each record's evidence is about: its userId, CRM contact or login, else its
-- anonymousId, else its email (the first of these that is not blocked, i.e. has a person)
keyed as (

    select
        records.*,
        {{ identifier_key("'segment_user_id'", 'segment_user_id') }} as user_key,
        {{ identifier_key("'hubspot_contact_id'", 'hubspot_contact_id') }} as hubspot_key,
        {{ identifier_key("'salesforce_contact_id'", 'salesforce_contact_id') }} as salesforce_key,
        {{ identifier_key("'github_login'", 'github_login') }} as login_key,
        {{ identifier_key("'segment_anonymous_id'", 'segment_anonymous_id') }} as anonymous_key,
        {{ identifier_key("'email'", 'email') }} as email_key
    from records

),

anchored as (

    select
        keyed.*,
        coalesce(by_user.identifier_key, by_hubspot.identifier_key, by_salesforce.identifier_key,
                 by_login.identifier_key, by_anonymous.identifier_key, by_email.identifier_key) as anchor_key,
        by_email.identifier_key as email_person_key
    from keyed
    left join people as by_user on keyed.user_key = by_user.identifier_key
    left join people as by_hubspot on keyed.hubspot_key = by_hubspot.identifier_key
    left join people as by_salesforce on keyed.salesforce_key = by_salesforce.identifier_key
    left join people as by_login on keyed.login_key = by_login.identifier_key
    left join people as by_anonymous on keyed.anonymous_key = by_anonymous.identifier_key
    left join people as by_email on keyed.email_key = by_email.identifier_key

),

claims as (

    -- 1. CRM association
    select
        anchored.source_record_id, anchored.record_source, anchored.record_id, anchored.anchor_key,
        anchored.observed_at,
        coalesce(
            case when candidates_by_domain.account_domain is not null then anchored.account_domain_hint end,
            crm_names.account_domain
        ) as account_domain,
        'crm_association' as match_rule,
        1 as rule_rank,
        case when candidates_by_domain.account_domain is not null then 0.95 else 0.85 end as confidence,
        case when candidates_by_domain.account_domain is not null then 'company domain ' || anchored.account_domain_hint
            else 'company name ' || anchored.account_name_hint end as detail
    from anchored
    left join candidates as candidates_by_domain on anchored.account_domain_hint = candidates_by_domain.account_domain
    left join name_matches as crm_names
        on anchored.account_name_hint = crm_names.company_text and crm_names.match_method = 'exact_key'
    where anchored.record_source in ('hubspot_contact', 'salesforce_contact')

    union all

    -- 2. Segment group
    select
        anchored.source_record_id, anchored.record_source, anchored.record_id, anchored.anchor_key,
        anchored.observed_at,
        coalesce(
            case when candidates_by_domain.account_domain is not null then anchored.account_domain_hint end,
            group_names.account_domain
        ),
        'segment_group',
        2,
        case when candidates_by_domain.account_domain is not null then 0.90 else 0.80 end,
        case when candidates_by_domain.account_domain is not null then 'website ' || anchored.account_domain_hint
            else 'group name ' || anchored.account_name_hint end
    from anchored
    left join candidates as candidates_by_domain on anchored.account_domain_hint = candidates_by_domain.account_domain
    left join name_matches as group_names
        on anchored.account_name_hint = group_names.company_text and group_names.match_method = 'exact_key'
    where anchored.record_source = 'segment_group'

    union all

    -- 3. work email domain: about the email's own person (a blocked email: the record's)
    select
        anchored.source_record_id, anchored.record_source, anchored.record_id,
        coalesce(anchored.email_person_key, anchored.anchor_key),
        anchored.observed_at,
        candidates.account_domain,
        'work_email_domain',
        3,
        0.85,
        'email ' || anchored.email
    from anchored
    inner join candidates on split_part(anchored.email, '@', 2) = candidates.account_domain
    where anchored.email is not null

    union all

    -- 4. GitHub company field: a domain, an exact name or @handle; the blog of a profile
    select
        anchored.source_record_id, anchored.record_source, anchored.record_id, anchored.anchor_key,
        anchored.observed_at,
        coalesce(
            case when {{ domain_exclusion_reason(company_text_domain('anchored.company_text')) }} is null
                then {{ company_text_domain('anchored.company_text') }} end,
            github_names.account_domain
        ),
        'github_company',
        4,
        0.80,
        'company ' || anchored.company_text
    from anchored
    left join name_matches as github_names
        on anchored.company_text = github_names.company_text and github_names.match_method = 'exact_key'
    where anchored.record_source = 'github_profile' and anchored.company_text is not null

    union all

    select
        anchored.source_record_id, anchored.record_source, anchored.record_id, anchored.anchor_key,
        anchored.observed_at,
        candidates.account_domain,
        'github_company',
        4,
        case when anchored.github_account_type = 'organization' then 0.90 else 0.70 end,
        'blog ' || anchored.blog_domain
    from anchored
    inner join candidates on anchored.blog_domain = candidates.account_domain
    where anchored.record_source = 'github_profile'

    union all

    -- 5. fuzzy company name (TF-IDF above the calibrated threshold; exact keys count as 1.0)
    select
        anchored.source_record_id, anchored.record_source, anchored.record_id, anchored.anchor_key,
        anchored.observed_at,
        fuzzy_names.account_domain,
        'fuzzy_name',
        5,
        round(0.75 * fuzzy_names.similarity, 3),
        fuzzy_names.match_method || ' ' || fuzzy_names.similarity || ': ' || anchored.company_text
    from anchored
    inner join name_matches as fuzzy_names on anchored.company_text = fuzzy_names.company_text
    where anchored.record_source in ('segment_identify', 'hubspot_contact', 'salesforce_contact')
        or (anchored.record_source = 'github_profile' and fuzzy_names.match_method = 'tfidf')

),

final as (

    select
        {{ surrogate_key(['claims.source_record_id', 'claims.match_rule', 'claims.account_domain', 'claims.detail']) }}
            as account_evidence_id,
        people.person_id,
        claims.anchor_key as identifier_key,
        claims.account_domain,
        coalesce(candidates.is_internal, false) as is_internal,
        claims.match_rule,
        claims.rule_rank,
        claims.confidence,
        claims.observed_at as evidence_at,
        claims.record_source,
        claims.record_id,
        claims.detail
    from claims
    inner join people on claims.anchor_key = people.identifier_key
    inner join candidates on claims.account_domain = candidates.account_domain

)

select * from final
