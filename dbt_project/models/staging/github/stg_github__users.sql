{%- set columns = source_columns(source('github', 'users')) -%}

with

source as (

    select * from {{ source('github', 'users') }}

),

renamed as (

    select
        ---------- ids
        lower(trim(cast(login as text))) as github_login,
        cast({{ column_or_null(columns, 'id', 'bigint') }} as bigint) as github_user_id,

        ---------- attributes
        cast({{ column_or_null(columns, 'type') }} as text) as account_type,
        coalesce(cast({{ column_or_null(columns, 'type') }} as text) = 'Bot', false)
            or lower(cast(login as text)) like '%[bot]' as is_bot,
        {{ clean_text(column_or_null(columns, 'name')) }} as full_name,
        {{ clean_text(column_or_null(columns, 'company')) }} as company,
        {{ normalize_email(column_or_null(columns, 'email')) }} as email,
        {{ email_domain(column_or_null(columns, 'email')) }} as email_domain,
        {{ website_domain(column_or_null(columns, 'blog')) }} as blog_domain,
        {{ clean_text(column_or_null(columns, 'location')) }} as location,

        ---------- timestamps
        {{ parse_timestamp(column_or_null(columns, 'created_at')) }} as created_at

    from source

)

select * from renamed
