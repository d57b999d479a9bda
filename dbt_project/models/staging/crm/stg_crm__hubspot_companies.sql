{%- set columns = source_columns(source('crm', 'hubspot_companies')) -%}

with

source as (

    select * from {{ source('crm', 'hubspot_companies') }}

),

renamed as (

    select
        ---------- ids
        {{ clean_id('record_id') }} as hubspot_company_id,

        ---------- company
        {{ clean_text(column_or_null(columns, 'company_name')) }} as company_name,
        coalesce(
            {{ website_domain(column_or_null(columns, 'company_domain_name')) }},
            {{ website_domain(column_or_null(columns, 'website_url')) }},
            {{ website_domain(column_or_null(columns, 'website')) }}
        ) as domain,
        {{ clean_text(column_or_null(columns, 'industry')) }} as industry,
        {{ clean_text(column_or_null(columns, 'number_of_employees')) }} as employees_raw,
        {{ parse_employee_count(column_or_null(columns, 'number_of_employees')) }} as count_employees,
        {{ size_band(column_or_null(columns, 'number_of_employees')) }} as size_band,
        {{ parse_number(column_or_null(columns, 'annual_revenue')) }} as annual_revenue,
        {{ clean_text(column_or_null(columns, 'city')) }} as city,
        {{ clean_text(column_or_null(columns, 'country_region')) }} as country,

        ---------- lineage
        cast({{ column_or_null(columns, '_source_file') }} as text) as source_file,
        cast({{ column_or_null(columns, '_source_line', 'bigint') }} as bigint) as source_line,

        ---------- timestamps
        {{ parse_timestamp(column_or_null(columns, 'create_date')) }} as created_at

    from source

)

select * from renamed
