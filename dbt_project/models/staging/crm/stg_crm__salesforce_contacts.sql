{%- set relation = load_relation(source('crm', 'salesforce_contacts')) -%}
{%- set columns = source_columns(relation) if relation is not none else [] -%}
{#- the export columns mapped below (SPEC-seed §4.7); every other one lands in custom_fields -#}
{%- set mapped = ['contact_id', 'first_name', 'last_name', 'email', 'phone', 'title', 'account_name',
    'account_id', 'lead_source', 'created_date', 'linkedin', 'twitter', 'github', 'mailing_street',
    'mailing_city', 'mailing_state', 'mailing_country', 'description'] -%}
{%- set dropped = mapped + ['_source_file', '_source_line', '_encoding', '_has_formula', '_dlt_load_id', '_dlt_id'] -%}
{%- set custom_fields -%}
    nullif(jsonb_strip_nulls(to_jsonb(source) - array[{% for c in dropped %}'{{ c }}'{{ ', ' if not loop.last }}{% endfor %}]::text[]), '{}')
{%- endset -%}

with

source as (

    {% if relation is not none -%}
    select * from {{ relation }}
    {%- else -%}
    select where false  -- no Salesforce contacts export loaded yet
    {%- endif %}

),

renamed as (

    select
        ---------- ids
        {{ clean_id(column_or_null(columns, 'contact_id')) }} as salesforce_contact_id,
        {{ clean_id(column_or_null(columns, 'account_id')) }} as salesforce_account_id,

        ---------- person
        {{ clean_text(column_or_null(columns, 'first_name')) }} as first_name,
        {{ clean_text(column_or_null(columns, 'last_name')) }} as last_name,
        {{ normalize_email(column_or_null(columns, 'email')) }} as email,
        cast({{ column_or_null(columns, 'email') }} as text) as email_raw,
        {{ email_domain(column_or_null(columns, 'email')) }} as email_domain,
        {{ clean_text(column_or_null(columns, 'phone')) }} as phone_number,
        {{ clean_text(column_or_null(columns, 'title')) }} as title,
        {{ clean_text(column_or_null(columns, 'account_name')) }} as account_name,
        {{ clean_text(column_or_null(columns, 'lead_source')) }} as lead_source,
        {{ clean_text(column_or_null(columns, 'linkedin')) }} as linkedin,
        {{ clean_text(column_or_null(columns, 'twitter')) }} as twitter,
        {{ clean_text(column_or_null(columns, 'github')) }} as github,
        {{ clean_text(column_or_null(columns, 'description')) }} as notes,

        ---------- mailing address
        {{ clean_text(column_or_null(columns, 'mailing_street')) }} as street_address,
        {{ clean_text(column_or_null(columns, 'mailing_city')) }} as city,
        {{ clean_text(column_or_null(columns, 'mailing_state')) }} as state,
        {{ clean_text(column_or_null(columns, 'mailing_country')) }} as country,

        ---------- the export's other columns, and row flags
        {{ custom_fields }} as custom_fields,
        {{ crm_row_flags_and_lineage(columns) }},

        ---------- timestamps
        {{ parse_timestamp(column_or_null(columns, 'created_date')) }} as created_at

    from source

)

select * from renamed
