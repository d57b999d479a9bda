{%- set columns = source_columns(source('crm', 'hubspot_deals')) -%}

with

source as (

    select * from {{ source('crm', 'hubspot_deals') }}

),

renamed as (

    select
        ---------- ids
        {{ clean_id('record_id') }} as hubspot_deal_id,
        {{ clean_id("split_part(translate(cast(" ~ column_or_null(columns, 'associated_company_ids') ~ " as text), ',', ';'), ';', 1)") }}
            as hubspot_company_id,

        ---------- deal
        {{ clean_text(column_or_null(columns, 'deal_name')) }} as deal_name,
        {{ clean_text(column_or_null(columns, 'deal_stage')) }} as deal_stage,
        {{ clean_text(column_or_null(columns, 'pipeline')) }} as pipeline,
        {{ parse_number(column_or_null(columns, 'amount')) }} as amount,

        ---------- lineage
        cast({{ column_or_null(columns, '_source_file') }} as text) as source_file,
        cast({{ column_or_null(columns, '_source_line', 'bigint') }} as bigint) as source_line,

        ---------- dates
        {{ parse_date(column_or_null(columns, 'close_date')) }} as close_date,
        {{ parse_timestamp(column_or_null(columns, 'create_date')) }} as created_at

    from source

)

select * from renamed
