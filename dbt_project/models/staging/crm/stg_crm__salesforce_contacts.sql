{%- set columns = source_columns(source('crm', 'salesforce_contacts')) -%}

with

source as (

    select * from {{ source('crm', 'salesforce_contacts') }}

),

renamed as (

    select
        ---------- ids
        {{ clean_id('contact_id') }} as salesforce_contact_id,
        {{ clean_id(column_or_null(columns, 'account_id')) }} as salesforce_account_id,

        ---------- person
        {{ clean_text(column_or_null(columns, 'first_name')) }} as first_name,
        {{ clean_text(column_or_null(columns, 'last_name')) }} as last_name,
        {{ normalize_email(column_or_null(columns, 'email')) }} as email,
        {{ email_domain(column_or_null(columns, 'email')) }} as email_domain,
        {{ clean_text(column_or_null(columns, 'title')) }} as title,
        {{ clean_text(column_or_null(columns, 'account_name')) }} as account_name,
        {{ clean_text(column_or_null(columns, 'lead_source')) }} as lead_source,
        {{ clean_text(column_or_null(columns, 'mailing_city')) }} as city,
        {{ clean_text(column_or_null(columns, 'mailing_country')) }} as country,

        ---------- lineage
        cast({{ column_or_null(columns, '_source_file') }} as text) as source_file,
        cast({{ column_or_null(columns, '_source_line', 'bigint') }} as bigint) as source_line,

        ---------- timestamps
        {{ parse_timestamp(column_or_null(columns, 'created_date')) }} as created_at

    from source

)

select * from renamed
