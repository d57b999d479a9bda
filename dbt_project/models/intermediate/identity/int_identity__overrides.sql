{{ config(materialized='table') }}

-- One row per manual identity decision still in force (app.identity_overrides, revoked rows
-- dropped), normalised: identifiers through the same macros as the graph, domains through
-- website_domain. For each target only the latest decision counts (a newer set_account for the
-- same person replaces the older one; merge and split are per pair / per identifier).
--
-- The empty-source pattern: the source is declared (lineage, docs), but if the app's migrations
-- have not created the table yet, this model reads an empty relation of the same shape instead
-- of failing the build. A table, not a view: nothing in the database then depends on the app's
-- table, so its migrations can drop and recreate it freely.

{%- set overrides = source('app', 'identity_overrides') -%}
{%- set existing = load_relation(overrides) if execute else none -%}
{%- set columns = source_columns(overrides) if existing is not none else [] %}

with

raw_overrides as (

    {% if existing is not none -%}
    select
        cast({{ column_or_null(columns, 'override_id') }} as text) as override_id,
        lower({{ clean_text(column_or_null(columns, 'action')) }}) as action,
        {{ clean_text(column_or_null(columns, 'person_id')) }} as person_id,
        {{ clean_text(column_or_null(columns, 'other_person_id')) }} as other_person_id,
        lower({{ clean_text(column_or_null(columns, 'identifier_type')) }}) as identifier_type,
        cast({{ column_or_null(columns, 'identifier_value') }} as text) as identifier_value,
        {{ clean_text(column_or_null(columns, 'account_id')) }} as account_id,
        {{ website_domain(column_or_null(columns, 'account_domain')) }} as account_domain,
        cast({{ column_or_null(columns, 'effective_from', 'date') }} as date) as effective_from,
        {{ clean_text(column_or_null(columns, 'reason')) }} as reason,
        {{ clean_text(column_or_null(columns, 'created_by')) }} as created_by,
        cast({{ column_or_null(columns, 'created_at', 'timestamptz') }} as timestamptz) as created_at,
        cast({{ column_or_null(columns, 'revoked_at', 'timestamptz') }} as timestamptz) as revoked_at
    from {{ overrides }}
    {%- else -%}
    select
        cast(null as text) as override_id,
        cast(null as text) as action,
        cast(null as text) as person_id,
        cast(null as text) as other_person_id,
        cast(null as text) as identifier_type,
        cast(null as text) as identifier_value,
        cast(null as text) as account_id,
        cast(null as text) as account_domain,
        cast(null as date) as effective_from,
        cast(null as text) as reason,
        cast(null as text) as created_by,
        cast(null as timestamptz) as created_at,
        cast(null as timestamptz) as revoked_at
    where false
    {%- endif %}

),

normalised as (

    select
        override_id,
        action,
        person_id,
        other_person_id,
        identifier_type,
        case identifier_type
            when 'email' then {{ normalize_identifier('email', 'identifier_value') }}
            when 'github_login' then {{ normalize_identifier('github_login', 'identifier_value') }}
            when 'segment_user_id' then {{ normalize_identifier('segment_user_id', 'identifier_value') }}
            when 'segment_anonymous_id' then {{ normalize_identifier('segment_anonymous_id', 'identifier_value') }}
            when 'hubspot_contact_id' then {{ normalize_identifier('hubspot_contact_id', 'identifier_value') }}
            when 'salesforce_contact_id' then {{ normalize_identifier('salesforce_contact_id', 'identifier_value') }}
        end as identifier_value,
        account_id,
        account_domain,
        effective_from,
        reason,
        created_by,
        created_at
    from raw_overrides
    where revoked_at is null
        and action in ('merge', 'split', 'set_account')

),

latest as (

    -- the newest decision per target wins
    select distinct on (
        action,
        case action
            when 'merge' then least(person_id, other_person_id) || '|' || greatest(person_id, other_person_id)
            when 'split' then identifier_type || ':' || identifier_value
            else person_id
        end
    ) *
    from normalised
    where (action = 'merge' and person_id is not null and other_person_id is not null and person_id <> other_person_id)
        or (action = 'split' and identifier_value is not null)
        or (action = 'set_account' and person_id is not null)
    order by
        action,
        case action
            when 'merge' then least(person_id, other_person_id) || '|' || greatest(person_id, other_person_id)
            when 'split' then identifier_type || ':' || identifier_value
            else person_id
        end,
        created_at desc nulls last,
        override_id desc

),

final as (

    select
        override_id,
        action,
        person_id,
        other_person_id,
        identifier_type,
        identifier_value,
        case when identifier_value is not null then {{ identifier_key('identifier_type', 'identifier_value') }} end
            as identifier_key,
        account_id,
        account_domain,
        effective_from,
        reason,
        created_by,
        created_at
    from latest

)

select * from final
