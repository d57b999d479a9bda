{%- set columns = source_columns(source('crm', 'salesforce_accounts')) -%}

with

source as (

    select * from {{ source('crm', 'salesforce_accounts') }}

),

renamed as (

    select
        ---------- ids
        {{ clean_id('account_id') }} as salesforce_account_id,

        ---------- company
        {{ clean_text(column_or_null(columns, 'account_name')) }} as account_name,
        {{ website_domain(column_or_null(columns, 'website')) }} as domain,
        {{ clean_text(column_or_null(columns, 'industry')) }} as industry,
        {{ clean_text(column_or_null(columns, 'employees')) }} as employees_raw,
        {{ parse_employee_count(column_or_null(columns, 'employees')) }} as count_employees,
        {{ size_band(column_or_null(columns, 'employees')) }} as size_band,
        {{ clean_text(column_or_null(columns, 'billing_city')) }} as city,
        {{ clean_text(column_or_null(columns, 'billing_country')) }} as country,

        ---------- lineage
        cast({{ column_or_null(columns, '_source_file') }} as text) as source_file,
        cast({{ column_or_null(columns, '_source_line', 'bigint') }} as bigint) as source_line,

        ---------- timestamps
        {{ parse_timestamp(column_or_null(columns, 'created_date')) }} as created_at

    from source

)

select * from renamed
