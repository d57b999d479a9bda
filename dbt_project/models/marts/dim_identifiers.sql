-- One row per identifier seen in any source, normalised (lower-cased trimmed emails, GitHub logins,
-- Segment userId / anonymousId, HubSpot and Salesforce contact ids), with the person it belongs to
-- and that person's current account. A blocked identifier (noreply, shared inbox, placeholder, tied
-- to too many others) has no person: it never joins a cluster.

with

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

person_identifiers as (

    select identifier_key, person_id from {{ ref('int_identity__person_identifiers') }}

),

people as (

    select person_id, account_id from {{ ref('int_identity__people') }}

),

final as (

    select
        ---------- ids
        identifiers.identifier_key,
        identifiers.identifier_type,
        identifiers.identifier_value,
        person_identifiers.person_id,
        people.account_id,

        ---------- attributes
        identifiers.email_domain,
        identifiers.is_blocked,
        identifiers.block_reason,
        identifiers.block_detail,
        identifiers.seen_in,
        identifiers.count_observations,

        ---------- timestamps
        identifiers.first_seen_at,
        identifiers.last_seen_at

    from identifiers
    left join person_identifiers on identifiers.identifier_key = person_identifiers.identifier_key
    left join people on person_identifiers.person_id = people.person_id

)

select * from final
