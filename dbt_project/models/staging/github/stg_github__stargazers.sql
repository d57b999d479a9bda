with

source as (

    select * from {{ source('github', 'stargazers') }}

),

renamed as (

    select
        ---------- ids
        {{ surrogate_key(['repo', 'lower(trim(user_login))']) }} as star_id,
        cast(repo as text) as repo_full_name,
        lower(trim(cast(user_login as text))) as github_login,

        ---------- timestamps
        {{ parse_timestamp('starred_at') }} as starred_at

    from source

)

select * from renamed
