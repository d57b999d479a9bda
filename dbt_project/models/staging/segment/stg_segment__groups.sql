{%- set columns = source_columns(source('segment', 'groups')) -%}

with

source as (

    select * from {{ source('segment', 'groups') }}

),

renamed as (

    select
        ---------- ids
        cast(message_id as text) as segment_message_id,
        {{ clean_text(column_or_null(columns, 'user_id')) }} as segment_user_id,
        {{ clean_text(column_or_null(columns, 'anonymous_id')) }} as segment_anonymous_id,
        {{ clean_text(column_or_null(columns, 'group_id')) }} as segment_group_id,

        ---------- traits
        {{ clean_text(column_or_null(columns, 'traits__name')) }} as group_name,
        {{ website_domain(column_or_null(columns, 'traits__website')) }} as website_domain,
        {{ clean_text(column_or_null(columns, 'traits__industry')) }} as industry,
        {{ clean_text(column_or_null(columns, 'traits__employees')) }} as employees_raw,
        {{ parse_employee_count(column_or_null(columns, 'traits__employees')) }} as count_employees,
        {{ size_band(column_or_null(columns, 'traits__employees')) }} as size_band,

        ---------- context
        {{ clean_text(column_or_null(columns, 'context__user_agent')) }} as user_agent,

        ---------- timestamps
        {{ parse_timestamp('"timestamp"') }} as grouped_at

    from source

)

select * from renamed
