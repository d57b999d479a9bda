{%- set relation = load_relation(source('crm', 'salesforce_opportunities')) -%}
{%- set columns = source_columns(relation) if relation is not none else [] -%}
{#- the export columns mapped below (SPEC-seed §4.7); every other one lands in custom_fields -#}
{%- set mapped = ['opportunity_id', 'opportunity_name', 'stage', 'amount', 'close_date', 'account_name',
    'account_id', 'description', 'created_date'] -%}
{%- set dropped = mapped + ['_source_file', '_source_line', '_encoding', '_has_formula', '_dlt_load_id', '_dlt_id'] -%}
{%- set custom_fields -%}
    nullif(jsonb_strip_nulls(to_jsonb(source) - array[{% for c in dropped %}'{{ c }}'{{ ', ' if not loop.last }}{% endfor %}]::text[]), '{}')
{%- endset -%}

with

source as (

    {% if relation is not none -%}
    select * from {{ relation }}
    {%- else -%}
    select where false  -- no Salesforce opportunities export loaded yet
    {%- endif %}

),

renamed as (

    select
        ---------- ids
        {{ clean_id(column_or_null(columns, 'opportunity_id')) }} as salesforce_opportunity_id,
        {{ clean_id(column_or_null(columns, 'account_id')) }} as salesforce_account_id,

        ---------- opportunity
        {{ clean_text(column_or_null(columns, 'opportunity_name')) }} as opportunity_name,
        {{ clean_text(column_or_null(columns, 'account_name')) }} as account_name,
        {{ clean_text(column_or_null(columns, 'description')) }} as description,

        ---------- stage: the export's label, and its key (letters and digits
        -- only, lower-cased: labels and internal ids meet; int_crm__deal_stages maps it)
        {{ clean_text(column_or_null(columns, 'stage')) }} as opportunity_stage,
        regexp_replace(lower(cast({{ column_or_null(columns, 'stage') }} as text)), '[^a-z0-9]', '', 'g')
            as opportunity_stage_key,

        ---------- amount
        cast({{ column_or_null(columns, 'amount') }} as text) as amount_raw,
        {{ parse_number(column_or_null(columns, 'amount')) }} as amount,

        ---------- the export's other columns, and row flags
        {{ custom_fields }} as custom_fields,
        {{ crm_row_flags_and_lineage(columns) }},

        ---------- dates
        {{ parse_date(column_or_null(columns, 'close_date')) }} as close_date,
        {{ parse_timestamp(column_or_null(columns, 'created_date')) }} as created_at

    from source

)

select * from renamed
