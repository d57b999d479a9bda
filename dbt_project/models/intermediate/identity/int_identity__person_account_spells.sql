{{ config(materialized='table') }}

-- One row per person per employment spell as the evidence tells it: which account the person's
-- activity is credited to from valid_from (inclusive; null = since ever) to valid_to (exclusive;
-- null = still), by which rule and how sure. Activity is credited to the employer at the time of
-- the event: fct_signals joins a signal to the spell that covers its day.
--
-- How spells come out of int_identity__account_evidence:
--   * dated evidence (a CRM record's creation, an identify or group call) gives one account per
--     person-day: the best rule that day (rule_rank), then the latest; a new account on a later day
--     starts a new spell, so a job change shows up as two spells. The first spell reaches back to
--     the person's first activity, the last one stays open;
--   * a person with undated evidence only (a GitHub profile) gets one open spell: the best rule,
--     then the highest confidence, then the most evidence. Undated evidence never overrides dated
--     evidence (a GitHub `company` field is often stale after a job change);
--   * rule and confidence of a spell: the best rule that names its account for the person;
--   * app.identity_overrides `set_account` (rule `manual`, confidence 1) replaces everything from
--     effective_from (null = always); an account of null there means "no account".
-- Days are UTC dates, so a person maps to at most one account per day (tested).

with

evidence as (

    select * from {{ ref('int_identity__account_evidence') }}

),

aliases as (

    select alias_person_id, person_id
    from {{ ref('int_identity__person_registry') }}
    where row_kind = 'alias' and is_active

),

candidates as (

    select account_domain, {{ surrogate_key(['account_domain']) }} as account_id, bool_or(is_internal) as is_internal
    from {{ ref('int_identity__account_names') }}
    group by account_domain

),

-- the best rule naming each account for each person
support as (

    select
        person_id,
        account_domain,
        bool_or(is_internal) as is_internal,
        min(rule_rank) as rule_rank,
        (array_agg(match_rule order by rule_rank, confidence desc))[1] as match_rule,
        (array_agg(confidence order by rule_rank, confidence desc))[1] as confidence,
        count(*) as count_evidence,
        string_agg(distinct match_rule, ',' order by match_rule) as supporting_rules,
        bool_or(evidence_at is not null) as has_dated_evidence
    from evidence
    group by person_id, account_domain

),

dated_days as (

    select distinct on (person_id, evidence_day)
        person_id,
        evidence_day,
        account_domain
    from (
        select *, cast(evidence_at at time zone 'UTC' as date) as evidence_day
        from evidence
        where evidence_at is not null
    ) as dated
    order by person_id, evidence_day, rule_rank, evidence_at desc, confidence desc, account_domain

),

changes as (

    select
        *,
        lag(account_domain) over (partition by person_id order by evidence_day) as previous_domain
    from dated_days

),

dated_starts as (

    select person_id, account_domain, evidence_day as start_day
    from changes
    where previous_domain is distinct from account_domain

),

dated_spells as (

    select
        person_id,
        account_domain,
        case when row_number() over by_person = 1 then null else start_day end as valid_from,
        lead(start_day) over by_person as valid_to
    from dated_starts
    window by_person as (partition by person_id order by start_day)

),

undated_spells as (

    select distinct on (support.person_id)
        support.person_id,
        support.account_domain,
        cast(null as date) as valid_from,
        cast(null as date) as valid_to
    from support
    where not exists (select 1 from dated_days where dated_days.person_id = support.person_id)
    order by support.person_id, support.rule_rank, support.confidence desc, support.count_evidence desc,
        support.account_domain

),

automatic as (

    select
        spells.person_id,
        spells.account_domain,
        spells.valid_from,
        spells.valid_to,
        support.is_internal,
        support.match_rule,
        support.rule_rank,
        support.confidence,
        support.supporting_rules,
        support.count_evidence
    from (select * from dated_spells union all select * from undated_spells) as spells
    inner join support
        on spells.person_id = support.person_id and spells.account_domain = support.account_domain

),

-- manual decisions --------------------------------------------------------------------------------

manual as (

    select
        coalesce(aliases.person_id, overrides.person_id) as person_id,
        coalesce(overrides.account_domain, candidates.account_domain) as account_domain,
        overrides.effective_from,
        overrides.override_id
    from {{ ref('int_identity__overrides') }} as overrides
    left join aliases on overrides.person_id = aliases.alias_person_id
    left join candidates on overrides.account_id = candidates.account_id
    where overrides.action = 'set_account'
        and exists (
            select 1 from {{ ref('int_identity__person_identifiers') }} as person_identifiers
            where person_identifiers.person_id = coalesce(aliases.person_id, overrides.person_id)
        )

),

manual_latest as (

    -- one decision per person (after alias resolution two may land on one person: the latest id wins)
    select distinct on (person_id) *
    from manual
    order by person_id, cast(override_id as bigint) desc nulls last

),

automatic_clipped as (

    select
        automatic.person_id,
        automatic.account_domain,
        automatic.valid_from,
        case
            when manual_latest.person_id is not null
                and (automatic.valid_to is null or automatic.valid_to > manual_latest.effective_from)
            then manual_latest.effective_from
            else automatic.valid_to
        end as valid_to,
        automatic.is_internal,
        automatic.match_rule,
        automatic.rule_rank,
        automatic.confidence,
        automatic.supporting_rules,
        automatic.count_evidence
    from automatic
    left join manual_latest on automatic.person_id = manual_latest.person_id
    where manual_latest.person_id is null
        or (manual_latest.effective_from is not null
            and (automatic.valid_from is null or automatic.valid_from < manual_latest.effective_from))

),

manual_spells as (

    select
        manual_latest.person_id,
        manual_latest.account_domain,
        manual_latest.effective_from as valid_from,
        cast(null as date) as valid_to,
        coalesce(candidates.is_internal, false) as is_internal,
        'manual' as match_rule,
        0 as rule_rank,
        1.0 as confidence,
        'manual' as supporting_rules,
        1 as count_evidence
    from manual_latest
    left join candidates on manual_latest.account_domain = candidates.account_domain

),

spells as (

    select * from automatic_clipped
    union all
    select * from manual_spells

),

final as (

    select
        {{ surrogate_key(['person_id', 'valid_from']) }} as person_account_spell_id,
        person_id,
        account_domain,
        case when account_domain is not null and not is_internal then {{ surrogate_key(['account_domain']) }} end
            as account_id,
        is_internal,
        match_rule,
        rule_rank,
        confidence,
        supporting_rules,
        count_evidence,
        valid_from,
        valid_to,
        valid_to is null as is_current
    from spells

)

select * from final
