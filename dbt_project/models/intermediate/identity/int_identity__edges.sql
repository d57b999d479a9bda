{{ config(materialized='table') }}

-- One row per pair of identifiers that a source record ties together, per method (an undirected
-- edge: identifier_key_a < identifier_key_b), with its confidence and the evidence (the first record
-- that showed it, and how many did). Each record links its identifiers to its anchor (userId, else
-- the CRM contact id, else the GitHub login, else the anonymousId):
--   segment_identify     an identify call: userId, anonymousId and traits.email    0.95
--   segment_call         any call carrying both userId and anonymousId             0.95
--   segment_group        a group call's userId and anonymousId                     0.95
--   github_public_email  a GitHub profile's public email                           0.90
--   crm_contact_email    a HubSpot / Salesforce contact's email                    0.95
-- An edge stays in the table when it cannot be used, with the reason (is_active = false): an end
-- is blocked (int_identity__identifiers), or a manual split (app.identity_overrides) detached it.
-- Clusters are computed from the active edges only, so "unmerge" is "deactivate an edge".

with

records as (

    select * from {{ ref('int_identity__source_records') }}

),

identifiers as (

    select identifier_key, is_blocked, block_reason from {{ ref('int_identity__identifiers') }}

),

splits as (

    select distinct identifier_key from {{ ref('int_identity__overrides') }} where action = 'split'

),

keyed_records as (

    select
        record_source,
        record_id,
        observed_at,
        last_observed_at,
        count_observations,
        {{ identifier_key("'segment_user_id'", 'segment_user_id') }} as user_key,
        {{ identifier_key("'segment_anonymous_id'", 'segment_anonymous_id') }} as anonymous_key,
        {{ identifier_key("'email'", 'email') }} as email_key,
        {{ identifier_key("'github_login'", 'github_login') }} as login_key,
        coalesce(
            {{ identifier_key("'hubspot_contact_id'", 'hubspot_contact_id') }},
            {{ identifier_key("'salesforce_contact_id'", 'salesforce_contact_id') }}
        ) as contact_key
    from records

),

anchored as (

    select
        *,
        coalesce(user_key, contact_key, login_key, anonymous_key) as anchor_key
    from keyed_records

),

record_edges as (

    -- the anonymousId of a call with a userId
    select anchor_key as node_1, anonymous_key as node_2, record_source, record_id, observed_at,
           last_observed_at, count_observations
    from anchored
    where anonymous_key is not null and anchor_key <> anonymous_key

    union all

    -- the email a record carries
    select anchor_key, email_key, record_source, record_id, observed_at, last_observed_at, count_observations
    from anchored
    where email_key is not null and anchor_key is not null and anchor_key <> email_key

),

ordered as (

    select
        least(node_1, node_2) as identifier_key_a,
        greatest(node_1, node_2) as identifier_key_b,
        case record_source
            when 'segment_identify' then 'segment_identify'
            when 'segment_call' then 'segment_call'
            when 'segment_group' then 'segment_group'
            when 'github_profile' then 'github_public_email'
            when 'hubspot_contact' then 'crm_contact_email'
            when 'salesforce_contact' then 'crm_contact_email'
        end as method,
        record_source,
        record_id,
        observed_at,
        last_observed_at,
        count_observations
    from record_edges

),

per_edge as (

    select
        identifier_key_a,
        identifier_key_b,
        method,
        (array_agg(record_source || ':' || record_id order by observed_at nulls last, record_id))[1] as evidence,
        sum(count_observations) as count_evidence,
        min(observed_at) as first_seen_at,
        max(last_observed_at) as last_seen_at
    from ordered
    group by identifier_key_a, identifier_key_b, method

),

final as (

    select
        {{ surrogate_key(['per_edge.identifier_key_a', 'per_edge.identifier_key_b', 'per_edge.method']) }} as edge_id,
        per_edge.identifier_key_a,
        per_edge.identifier_key_b,
        per_edge.method,
        case per_edge.method
            when 'github_public_email' then 0.90
            else 0.95
        end as confidence,
        per_edge.evidence,
        per_edge.count_evidence,
        per_edge.first_seen_at,
        per_edge.last_seen_at,
        case
            when a.is_blocked then 'blocked_identifier:' || a.block_reason
            when b.is_blocked then 'blocked_identifier:' || b.block_reason
            when split_a.identifier_key is not null or split_b.identifier_key is not null then 'split_override'
        end as inactive_reason
    from per_edge
    inner join identifiers as a on per_edge.identifier_key_a = a.identifier_key
    inner join identifiers as b on per_edge.identifier_key_b = b.identifier_key
    left join splits as split_a on per_edge.identifier_key_a = split_a.identifier_key
    left join splits as split_b on per_edge.identifier_key_b = split_b.identifier_key

)

select
    *,
    inactive_reason is null as is_active
from final
