{{ config(materialized='table') }}

-- One row per source record that says something about who someone is: every identifier it carries
-- (normalised), plus what it says about their employer. Everything in intermediate/identity starts
-- here: the identifiers, the edges (identifiers one record ties together), the account evidence.
--
--   record_source       record_id           ties together                         employer evidence
--   segment_identify    messageId           userId, anonymousId, traits.email     email domain, traits.company
--   segment_group       messageId           userId, anonymousId                   traits.website / name
--   segment_call        first messageId     userId, anonymousId (every call of    -
--                       of the pair         the pair: tracks, pages, identifies,
--                                           groups), with how many came from CI user agents
--   github_profile      login               login, public email                   email domain, company, blog
--   github_activity     login               login (stars, forks, issues, PRs)     -
--   hubspot_contact     Record ID           contact id, email                     associated company, company name
--   salesforce_contact  Contact ID          contact id, email                     account, account name
--
-- `observed_at` is when the record says it was true (the call, the CRM record's creation);
-- null for a GitHub profile, which is undated (it may be stale: people rarely update it).

with

ci_user_agents as (

    select pattern from {{ ref('noise_patterns') }} where noise_type = 'bot' and field = 'user_agent'

),

segment_calls as (

    select segment_message_id, segment_user_id, segment_anonymous_id, occurred_at as called_at, user_agent
    from {{ ref('stg_segment__tracks') }}

    union all

    select segment_message_id, segment_user_id, segment_anonymous_id, viewed_at, user_agent
    from {{ ref('stg_segment__pages') }}

    union all

    select segment_message_id, segment_user_id, segment_anonymous_id, identified_at, user_agent
    from {{ ref('stg_segment__identifies') }}

    union all

    select segment_message_id, segment_user_id, segment_anonymous_id, grouped_at, user_agent
    from {{ ref('stg_segment__groups') }}

),

-- a handful of distinct user agents: classify each once, not every call
user_agents as (

    select
        user_agent,
        {{ matches_any_pattern('user_agent', 'ci_user_agents') }} as is_ci_user_agent
    from (select distinct user_agent from segment_calls where user_agent is not null) as distinct_agents

),

segment_pairs as (

    select
        {{ normalize_identifier('segment_user_id', 'segment_calls.segment_user_id') }} as segment_user_id,
        {{ normalize_identifier('segment_anonymous_id', 'segment_calls.segment_anonymous_id') }} as segment_anonymous_id,
        min(segment_calls.segment_message_id) as first_message_id,
        min(segment_calls.called_at) as first_called_at,
        max(segment_calls.called_at) as last_called_at,
        count(*) as count_calls,
        count(*) filter (where user_agents.is_ci_user_agent) as count_ci_calls
    from segment_calls
    left join user_agents on segment_calls.user_agent = user_agents.user_agent
    group by 1, 2

),

segment_call_records as (

    select
        'segment_call' as record_source,
        first_message_id as record_id,
        first_called_at as observed_at,
        last_called_at as last_observed_at,
        count_calls as count_observations,
        count_ci_calls,
        segment_user_id,
        segment_anonymous_id,
        cast(null as text) as email,
        cast(null as text) as github_login,
        cast(null as text) as hubspot_contact_id,
        cast(null as text) as salesforce_contact_id,
        cast(null as text) as full_name,
        cast(null as text) as title,
        cast(null as text) as company_text,
        cast(null as text) as account_domain_hint,
        cast(null as text) as account_name_hint,
        cast(null as text) as github_account_type,
        cast(null as text) as blog_domain
    from segment_pairs
    where coalesce(segment_user_id, segment_anonymous_id) is not null

),

identify_records as (

    select
        'segment_identify' as record_source,
        segment_message_id as record_id,
        identified_at as observed_at,
        identified_at as last_observed_at,
        1 as count_observations,
        0 as count_ci_calls,
        {{ normalize_identifier('segment_user_id', 'segment_user_id') }} as segment_user_id,
        {{ normalize_identifier('segment_anonymous_id', 'segment_anonymous_id') }} as segment_anonymous_id,
        email,
        cast(null as text) as github_login,
        cast(null as text) as hubspot_contact_id,
        cast(null as text) as salesforce_contact_id,
        full_name,
        title,
        company_name as company_text,
        cast(null as text) as account_domain_hint,
        cast(null as text) as account_name_hint,
        cast(null as text) as github_account_type,
        cast(null as text) as blog_domain
    from {{ ref('stg_segment__identifies') }}

),

-- a group call without a website borrows the website other calls of the same groupId sent
group_websites as (

    select segment_group_id, mode() within group (order by website_domain) as website_domain
    from {{ ref('stg_segment__groups') }}
    where segment_group_id is not null and website_domain is not null
    group by segment_group_id

),

group_records as (

    select
        'segment_group' as record_source,
        groups.segment_message_id as record_id,
        groups.grouped_at as observed_at,
        groups.grouped_at as last_observed_at,
        1 as count_observations,
        0 as count_ci_calls,
        {{ normalize_identifier('segment_user_id', 'groups.segment_user_id') }} as segment_user_id,
        {{ normalize_identifier('segment_anonymous_id', 'groups.segment_anonymous_id') }} as segment_anonymous_id,
        cast(null as text) as email,
        cast(null as text) as github_login,
        cast(null as text) as hubspot_contact_id,
        cast(null as text) as salesforce_contact_id,
        cast(null as text) as full_name,
        cast(null as text) as title,
        cast(null as text) as company_text,
        coalesce(groups.website_domain, group_websites.website_domain) as account_domain_hint,
        groups.group_name as account_name_hint,
        cast(null as text) as github_account_type,
        cast(null as text) as blog_domain
    from {{ ref('stg_segment__groups') }} as groups
    left join group_websites on groups.segment_group_id = group_websites.segment_group_id

),

github_profile_records as (

    select
        'github_profile' as record_source,
        github_login as record_id,
        cast(null as timestamptz) as observed_at,
        cast(null as timestamptz) as last_observed_at,
        1 as count_observations,
        0 as count_ci_calls,
        cast(null as text) as segment_user_id,
        cast(null as text) as segment_anonymous_id,
        email,
        github_login,
        cast(null as text) as hubspot_contact_id,
        cast(null as text) as salesforce_contact_id,
        full_name,
        cast(null as text) as title,
        company as company_text,
        cast(null as text) as account_domain_hint,
        cast(null as text) as account_name_hint,
        lower(account_type) as github_account_type,
        blog_domain
    from {{ ref('stg_github__users') }}
    where github_login is not null

),

github_activity as (

    select github_login, starred_at as acted_at from {{ ref('stg_github__stargazers') }}
    union all
    select github_login, created_at from {{ ref('stg_github__forks') }}
    union all
    select github_login, created_at from {{ ref('stg_github__issues') }}
    union all
    select github_login, created_at from {{ ref('stg_github__pull_requests') }}

),

github_activity_records as (

    select
        'github_activity' as record_source,
        github_login as record_id,
        min(acted_at) as observed_at,
        max(acted_at) as last_observed_at,
        count(*) as count_observations,
        0 as count_ci_calls,
        cast(null as text) as segment_user_id,
        cast(null as text) as segment_anonymous_id,
        cast(null as text) as email,
        github_login,
        cast(null as text) as hubspot_contact_id,
        cast(null as text) as salesforce_contact_id,
        cast(null as text) as full_name,
        cast(null as text) as title,
        cast(null as text) as company_text,
        cast(null as text) as account_domain_hint,
        cast(null as text) as account_name_hint,
        cast(null as text) as github_account_type,
        cast(null as text) as blog_domain
    from github_activity
    where github_login is not null
    group by github_login

),

hubspot_companies as (

    select hubspot_company_id, domain, company_name from {{ ref('stg_crm__hubspot_companies') }}

),

hubspot_contact_records as (

    select
        'hubspot_contact' as record_source,
        contacts.hubspot_contact_id as record_id,
        contacts.created_at as observed_at,
        contacts.created_at as last_observed_at,
        1 as count_observations,
        0 as count_ci_calls,
        cast(null as text) as segment_user_id,
        cast(null as text) as segment_anonymous_id,
        contacts.email,
        cast(null as text) as github_login,
        {{ normalize_identifier('hubspot_contact_id', 'contacts.hubspot_contact_id') }} as hubspot_contact_id,
        cast(null as text) as salesforce_contact_id,
        nullif(concat_ws(' ', contacts.first_name, contacts.last_name), '') as full_name,
        contacts.title,
        contacts.company_name as company_text,
        hubspot_companies.domain as account_domain_hint,
        hubspot_companies.company_name as account_name_hint,
        cast(null as text) as github_account_type,
        cast(null as text) as blog_domain
    from {{ ref('stg_crm__hubspot_contacts') }} as contacts
    left join hubspot_companies on contacts.hubspot_company_id = hubspot_companies.hubspot_company_id
    where contacts.hubspot_contact_id is not null

),

salesforce_accounts as (

    select salesforce_account_id, domain, account_name from {{ ref('stg_crm__salesforce_accounts') }}

),

salesforce_contact_records as (

    select
        'salesforce_contact' as record_source,
        contacts.salesforce_contact_id as record_id,
        contacts.created_at as observed_at,
        contacts.created_at as last_observed_at,
        1 as count_observations,
        0 as count_ci_calls,
        cast(null as text) as segment_user_id,
        cast(null as text) as segment_anonymous_id,
        contacts.email,
        cast(null as text) as github_login,
        cast(null as text) as hubspot_contact_id,
        {{ normalize_identifier('salesforce_contact_id', 'contacts.salesforce_contact_id') }} as salesforce_contact_id,
        nullif(concat_ws(' ', contacts.first_name, contacts.last_name), '') as full_name,
        contacts.title,
        contacts.account_name as company_text,
        salesforce_accounts.domain as account_domain_hint,
        coalesce(salesforce_accounts.account_name, contacts.account_name) as account_name_hint,
        cast(null as text) as github_account_type,
        cast(null as text) as blog_domain
    from {{ ref('stg_crm__salesforce_contacts') }} as contacts
    left join salesforce_accounts on contacts.salesforce_account_id = salesforce_accounts.salesforce_account_id
    where contacts.salesforce_contact_id is not null

),

unioned as (

    select * from segment_call_records
    union all
    select * from identify_records
    union all
    select * from group_records
    union all
    select * from github_profile_records
    union all
    select * from github_activity_records
    union all
    select * from hubspot_contact_records
    union all
    select * from salesforce_contact_records

),

final as (

    select
        {{ surrogate_key(['record_source', 'record_id', 'segment_user_id', 'segment_anonymous_id']) }} as source_record_id,
        *
    from unioned

)

select * from final
