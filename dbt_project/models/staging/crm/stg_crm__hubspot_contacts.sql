{%- set columns = source_columns(source('crm', 'hubspot_contacts')) -%}

with

source as (

    select * from {{ source('crm', 'hubspot_contacts') }}

),

renamed as (

    select
        ---------- ids
        {{ clean_id('record_id') }} as hubspot_contact_id,
        {{ clean_id("split_part(translate(cast(" ~ column_or_null(columns, 'associated_company_ids') ~ " as text), ',', ';'), ';', 1)") }}
            as hubspot_company_id,

        ---------- person
        {{ clean_text(column_or_null(columns, 'first_name')) }} as first_name,
        {{ clean_text(column_or_null(columns, 'last_name')) }} as last_name,
        {{ normalize_email(column_or_null(columns, 'email')) }} as email,
        {{ email_domain(column_or_null(columns, 'email')) }} as email_domain,
        {{ clean_text(column_or_null(columns, 'phone_number')) }} as phone_number,
        {{ clean_text(column_or_null(columns, 'job_title')) }} as title,
        {{ clean_text(column_or_null(columns, 'company_name')) }} as company_name,
        lower({{ clean_text(column_or_null(columns, 'lifecycle_stage')) }}) as lifecycle_stage,
        cast({{ column_or_null(columns, 'associated_company_ids') }} as text) as associated_company_ids,

        ---------- lineage
        cast({{ column_or_null(columns, '_source_file') }} as text) as source_file,
        cast({{ column_or_null(columns, '_source_line', 'bigint') }} as bigint) as source_line,

        ---------- timestamps
        {{ parse_timestamp(column_or_null(columns, 'create_date')) }} as created_at

    from source

)

select * from renamed
