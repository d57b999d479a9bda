{{ config(materialized='table') }}

-- One row per person (a cluster of identifiers with a stable id): who they are (name, primary email,
-- GitHub login, Segment userId), when they were seen, their current account (the open spell of
-- int_identity__person_account_spells, with its rule and confidence), and whether they are noise,
-- and why (the noise filter; signals of noise never reach an account):
--   bot           a GitHub login or account type in seed noise_patterns ([bot], ci-runner-*), or
--                 at least half of their Segment calls from CI user agents (GitHub-Actions, curl, ...)
--   internal      the vendor's own staff: an email at, or a current spell with, an internal domain
--                 (var internal_domains / DEVSIGNAL_INTERNAL_DOMAINS)
--   test_account  an email in seed noise_patterns (example.com, *-staging.*, test@, qa.test@ ...)

with

person_identifiers as (

    select * from {{ ref('int_identity__person_identifiers') }}

),

records as (

    select * from {{ ref('int_identity__source_records') }}

),

noise_patterns as (

    select noise_type, field, pattern from {{ ref('noise_patterns') }}

),

spells as (

    select * from {{ ref('int_identity__person_account_spells') }}

),

-- which person each record belongs to (its first identifier that has one)
record_people as (

    select
        records.*,
        coalesce(by_user.person_id, by_hubspot.person_id, by_salesforce.person_id, by_login.person_id,
                 by_anonymous.person_id, by_email.person_id) as person_id
    from records
    left join person_identifiers as by_user
        on by_user.identifier_key = {{ identifier_key("'segment_user_id'", 'records.segment_user_id') }}
    left join person_identifiers as by_hubspot
        on by_hubspot.identifier_key = {{ identifier_key("'hubspot_contact_id'", 'records.hubspot_contact_id') }}
    left join person_identifiers as by_salesforce
        on by_salesforce.identifier_key = {{ identifier_key("'salesforce_contact_id'", 'records.salesforce_contact_id') }}
    left join person_identifiers as by_login
        on by_login.identifier_key = {{ identifier_key("'github_login'", 'records.github_login') }}
    left join person_identifiers as by_anonymous
        on by_anonymous.identifier_key = {{ identifier_key("'segment_anonymous_id'", 'records.segment_anonymous_id') }}
    left join person_identifiers as by_email
        on by_email.identifier_key = {{ identifier_key("'email'", 'records.email') }}

),

names as (

    select distinct on (person_id) person_id, full_name
    from record_people
    where full_name is not null and full_name not in ('CI Runner')
    order by person_id,
        case record_source when 'hubspot_contact' then 1 when 'salesforce_contact' then 1
            when 'segment_identify' then 2 else 3 end,
        observed_at desc nulls last, full_name

),

titles as (

    select distinct on (person_id) person_id, title
    from record_people
    where title is not null
    order by person_id, observed_at desc nulls last, title

),

emails as (

    select
        person_id,
        identifier_value as email,
        email_domain,
        {{ domain_exclusion_reason('email_domain') }} as exclusion_reason,
        last_seen_at
    from person_identifiers
    where identifier_type = 'email'

),

primary_emails as (

    -- a work email before a personal one, then the most recently seen
    select distinct on (person_id) person_id, email
    from emails
    order by person_id, exclusion_reason is not null, last_seen_at desc nulls last, email

),

first_of_type as (

    select
        person_id,
        count(*) as count_identifiers,
        min(identifier_value) filter (where identifier_type = 'github_login') as github_login,
        min(identifier_value) filter (where identifier_type = 'segment_user_id') as segment_user_id,
        count(*) filter (where identifier_type = 'email') as count_emails,
        string_agg(distinct identifier_type, ',' order by identifier_type) as identifier_types,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from person_identifiers
    group by person_id

),

