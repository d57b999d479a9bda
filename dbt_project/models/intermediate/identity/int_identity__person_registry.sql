{{
    config(
        materialized='incremental',
        unique_key='registry_key',
        incremental_strategy='delete+insert',
        full_refresh=false,
        on_schema_change='append_new_columns',
    )
}}

-- The memory that makes person ids stable: one row per identifier ever clustered (row_kind
-- 'identifier': which person it belongs to now) and one per person id that was merged away
-- (row_kind 'alias': the id it now resolves to). Each build reads the previous state ({{ this }})
-- and moves it forward:
--   1. groups = components (int_identity__components) joined by manual merges
--      (app.identity_overrides, via int_identity__overrides);
--   2. every person id of the previous state stays with the group that holds most of its
--      identifiers (its original ones first);
--   3. a group holding several person ids keeps the oldest (minted first, then seen first) and
--      records the others as aliases: anything stored against them still resolves;
--   4. a group holding none takes back an id it was merged away from (an undone merge), else mints
--      one from its smallest identifier key (deterministic: a rebuild from nothing gives the same
--      ids), salted if that id is taken.
-- Adding identifiers to a person keeps its id; alias rows are repointed when their survivor is
-- merged again, so one hop always resolves. `full_refresh=false`: `dbt build --full-refresh`
-- leaves this table alone (drop it by hand to forget history; ids are then re-minted, the same ones
-- for every person that never merged or split).

