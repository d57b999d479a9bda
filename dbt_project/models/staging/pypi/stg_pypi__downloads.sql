with

source as (

    select * from {{ source('pypi', 'downloads') }}

),

renamed as (

    select
        ---------- ids
        {{ surrogate_key(['package', 'day', 'kind', 'category']) }} as package_download_id,
        cast(package as text) as package_name,

        ---------- attributes
        cast(kind as text) as breakdown_kind,
        coalesce(cast(category as text), 'null') as breakdown_category,

        ---------- dates
        {{ parse_date('day') }} as download_day,

        ---------- numerics
        cast({{ parse_number('downloads') }} as bigint) as count_downloads

    from source

)

select * from renamed
