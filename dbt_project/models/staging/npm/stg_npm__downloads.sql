with

source as (

    select * from {{ source('npm', 'downloads') }}

),

renamed as (

    select
        ---------- ids
        {{ surrogate_key(['package', 'day']) }} as package_download_day_id,
        cast(package as text) as package_name,

        ---------- dates
        {{ parse_date('day') }} as download_day,

        ---------- numerics
        cast({{ parse_number('downloads') }} as bigint) as count_downloads

    from source

)

select * from renamed