bots as (

    select distinct on (person_id) person_id, reason
    from (
        select person_identifiers.person_id, 'github_login ' || person_identifiers.identifier_value
            || ' matches ' || noise_patterns.pattern as reason, 1 as priority
        from person_identifiers
        inner join noise_patterns
            on noise_patterns.noise_type = 'bot' and noise_patterns.field = 'github_login'
            and person_identifiers.identifier_value ~* noise_patterns.pattern
        where person_identifiers.identifier_type = 'github_login'

        union all

        select record_people.person_id, 'GitHub account type ' || record_people.github_account_type, 2
        from record_people
        inner join noise_patterns
            on noise_patterns.noise_type = 'bot' and noise_patterns.field = 'github_account_type'
            and record_people.github_account_type ~* noise_patterns.pattern

        union all

        select person_id, round(100.0 * sum(count_ci_calls) / sum(count_observations)) || '% of '
            || sum(count_observations) || ' Segment calls from CI user agents', 3
        from record_people
        where record_source = 'segment_call'
        group by person_id
        having sum(count_ci_calls) * 2 >= sum(count_observations) and sum(count_ci_calls) > 0
    ) as reasons
    order by person_id, priority, reason

),

internal as (

    select distinct on (person_id) person_id, reason
    from (
        select person_id, 'email at internal domain ' || email_domain as reason, 1 as priority
        from emails
        where exclusion_reason = 'internal_domain'

        union all

        select person_id, 'works at internal domain ' || account_domain || ' (' || match_rule || ')', 2
        from spells
        where is_current and is_internal
    ) as reasons
    order by person_id, priority, reason

),

test_accounts as (

    select distinct on (emails.person_id)
        emails.person_id,
        'email ' || emails.email || ' matches ' || noise_patterns.pattern as reason
    from emails
    inner join noise_patterns
        on noise_patterns.noise_type = 'test_account' and noise_patterns.field = 'email'
        and emails.email ~* noise_patterns.pattern
    order by emails.person_id, noise_patterns.pattern

),

current_spells as (

    select * from spells where is_current

),

final as (

    select
        ---------- ids
        first_of_type.person_id,

        ---------- who
        coalesce(names.full_name, primary_emails.email, first_of_type.github_login, first_of_type.segment_user_id,
                 first_of_type.person_id) as display_name,
        names.full_name,
        titles.title,
        primary_emails.email as primary_email,
        first_of_type.github_login,
        first_of_type.segment_user_id,
        first_of_type.count_identifiers,
        first_of_type.count_emails,
        first_of_type.identifier_types,

        ---------- account (now)
        case when bots.person_id is null and internal.person_id is null and test_accounts.person_id is null
            then current_spells.account_id end as account_id,
        case when bots.person_id is null and internal.person_id is null and test_accounts.person_id is null
            then current_spells.account_domain end as account_domain,
        current_spells.match_rule,
        current_spells.confidence as match_confidence,
        current_spells.supporting_rules,

        ---------- noise
        bots.person_id is not null as is_bot,
        internal.person_id is not null as is_internal,
        test_accounts.person_id is not null as is_test_account,
        case
            when bots.person_id is not null then 'bot'
            when internal.person_id is not null then 'internal_domain'
            when test_accounts.person_id is not null then 'test_account'
        end as noise_reason,
        coalesce(bots.reason, internal.reason, test_accounts.reason) as noise_detail,
        exists (select 1 from emails where emails.person_id = first_of_type.person_id
                and emails.exclusion_reason = 'personal_email_domain') as has_personal_email,

        ---------- timestamps
        first_of_type.first_seen_at,
        first_of_type.last_seen_at

    from first_of_type
    left join names on first_of_type.person_id = names.person_id
    left join titles on first_of_type.person_id = titles.person_id
    left join primary_emails on first_of_type.person_id = primary_emails.person_id
    left join current_spells on first_of_type.person_id = current_spells.person_id
    left join bots on first_of_type.person_id = bots.person_id
    left join internal on first_of_type.person_id = internal.person_id
    left join test_accounts on first_of_type.person_id = test_accounts.person_id

)

select * from final
