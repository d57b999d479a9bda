{%- set relation = load_relation(source('crm', 'hubspot_companies')) -%}
{%- set columns = source_columns(relation) if relation is not none else [] -%}
{#- the export columns mapped below (SPEC-seed §4.7); every other one lands in custom_fields -#}
{%- set mapped = ['record_id', 'company_name', 'name', 'company_domain_name', 'domain', 'website_url', 'website',
    'industry', 'number_of_employees', 'annual_revenue', 'phone_number', 'phone', 'street_address', 'address',
    'city', 'state_region', 'state', 'country_region', 'country', 'linkedin_company_page', 'linkedin',
    'twitter_handle', 'twitter', 'description', 'create_date'] -%}
{%- set dropped = mapped + ['_source_file', '_source_line', '_encoding', '_has_formula', '_dlt_load_id', '_dlt_id'] -%}
{%- set custom_fields -%}
    nullif(jsonb_strip_nulls(to_jsonb(source) - array[{% for c in dropped %}'{{ c }}'{{ ', ' if not loop.last }}{% endfor %}]::text[]), '{}')
{%- endset -%}
{%- set employees = column_or_null(columns, 'number_of_employees') -%}

with

source as (

    {% if relation is not none -%}
    select * from {{ relation }}
    {%- else -%}
    select where false  -- no HubSpot companies export loaded yet
    {%- endif %}

),

renamed as (

    select
        ---------- ids
        {{ clean_id(column_or_null(columns, 'record_id')) }} as hubspot_company_id,

        ---------- company
        coalesce({{ clean_text(column_or_null(columns, 'company_name')) }},
                 {{ clean_text(column_or_null(columns, 'name')) }}) as company_name,
        coalesce(
            {{ website_domain(column_or_null(columns, 'company_domain_name')) }},
            {{ website_domain(column_or_null(columns, 'domain')) }},
            {{ website_domain(column_or_null(columns, 'website_url')) }},
            {{ website_domain(column_or_null(columns, 'website')) }}
        ) as domain,
        coalesce({{ clean_text(column_or_null(columns, 'website_url')) }},
                 {{ clean_text(column_or_null(columns, 'website')) }}) as website,
        {{ clean_text(column_or_null(columns, 'industry')) }} as industry,
        {{ clean_text(column_or_null(columns, 'description')) }} as description,
        {{ parse_number(column_or_null(columns, 'annual_revenue')) }} as annual_revenue,

        ---------- size: "2-10" is 2..10 employees (STARTUP), "51-100" 51..100 (MEDIUM), never 210 or 51100
        {{ clean_text(employees) }} as employees_raw,
        {{ employees_min(employees) }} as employees_min,
        {{ employees_max(employees) }} as employees_max,
        {{ parse_employee_count(employees) }} as count_employees,
        {{ size_band(employees) }} as size_band,

        ---------- contact points and address
        coalesce({{ clean_text(column_or_null(columns, 'phone_number')) }},
                 {{ clean_text(column_or_null(columns, 'phone')) }}) as phone_number,
        coalesce({{ clean_text(column_or_null(columns, 'linkedin_company_page')) }},
                 {{ clean_text(column_or_null(columns, 'linkedin')) }}) as linkedin,
        coalesce({{ clean_text(column_or_null(columns, 'twitter_handle')) }},
                 {{ clean_text(column_or_null(columns, 'twitter')) }}) as twitter,
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
