{{ config(materialized='table') }}

-- One row per identifier in use (not blocked, seen in the current sources) with the person it
-- belongs to now: the registry's answer for the current components. Identifiers the sources no
-- longer carry keep their registry row but are not here.

with

registry as (

    select identifier_key, person_id, first_person_id, updated_at
    from {{ ref('int_identity__person_registry') }}
    where row_kind = 'identifier'

),

components as (

    select identifier_key, component_key from {{ ref('int_identity__components') }}

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

final as (

    select
        identifiers.identifier_key,
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.email_domain,
        registry.person_id,
        registry.first_person_id,
        components.component_key,
        identifiers.first_seen_at,
        identifiers.last_seen_at,
        identifiers.count_observations,
        identifiers.seen_in,
        registry.updated_at as person_assigned_at
    from components
    inner join identifiers on components.identifier_key = identifiers.identifier_key
    inner join registry on components.identifier_key = registry.identifier_key

)

select * from final
