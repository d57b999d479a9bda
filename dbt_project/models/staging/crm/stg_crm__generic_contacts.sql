{%- set relation = load_relation(source('crm', 'generic_contacts')) -%}
{%- set columns = source_columns(relation) if relation is not none else [] -%}
{#- a `Name`-style column (full_name) fills first/last name when those are missing: first token, the rest -#}
{%- set full_name = clean_text(column_or_null(columns, 'full_name')) -%}

with

source as (

    {% if relation is not none -%}
    select * from {{ relation }}
    {%- else -%}
    select where false  -- no generic contacts CSV loaded yet
    {%- endif %}

),

renamed as (

    select
        ---------- ids
        cast({{ column_or_null(columns, 'contact_key') }} as text) as generic_contact_key,

        ---------- person
        coalesce({{ clean_text(column_or_null(columns, 'first_name')) }},
                 nullif(split_part({{ full_name }}, ' ', 1), '')) as first_name,
        coalesce({{ clean_text(column_or_null(columns, 'last_name')) }},
                 nullif(btrim(substring({{ full_name }} from '^\S+\s+(.*)$')), '')) as last_name,
        {{ normalize_email(column_or_null(columns, 'email')) }} as email,
        cast({{ column_or_null(columns, 'email') }} as text) as email_raw,
        {{ email_domain(column_or_null(columns, 'email')) }} as email_domain,
        {{ clean_text(column_or_null(columns, 'phone')) }} as phone_number,
        {{ clean_text(column_or_null(columns, 'mobile')) }} as mobile_number,
        {{ clean_text(column_or_null(columns, 'title')) }} as title,
        {{ clean_text(column_or_null(columns, 'company_name')) }} as company_name,
        {{ clean_text(column_or_null(columns, 'linkedin')) }} as linkedin,
        {{ clean_text(column_or_null(columns, 'twitter')) }} as twitter,
        {{ clean_text(column_or_null(columns, 'github')) }} as github,
        {{ clean_text(column_or_null(columns, 'notes')) }} as notes,

        ---------- address
        {{ clean_text(column_or_null(columns, 'address')) }} as street_address,
        {{ clean_text(column_or_null(columns, 'city')) }} as city,
        {{ clean_text(column_or_null(columns, 'state')) }} as state,
        {{ clean_text(column_or_null(columns, 'postal_code')) }} as postal_code,
        {{ clean_text(column_or_null(columns, 'country')) }} as country,

        ---------- the file's other columns (original headers as keys), and row flags
        cast(nullif(cast({{ column_or_null(columns, 'custom_fields') }} as text), '') as jsonb) as custom_fields,
        coalesce(cast({{ column_or_null(columns, '_has_formula', 'boolean') }} as boolean), false) as has_formula,
        cast({{ column_or_null(columns, '_encoding') }} as text) as source_encoding,

        ---------- lineage
        cast({{ column_or_null(columns, '_source_file') }} as text) as source_file,
        cast({{ column_or_null(columns, '_source_line', 'bigint') }} as bigint) as source_line

    from source

)

select * from renamed
