{%- set relation = load_relation(source('crm', 'salesforce_accounts')) -%}
{%- set columns = source_columns(relation) if relation is not none else [] -%}
{#- the export columns mapped below (SPEC-seed §4.7); every other one lands in custom_fields -#}
{%- set mapped = ['account_id', 'account_name', 'website', 'industry', 'employees', 'number_of_employees',
    'annual_revenue', 'billing_street', 'billing_city', 'billing_state', 'billing_country', 'phone',
    'description', 'linkedin', 'twitter', 'created_date'] -%}
{%- set dropped = mapped + ['_source_file', '_source_line', '_encoding', '_has_formula', '_dlt_load_id', '_dlt_id'] -%}
{%- set custom_fields -%}
    nullif(jsonb_strip_nulls(to_jsonb(source) - array[{% for c in dropped %}'{{ c }}'{{ ', ' if not loop.last }}{% endfor %}]::text[]), '{}')
{%- endset -%}
{%- set employees = 'coalesce(' ~ column_or_null(columns, 'employees') ~ ', ' ~ column_or_null(columns, 'number_of_employees') ~ ')' -%}

with

source as (

    {% if relation is not none -%}
    select * from {{ relation }}
    {%- else -%}
    select where false  -- no Salesforce accounts export loaded yet
    {%- endif %}

),

renamed as (

    select
        ---------- ids
        {{ clean_id(column_or_null(columns, 'account_id')) }} as salesforce_account_id,

        ---------- company
        {{ clean_text(column_or_null(columns, 'account_name')) }} as account_name,
        {{ website_domain(column_or_null(columns, 'website')) }} as domain,
        {{ clean_text(column_or_null(columns, 'website')) }} as website,
        {{ clean_text(column_or_null(columns, 'industry')) }} as industry,
        {{ clean_text(column_or_null(columns, 'description')) }} as description,
        {{ parse_number(column_or_null(columns, 'annual_revenue')) }} as annual_revenue,

        ---------- size: "2-10" is 2..10 employees (STARTUP), "51-100" 51..100 (MEDIUM), never 210 or 51100
        {{ clean_text(employees) }} as employees_raw,
        {{ employees_min(employees) }} as employees_min,
        {{ employees_max(employees) }} as employees_max,
        {{ parse_employee_count(employees) }} as count_employees,
        {{ size_band(employees) }} as size_band,

        ---------- contact points and billing address
        {{ clean_text(column_or_null(columns, 'phone')) }} as phone_number,
        {{ clean_text(column_or_null(columns, 'linkedin')) }} as linkedin,
        {{ clean_text(column_or_null(columns, 'twitter')) }} as twitter,
        {{ clean_text(column_or_null(columns, 'billing_street')) }} as street_address,
        {{ clean_text(column_or_null(columns, 'billing_city')) }} as city,
        {{ clean_text(column_or_null(columns, 'billing_state')) }} as state,
        {{ clean_text(column_or_null(columns, 'billing_country')) }} as country,

        ---------- the export's other columns, and row flags
        {{ custom_fields }} as custom_fields,
        {{ crm_row_flags_and_lineage(columns) }},

        ---------- timestamps
        {{ parse_timestamp(column_or_null(columns, 'created_date')) }} as created_at

    from source

)

select * from renamed
