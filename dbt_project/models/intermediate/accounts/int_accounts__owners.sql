-- One row per account with an owner in the app (app.account_owners, written by the CRM app's
-- assign_owner / claim_account through apps/state): the owner's email and when it was assigned.
--
-- The empty-source pattern (as int_identity__overrides): the source is declared for lineage, but
-- while the app's migrations have not created the table this reads an empty relation of the same
-- shape instead of failing the build. A table (this folder's default), so nothing in the database
-- depends on the app's table and its migrations stay free to change it.

{%- set owners = source('app', 'account_owners') -%}
{%- set existing = load_relation(owners) if execute else none -%}
{%- set columns = source_columns(owners) if existing is not none else [] %}

with

raw_owners as (

    {% if existing is not none -%}
    select
        {{ clean_text(column_or_null(columns, 'account_id')) }} as account_id,
        {{ clean_text(column_or_null(columns, 'owner')) }} as owner,
        {{ clean_text(column_or_null(columns, 'assigned_by')) }} as assigned_by,
        cast({{ column_or_null(columns, 'assigned_at', 'timestamptz') }} as timestamptz) as assigned_at
    from {{ owners }}
    {%- else -%}
    select
        cast(null as text) as account_id,
        cast(null as text) as owner,
        cast(null as text) as assigned_by,
        cast(null as timestamptz) as assigned_at
    where false
    {%- endif %}

),

-- account_id is the table's primary key; the filter only guards against blank values
final as (

    select account_id, owner, assigned_by, assigned_at
    from raw_owners
    where account_id is not null and owner is not null

)

select * from final
