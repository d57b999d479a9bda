{#- CTEs carry no statistics: left alone, the planner merge-joins the recursive step and sorts every
    edge again in each round (4x slower at 1M edges). The pre-hook makes it hash the edges once. -#}
{{ config(materialized='table', pre_hook="set local enable_mergejoin = off") }}

-- One row per usable (not blocked) identifier with its connected component over the active edges:
-- `component_key` is the smallest identifier key of the component. Computed in the database by the
-- recursive walk of macro connected_components (why this algorithm: README.md in this folder).
-- Component keys are not person ids (they change when a smaller identifier joins):
-- int_identity__person_registry turns components into stable person ids.

with

nodes as (

    select identifier_key as node from {{ ref('int_identity__identifiers') }} where not is_blocked

),

edges as (

    select identifier_key_a as node_a, identifier_key_b as node_b
    from {{ ref('int_identity__edges') }}
    where is_active

),

components as (

    {{ connected_components('nodes', 'edges') }}

),

final as (

    select
        components.node as identifier_key,
        components.component as component_key,
        count(*) over (partition by components.component) as count_component_identifiers
    from components

)

select * from final