{%- set run_at = "cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "+00' as timestamptz)" %}

with

components as (

    select
        components.identifier_key,
        components.component_key,
        identifiers.first_seen_at
    from {{ ref('int_identity__components') }} as components
    inner join {{ ref('int_identity__identifiers') }} as identifiers
        on components.identifier_key = identifiers.identifier_key

),

{% if is_incremental() %}

previous_identifiers as (

    select identifier_key, person_id, first_person_id, person_minted_at, updated_at
    from {{ this }}
    where row_kind = 'identifier'

),

previous_aliases as (

    select alias_person_id, person_id, alias_reason, person_minted_at, updated_at, is_active
    from {{ this }}
    where row_kind = 'alias'

),

{% else %}

previous_identifiers as (

    select
        cast(null as text) as identifier_key,
        cast(null as text) as person_id,
        cast(null as text) as first_person_id,
        cast(null as timestamptz) as person_minted_at,
        cast(null as timestamptz) as updated_at
    where false

),

previous_aliases as (

    select
        cast(null as text) as alias_person_id,
        cast(null as text) as person_id,
        cast(null as text) as alias_reason,
        cast(null as timestamptz) as person_minted_at,
        cast(null as timestamptz) as updated_at,
        cast(null as boolean) as is_active
    where false

),

{% endif %}

previous_people as (

    select person_id, min(person_minted_at) as minted_at
    from previous_identifiers
    group by person_id

),

-- 1. manual merges join components into groups -------------------------------------------------

merge_overrides as (

    select
        coalesce(alias_1.person_id, overrides.person_id) as person_1,
        coalesce(alias_2.person_id, overrides.other_person_id) as person_2
    from {{ ref('int_identity__overrides') }} as overrides
    left join previous_aliases as alias_1
        on overrides.person_id = alias_1.alias_person_id and alias_1.is_active
    left join previous_aliases as alias_2
        on overrides.other_person_id = alias_2.alias_person_id and alias_2.is_active
    where overrides.action = 'merge'

),

component_previous as (

    select
        components.component_key,
        previous_identifiers.person_id,
        count(*) as count_identifiers,
        count(*) filter (where previous_identifiers.first_person_id = previous_identifiers.person_id)
            as count_original_identifiers,
        min(components.first_seen_at) as first_seen_at
    from components
    inner join previous_identifiers on components.identifier_key = previous_identifiers.identifier_key
    group by components.component_key, previous_identifiers.person_id

),

component_keys as (

    select distinct component_key from components

),

-- where a person's identifiers are now: by the previous state, or (no state yet) by the id the
-- component would mint
person_locations as (

    select person_id, component_key from component_previous
    union
    select {{ mint_person_id('component_key') }}, component_key from component_keys

),

merge_edges as (

    select location_1.component_key as node_a, location_2.component_key as node_b
    from merge_overrides
    inner join person_locations as location_1 on merge_overrides.person_1 = location_1.person_id
    inner join person_locations as location_2 on merge_overrides.person_2 = location_2.person_id

),

merge_nodes as (

    select node_a as node from merge_edges
    union
    select node_b from merge_edges

),

merged_components as (

    {{ connected_components('merge_nodes', 'merge_edges') }}

),

groups as (

    select
        component_keys.component_key,
        coalesce(merged_components.component, component_keys.component_key) as group_key,
        merged_components.node is not null as is_manual_merge
    from component_keys
    left join merged_components on component_keys.component_key = merged_components.node

),

-- 2. each previous person id stays with one group ------------------------------------------------

group_previous as (

    select
        groups.group_key,
        bool_or(groups.is_manual_merge) as is_manual_merge,
        component_previous.person_id,
        sum(component_previous.count_identifiers) as count_identifiers,
        sum(component_previous.count_original_identifiers) as count_original_identifiers,
        min(component_previous.first_seen_at) as first_seen_at
    from component_previous
    inner join groups on component_previous.component_key = groups.component_key
    group by groups.group_key, component_previous.person_id

),

owners as (

    select distinct on (group_previous.person_id)
        group_previous.person_id,
        group_previous.group_key,
        group_previous.is_manual_merge,
        group_previous.first_seen_at,
        previous_people.minted_at
    from group_previous
    inner join previous_people on group_previous.person_id = previous_people.person_id
    order by
        group_previous.person_id,
        group_previous.count_original_identifiers desc,
        group_previous.count_identifiers desc,
        group_previous.group_key

),

-- 3. the oldest id of a group survives, the others become aliases --------------------------------

survivors as (

    select distinct on (group_key) group_key, person_id, minted_at
    from owners
    order by group_key, minted_at, first_seen_at nulls last, person_id

),

new_aliases as (

    select
        owners.person_id as alias_person_id,
        survivors.person_id,
        case when owners.is_manual_merge then 'manual_merge' else 'merge' end as alias_reason,
        owners.minted_at as person_minted_at
    from owners
    inner join survivors on owners.group_key = survivors.group_key
    where owners.person_id <> survivors.person_id

),

-- 4. groups without an id: take back an id merged away from, else mint one -----------------------

unowned_groups as (

    select distinct groups.group_key
    from groups
    where not exists (select 1 from survivors where survivors.group_key = groups.group_key)

),

revival_candidates as (

    select
        groups.group_key,
        previous_identifiers.first_person_id as person_id,
        count(*) as count_identifiers
    from components
    inner join groups on components.component_key = groups.component_key
    inner join unowned_groups on groups.group_key = unowned_groups.group_key
    inner join previous_identifiers on components.identifier_key = previous_identifiers.identifier_key
    where previous_identifiers.first_person_id is not null
        and not exists (select 1 from survivors where survivors.person_id = previous_identifiers.first_person_id)
    group by groups.group_key, previous_identifiers.first_person_id

),

revivals as (

    -- one id per group and one group per id
    select distinct on (person_id) group_key, person_id
    from (
        select distinct on (group_key) group_key, person_id, count_identifiers
        from revival_candidates
        order by group_key, count_identifiers desc, person_id
    ) as best_per_group
    order by person_id, count_identifiers desc, group_key

),

taken_ids as (

    select person_id from survivors
    union
    select person_id from revivals
    union
    select alias_person_id from previous_aliases where is_active
    union
    select alias_person_id from new_aliases

),

to_mint as (

    select unowned_groups.group_key, {{ mint_person_id('unowned_groups.group_key') }} as natural_id
    from unowned_groups
    where not exists (select 1 from revivals where revivals.group_key = unowned_groups.group_key)

),

minted as (

    select
        to_mint.group_key,
        case
            when exists (select 1 from taken_ids where taken_ids.person_id = to_mint.natural_id)
            then {{ mint_person_id('to_mint.group_key', 'to_mint.natural_id') }}
            else to_mint.natural_id
        end as person_id
    from to_mint

),

group_people as (

    select group_key, person_id, minted_at as person_minted_at from survivors

    union all

    select revivals.group_key, revivals.person_id, coalesce(previous_aliases.person_minted_at, {{ run_at }})
    from revivals
    left join previous_aliases on revivals.person_id = previous_aliases.alias_person_id

    union all

    select minted.group_key, minted.person_id, coalesce(previous_people.minted_at, {{ run_at }})
    from minted
    left join previous_people on minted.person_id = previous_people.person_id

),

-- the new state -----------------------------------------------------------------------------------

identifier_rows as (

    select
        'identifier:' || components.identifier_key as registry_key,
        'identifier' as row_kind,
        components.identifier_key,
        group_people.person_id,
        coalesce(previous_identifiers.first_person_id, group_people.person_id) as first_person_id,
        cast(null as text) as alias_person_id,
        cast(null as text) as alias_reason,
        group_people.person_minted_at,
        case
            when previous_identifiers.person_id is distinct from group_people.person_id then {{ run_at }}
            else previous_identifiers.updated_at
        end as updated_at,
        true as is_active
    from components
    inner join groups on components.component_key = groups.component_key
    inner join group_people on groups.group_key = group_people.group_key
    left join previous_identifiers on components.identifier_key = previous_identifiers.identifier_key

),

alias_rows as (

    -- earlier aliases, repointed when their survivor was merged away in turn, retired when revived
    select
        previous_aliases.alias_person_id,
        coalesce(repointed.person_id, previous_aliases.person_id) as person_id,
        previous_aliases.alias_reason,
        previous_aliases.person_minted_at,
        case
            when revivals.person_id is not null
                or (repointed.person_id is not null and repointed.person_id is distinct from previous_aliases.person_id)
            then {{ run_at }}
            else previous_aliases.updated_at
        end as updated_at,
        previous_aliases.is_active and revivals.person_id is null as is_active
    from previous_aliases
    left join new_aliases as repointed on previous_aliases.person_id = repointed.alias_person_id
    left join revivals on previous_aliases.alias_person_id = revivals.person_id
    where not exists (select 1 from new_aliases where new_aliases.alias_person_id = previous_aliases.alias_person_id)

    union all

    select alias_person_id, person_id, alias_reason, person_minted_at, {{ run_at }}, true
    from new_aliases

),

final as (

    select * from identifier_rows

    union all

    select
        'alias:' || alias_person_id as registry_key,
        'alias' as row_kind,
        cast(null as text) as identifier_key,
        person_id,
        cast(null as text) as first_person_id,
        alias_person_id,
        alias_reason,
        person_minted_at,
        updated_at,
        is_active
    from alias_rows

)

select * from final
