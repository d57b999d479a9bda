{%- set relation = load_relation(source('crm', 'generic_companies')) -%}
{%- set columns = source_columns(relation) if relation is not none else [] -%}
{%- set employees = column_or_null(columns, 'size') -%}

with

source as (

    {% if relation is not none -%}
    select * from {{ relation }}
    {%- else -%}
    select where false  -- no generic companies CSV loaded yet
    {%- endif %}

),

renamed as (

    select
        ---------- ids
        cast({{ column_or_null(columns, 'company_key') }} as text) as generic_company_key,

        ---------- company: the domain, else the website's host (SPEC-seed §4.6), `www.` stripped
        {{ clean_text(column_or_null(columns, 'name')) }} as company_name,
        coalesce(
            {{ website_domain(column_or_null(columns, 'domain')) }},
            {{ website_domain(column_or_null(columns, 'website')) }}
        ) as domain,
        {{ clean_text(column_or_null(columns, 'website')) }} as website,
        {{ clean_text(column_or_null(columns, 'industry')) }} as industry,
        {{ clean_text(column_or_null(columns, 'description')) }} as description,
        {{ clean_text(column_or_null(columns, 'github_org')) }} as github_org,

        ---------- size: a number, a range read by its bounds, an open range, or a label
        {{ clean_text(employees) }} as employees_raw,
        {{ employees_min(employees) }} as employees_min,
        {{ employees_max(employees) }} as employees_max,
        {{ parse_employee_count(employees) }} as count_employees,
        {{ size_band(employees) }} as size_band,

        ---------- contact points and address
        {{ clean_text(column_or_null(columns, 'email')) }} as email,
        {{ clean_text(column_or_null(columns, 'phone')) }} as phone_number,
        {{ clean_text(column_or_null(columns, 'linkedin')) }} as linkedin,
        {{ clean_text(column_or_null(columns, 'twitter')) }} as twitter,
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
