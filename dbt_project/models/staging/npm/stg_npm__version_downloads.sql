with

source as (

    select * from {{ source('npm', 'version_downloads') }}

),

renamed as (

    select
        ---------- ids
        {{ surrogate_key(['package', 'version', 'day']) }} as package_version_download_id,
        cast(package as text) as package_name,
        cast(version as text) as package_version,

        ---------- dates
        {{ parse_date('day') }} as week_end_day,

        ---------- numerics
        cast({{ parse_number('downloads') }} as bigint) as count_downloads

    from source

)

select * from renamed
