{%- set columns = source_columns(source('github', 'forks')) -%}

with

source as (

    select * from {{ source('github', 'forks') }}

),

renamed as (

    select
        ---------- ids
        cast(id as bigint) as github_fork_id,
        cast(repo as text) as repo_full_name,
        cast({{ column_or_null(columns, 'full_name') }} as text) as fork_full_name,
        lower(trim(cast(owner_login as text))) as github_login,

        ---------- timestamps
        {{ parse_timestamp('created_at') }} as created_at

    from source

)

select * from renamed
