-- One row per person id that was merged into another (automatically, when new evidence joined two
-- clusters, or by a manual merge in app.identity_overrides): the id it resolves to now. Anything the
-- app stored against an old id still finds its person: `coalesce(alias.person_id, stored_id)`.

with

aliases as (

    select alias_person_id, person_id, alias_reason, updated_at
    from {{ ref('int_identity__person_registry') }}
    where row_kind = 'alias' and is_active

),

final as (

    select
        alias_person_id,
        person_id,
        alias_reason,
        updated_at as aliased_at
    from aliases
    -- an id whose person has no identifiers left in the sources resolves to nothing current
    where exists (select 1 from {{ ref('int_identity__people') }} as people where people.person_id = aliases.person_id)

)

select * from final
