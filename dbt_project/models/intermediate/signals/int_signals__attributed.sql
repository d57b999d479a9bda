{{ config(indexes=[{'columns': ['occurred_at']}, {'columns': ['account_id']}]) }}

-- One row per person-level signal with the person who did it (the identity graph: their Segment
-- userId, else anonymousId, else GitHub login) and the account it is credited to: the person's
-- employer on the day of the signal (int_identity__person_account_spells), with the rule that
-- decided it and its confidence. When a signal is not credited to an account, `exclusion_reason`
-- says why:
--   bot                    a bot login, a bot person, or a call from a CI user agent (noise)
--   internal_domain        the vendor's own staff (noise)
--   test_account           a test account (noise)
--   manual_no_account      app.identity_overrides set the person's account to none
--   personal_email_domain  the person is known only by personal mailboxes, no other evidence
--   no_email               nothing ties the actor to a company (an anonymous visitor, a bare login)
-- The first three are noise: int_signals__noise lists them, fct_signals leaves them out.
-- Indexed on occurred_at and account_id: the incremental score pre-aggregate (int_pqa__signal_days)
-- reads only the latest days, and the whole history of the accounts it does not hold yet.

with

signals as (

    select * from {{ ref('int_signals__unioned') }}

),

person_identifiers as (

    select identifier_key, person_id from {{ ref('int_identity__person_identifiers') }}

),

people as (

    select person_id, is_bot, is_internal, is_test_account, has_personal_email
    from {{ ref('int_identity__people') }}

),

spells as (

    select * from {{ ref('int_identity__person_account_spells') }}

),

ci_user_agents as (

    select pattern from {{ ref('noise_patterns') }} where noise_type = 'bot' and field = 'user_agent'

),

user_agents as (

    select
        user_agent,
        {{ matches_any_pattern('user_agent', 'ci_user_agents') }} as is_ci_user_agent
    from (select distinct user_agent from signals where user_agent is not null) as distinct_agents

),

with_people as (

    select
        signals.*,
        coalesce(by_user.person_id, by_anonymous.person_id, by_login.person_id) as person_id,
        coalesce(user_agents.is_ci_user_agent, false) as is_ci_user_agent
    from signals
    left join person_identifiers as by_user
        on by_user.identifier_key
            = {{ identifier_key("'segment_user_id'", normalize_identifier('segment_user_id', 'signals.segment_user_id')) }}
    left join person_identifiers as by_anonymous
        on by_anonymous.identifier_key
            = {{ identifier_key("'segment_anonymous_id'", normalize_identifier('segment_anonymous_id', 'signals.segment_anonymous_id')) }}
    left join person_identifiers as by_login
        on by_login.identifier_key = {{ identifier_key("'github_login'", 'signals.github_login') }}
    left join user_agents on signals.user_agent = user_agents.user_agent

),

with_spells as (

    select
        with_people.*,
        people.is_bot as is_bot_person,
        people.is_internal,
        people.is_test_account,
        people.has_personal_email,
        spells.account_domain as spell_account_domain,
        spells.is_internal as is_internal_spell,
        spells.match_rule as spell_match_rule,
        spells.confidence as spell_confidence
    from with_people
    left join people on with_people.person_id = people.person_id
    left join spells
        on with_people.person_id = spells.person_id
        and (spells.valid_from is null or cast(with_people.occurred_at at time zone 'UTC' as date) >= spells.valid_from)
        and (spells.valid_to is null or cast(with_people.occurred_at at time zone 'UTC' as date) < spells.valid_to)

),

classified as (

    select
        *,
        case
            when is_bot or coalesce(is_bot_person, false) or is_ci_user_agent then 'bot'
            when coalesce(is_internal, false) or coalesce(is_internal_spell, false) then 'internal_domain'
            when coalesce(is_test_account, false) then 'test_account'
            when spell_match_rule = 'manual' and spell_account_domain is null then 'manual_no_account'
            when spell_account_domain is null and coalesce(has_personal_email, false) then 'personal_email_domain'
            when spell_account_domain is null then 'no_email'
        end as exclusion_reason
    from with_spells

),

final as (

    select
        signal_id,
        signal_type,
        source,
        source_event,
        occurred_at,
        actor_key,
        email,
        github_login,
        segment_user_id,
        segment_anonymous_id,
        is_bot,
        case when exclusion_reason is null then spell_account_domain end as account_domain,
        case when exclusion_reason is null then {{ surrogate_key(['spell_account_domain']) }} end as account_id,
        case when exclusion_reason is null then spell_match_rule end as match_rule,
        exclusion_reason,
        properties,
        person_id,
        case when exclusion_reason is null then spell_confidence end as match_confidence,
        coalesce(exclusion_reason in ('bot', 'internal_domain', 'test_account'), false) as is_noise,
        user_agent
    from classified

)

select * from final
