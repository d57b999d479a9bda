{%- set relation = load_relation(source('crm', 'hubspot_contacts')) -%}
{%- set columns = source_columns(relation) if relation is not none else [] -%}
{#- the export columns mapped below (SPEC-seed §4.7); every other one lands in custom_fields -#}
{%- set mapped = ['record_id', 'first_name', 'last_name', 'email', 'phone_number', 'phone', 'job_title',
    'company_name', 'lifecycle_stage', 'lead_status', 'create_date', 'associated_company_ids', 'linkedin',
    'linkedin_url', 'twitter', 'twitter_handle', 'github', 'notes', 'street_address', 'address', 'city',
    'state_region', 'state', 'country_region', 'country'] -%}
{%- set dropped = mapped + ['_source_file', '_source_line', '_encoding', '_has_formula', '_dlt_load_id', '_dlt_id'] -%}
{%- set custom_fields -%}
    nullif(jsonb_strip_nulls(to_jsonb(source) - array[{% for c in dropped %}'{{ c }}'{{ ', ' if not loop.last }}{% endfor %}]::text[]), '{}')
{%- endset -%}

with

source as (

    {% if relation is not none -%}
    select * from {{ relation }}
    {%- else -%}
    select where false  -- no HubSpot contacts export loaded yet
    {%- endif %}

),

renamed as (

    select
        ---------- ids
        {{ clean_id(column_or_null(columns, 'record_id')) }} as hubspot_contact_id,
        {{ clean_id("split_part(translate(cast(" ~ column_or_null(columns, 'associated_company_ids') ~ " as text), ',', ';'), ';', 1)") }}
            as hubspot_company_id,
        cast({{ column_or_null(columns, 'associated_company_ids') }} as text) as associated_company_ids,

        ---------- person
        {{ clean_text(column_or_null(columns, 'first_name')) }} as first_name,
        {{ clean_text(column_or_null(columns, 'last_name')) }} as last_name,
        {{ normalize_email(column_or_null(columns, 'email')) }} as email,
        cast({{ column_or_null(columns, 'email') }} as text) as email_raw,
        {{ email_domain(column_or_null(columns, 'email')) }} as email_domain,
        coalesce({{ clean_text(column_or_null(columns, 'phone_number')) }},
                 {{ clean_text(column_or_null(columns, 'phone')) }}) as phone_number,
        {{ clean_text(column_or_null(columns, 'job_title')) }} as title,
        {{ clean_text(column_or_null(columns, 'company_name')) }} as company_name,
        lower({{ clean_text(column_or_null(columns, 'lifecycle_stage')) }}) as lifecycle_stage,
        {{ clean_text(column_or_null(columns, 'lead_status')) }} as lead_status,
        coalesce({{ clean_text(column_or_null(columns, 'linkedin')) }},
                 {{ clean_text(column_or_null(columns, 'linkedin_url')) }}) as linkedin,
        coalesce({{ clean_text(column_or_null(columns, 'twitter')) }},
                 {{ clean_text(column_or_null(columns, 'twitter_handle')) }}) as twitter,
        {{ clean_text(column_or_null(columns, 'github')) }} as github,
        {{ clean_text(column_or_null(columns, 'notes')) }} as notes,

        ---------- address
        coalesce({{ clean_text(column_or_null(columns, 'street_address')) }},
                 {{ clean_text(column_or_null(columns, 'address')) }}) as street_address,
        {{ clean_text(column_or_null(columns, 'city')) }} as city,
        coalesce({{ clean_text(column_or_null(columns, 'state_region')) }},
                 {{ clean_text(column_or_null(columns, 'state')) }}) as state,
        coalesce({{ clean_text(column_or_null(columns, 'country_region')) }},
                 {{ clean_text(column_or_null(columns, 'country')) }}) as country,

        ---------- the export's other columns, and row flags
        {{ custom_fields }} as custom_fields,
        {{ crm_row_flags_and_lineage(columns) }},

        ---------- timestamps
        {{ parse_timestamp(column_or_null(columns, 'create_date')) }} as created_at

    from source

)

select * from renamed
