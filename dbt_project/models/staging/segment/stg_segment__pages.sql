{%- set columns = source_columns(source('segment', 'pages')) -%}

with

source as (

    select * from {{ source('segment', 'pages') }}

),

renamed as (

    select
        ---------- ids
        cast(message_id as text) as segment_message_id,
        {{ clean_text(column_or_null(columns, 'user_id')) }} as segment_user_id,
        {{ clean_text(column_or_null(columns, 'anonymous_id')) }} as segment_anonymous_id,

        ---------- page
        {{ clean_text(column_or_null(columns, 'name')) }} as page_name,
        {{ clean_text(column_or_null(columns, 'properties__path')) }} as page_path,

        ---------- context
        {{ clean_text(column_or_null(columns, 'context__user_agent')) }} as user_agent,

        ---------- timestamps
        {{ parse_timestamp('"timestamp"') }} as viewed_at

    from source

)

select * from renamed
