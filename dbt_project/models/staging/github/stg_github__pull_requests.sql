{%- set columns = source_columns(source('github', 'pull_requests')) -%}

with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

renamed as (

    select
        ---------- ids
        cast(id as bigint) as github_pull_request_id,
        cast(repo as text) as repo_full_name,
        cast({{ column_or_null(columns, 'number', 'bigint') }} as bigint) as pull_request_number,
        lower(trim(cast(user_login as text))) as github_login,

        ---------- attributes
        lower(cast({{ column_or_null(columns, 'state') }} as text)) as pull_request_state,
        {{ parse_timestamp(column_or_null(columns, 'merged_at')) }} is not null as is_merged,

        ---------- timestamps
        {{ parse_timestamp('created_at') }} as created_at,
        {{ parse_timestamp(column_or_null(columns, 'updated_at')) }} as updated_at,
        {{ parse_timestamp(column_or_null(columns, 'closed_at')) }} as closed_at,
        {{ parse_timestamp(column_or_null(columns, 'merged_at')) }} as merged_at

    from source

)

select * from renamed
