{%- set columns = source_columns(source('segment', 'identifies')) -%}

with

source as (

    select * from {{ source('segment', 'identifies') }}

),

renamed as (

    select
        ---------- ids
        cast(message_id as text) as segment_message_id,
        {{ clean_text(column_or_null(columns, 'user_id')) }} as segment_user_id,
        {{ clean_text(column_or_null(columns, 'anonymous_id')) }} as segment_anonymous_id,

        ---------- traits
        {{ normalize_email(column_or_null(columns, 'traits__email')) }} as email,
        {{ email_domain(column_or_null(columns, 'traits__email')) }} as email_domain,
        {{ clean_text(column_or_null(columns, 'traits__name')) }} as full_name,
        {{ clean_text(column_or_null(columns, 'traits__title')) }} as title,
        {{ clean_text(column_or_null(columns, 'traits__company')) }} as company_name,

        ---------- context
        {{ clean_text(column_or_null(columns, 'context__user_agent')) }} as user_agent,

        ---------- timestamps
        {{ parse_timestamp('"timestamp"') }} as identified_at

    from source

)

select * from renamed
