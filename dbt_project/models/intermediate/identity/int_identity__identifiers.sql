{{ config(materialized='table') }}

-- One row per normalised identifier seen in any source (email, GitHub login, Segment userId and
-- anonymousId, HubSpot and Salesforce contact ids), keyed `<type>:<value>`, with when and where it
-- was seen and whether it is blocked from joining clusters, and why:
--   noreply / shared_inbox / placeholder  a pattern in seed identity_blocked_patterns matched
--   too_many_links   it ties to more distinct identifiers of one type than var
--                    identity_link_limits allows (a shared device, a team inbox, a reused test id)
-- A blocked identifier keeps its row (and the evidence of the records that carry it: a shared
-- inbox's domain still says which company), but no edge touches it, so it never merges people.

{%- set default_limits = {'segment_user_id': 1, 'github_login': 1, 'email': 3, 'hubspot_contact_id': 3,
                          'salesforce_contact_id': 3, 'segment_anonymous_id': 50} -%}
{%- set limits = var('identity_link_limits', default_limits) %}

with

records as (

    select * from {{ ref('int_identity__source_records') }}

),

observations as (

    {%- for identifier_type in ['email', 'github_login', 'segment_user_id', 'segment_anonymous_id',
                                'hubspot_contact_id', 'salesforce_contact_id'] %}
    select
        source_record_id,
        record_source,
        '{{ identifier_type }}' as identifier_type,
        {{ identifier_type }} as identifier_value,
        observed_at,
        last_observed_at,
        count_observations
    from records
    where {{ identifier_type }} is not null
    {{ "union all" if not loop.last }}
    {%- endfor %}

),

keyed as (

    select
        {{ identifier_key('identifier_type', 'identifier_value') }} as identifier_key,
        *
    from observations

),

blocked_patterns as (

    select identifier_type, pattern, block_reason from {{ ref('identity_blocked_patterns') }}

),

per_identifier as (

    select
        identifier_key,
        min(identifier_type) as identifier_type,
        min(identifier_value) as identifier_value,
        min(observed_at) as first_seen_at,
        max(last_observed_at) as last_seen_at,
        sum(count_observations) as count_observations,
        count(distinct source_record_id) as count_records,
        string_agg(distinct record_source, ',' order by record_source) as seen_in
    from keyed
    group by identifier_key

),

pattern_blocked as (

    select distinct on (per_identifier.identifier_key)
        per_identifier.identifier_key,
        blocked_patterns.block_reason
    from per_identifier
    inner join blocked_patterns
        on blocked_patterns.identifier_type in (per_identifier.identifier_type, '*')
        and per_identifier.identifier_value ~* blocked_patterns.pattern
    order by per_identifier.identifier_key, blocked_patterns.block_reason

),

-- identifiers tied together by one record (both directions), blocked ones left out
neighbours as (

    select distinct a.identifier_key, b.identifier_key as neighbour_key, b.identifier_type as neighbour_type
    from keyed as a
    inner join keyed as b
        on a.source_record_id = b.source_record_id
        and a.identifier_key <> b.identifier_key
    where not exists (select 1 from pattern_blocked where pattern_blocked.identifier_key = a.identifier_key)
        and not exists (select 1 from pattern_blocked where pattern_blocked.identifier_key = b.identifier_key)

),

over_linked as (

    select
        identifier_key,
        string_agg(neighbour_type || ' ' || count_neighbours, ', ' order by neighbour_type) as too_many
    from (
        select identifier_key, neighbour_type, count(*) as count_neighbours
        from neighbours
        group by identifier_key, neighbour_type
    ) as by_type
    where count_neighbours > case neighbour_type
        {%- for identifier_type, limit in limits.items() %}
        when '{{ identifier_type }}' then {{ limit }}
        {%- endfor %}
        else 50
    end
    group by identifier_key

),

final as (

    select
        per_identifier.identifier_key,
        per_identifier.identifier_type,
        per_identifier.identifier_value,
        case when per_identifier.identifier_type = 'email'
            then split_part(per_identifier.identifier_value, '@', 2) end as email_domain,
        per_identifier.first_seen_at,
        per_identifier.last_seen_at,
        per_identifier.count_observations,
        per_identifier.count_records,
        per_identifier.seen_in,
        coalesce(pattern_blocked.block_reason, case when over_linked.identifier_key is not null then 'too_many_links' end)
            as block_reason,
        case when over_linked.identifier_key is not null then 'ties to ' || over_linked.too_many end as block_detail,
        (pattern_blocked.identifier_key is not null or over_linked.identifier_key is not null) as is_blocked
    from per_identifier
    left join pattern_blocked on per_identifier.identifier_key = pattern_blocked.identifier_key
    left join over_linked on per_identifier.identifier_key = over_linked.identifier_key

)

select * from final
