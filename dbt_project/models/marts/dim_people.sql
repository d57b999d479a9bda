{{ config(indexes=[{'columns': ['person_id'], 'unique': true}, {'columns': ['account_id']}]) }}

-- One row per person: a cluster of identifiers (emails, GitHub login, Segment ids, CRM contacts)
-- with a stable person_id, their current account and the rule that decided it. Noise (bots, the
-- vendor's staff, test accounts) is here too, flagged, with no account. An id that was merged away
-- resolves through dim_person_aliases.

with

people as (

    select * from {{ ref('int_identity__people') }}

),

final as (

    select
        ---------- ids
        person_id,

        ---------- who
        display_name,
        full_name,
        title,
        primary_email,
        github_login,
        segment_user_id,
        count_identifiers,
        identifier_types,
        identifier_types = 'segment_anonymous_id' as is_anonymous,

        ---------- account (now)
        account_id,
        account_domain,
        match_rule,
        match_confidence,
        supporting_rules,

        ---------- noise
        is_bot,
        is_internal,
        is_test_account,
        noise_reason,
        noise_detail,

        ---------- timestamps
        first_seen_at,
        last_seen_at

    from people

)

select * from final
