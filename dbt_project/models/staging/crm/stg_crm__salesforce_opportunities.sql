{%- set columns = source_columns(source('crm', 'salesforce_opportunities')) -%}

with

source as (

    select * from {{ source('crm', 'salesforce_opportunities') }}

),

renamed as (

    select
        ---------- ids
        {{ clean_id('opportunity_id') }} as salesforce_opportunity_id,
        {{ clean_id(column_or_null(columns, 'account_id')) }} as salesforce_account_id,

        ---------- opportunity
        {{ clean_text(column_or_null(columns, 'opportunity_name')) }} as opportunity_name,
        {{ clean_text(column_or_null(columns, 'stage')) }} as opportunity_stage,
        {{ parse_number(column_or_null(columns, 'amount')) }} as amount,
        {{ clean_text(column_or_null(columns, 'account_name')) }} as account_name,

        ---------- lineage
        cast({{ column_or_null(columns, '_source_file') }} as text) as source_file,
        cast({{ column_or_null(columns, '_source_line', 'bigint') }} as bigint) as source_line,

        ---------- dates
        {{ parse_date(column_or_null(columns, 'close_date')) }} as close_date,
        {{ parse_timestamp(column_or_null(columns, 'created_date')) }} as created_at

    from source

)

select * from renamed
