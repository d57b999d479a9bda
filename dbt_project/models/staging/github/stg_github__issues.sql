{%- set columns = source_columns(source('github', 'issues')) -%}

with

source as (

    select * from {{ source('github', 'issues') }}

),

renamed as (

    select
        ---------- ids
        cast(id as bigint) as github_issue_id,
        cast(repo as text) as repo_full_name,
        cast({{ column_or_null(columns, 'number', 'bigint') }} as bigint) as issue_number,
        lower(trim(cast(user_login as text))) as github_login,

        ---------- attributes
        cast({{ column_or_null(columns, 'title') }} as text) as issue_title,
        lower(cast({{ column_or_null(columns, 'state') }} as text)) as issue_state,

        ---------- timestamps
        {{ parse_timestamp('created_at') }} as created_at,
        {{ parse_timestamp(column_or_null(columns, 'updated_at')) }} as updated_at,
        {{ parse_timestamp(column_or_null(columns, 'closed_at')) }} as closed_at

    from source

)

select * from renamed
