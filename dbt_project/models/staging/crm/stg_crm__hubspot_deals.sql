{%- set relation = load_relation(source('crm', 'hubspot_deals')) -%}
{%- set columns = source_columns(relation) if relation is not none else [] -%}
{#- the export columns mapped below (SPEC-seed §4.7); every other one lands in custom_fields -#}
{%- set mapped = ['record_id', 'deal_name', 'deal_stage', 'amount', 'close_date', 'pipeline',
    'associated_company_ids', 'associated_company', 'deal_description', 'description', 'create_date'] -%}
{%- set dropped = mapped + ['_source_file', '_source_line', '_encoding', '_has_formula', '_dlt_load_id', '_dlt_id'] -%}
{%- set custom_fields -%}
    nullif(jsonb_strip_nulls(to_jsonb(source) - array[{% for c in dropped %}'{{ c }}'{{ ', ' if not loop.last }}{% endfor %}]::text[]), '{}')
{%- endset -%}

with

source as (

    {% if relation is not none -%}
    select * from {{ relation }}
    {%- else -%}
    select where false  -- no HubSpot deals export loaded yet
    {%- endif %}

),

renamed as (

    select
        ---------- ids
        {{ clean_id(column_or_null(columns, 'record_id')) }} as hubspot_deal_id,
        {{ clean_id("split_part(translate(cast(" ~ column_or_null(columns, 'associated_company_ids') ~ " as text), ',', ';'), ';', 1)") }}
            as hubspot_company_id,

        ---------- deal
        {{ clean_text(column_or_null(columns, 'deal_name')) }} as deal_name,
        {{ clean_text(column_or_null(columns, 'associated_company')) }} as company_name,
        {{ clean_text(column_or_null(columns, 'pipeline')) }} as pipeline,
        coalesce({{ clean_text(column_or_null(columns, 'deal_description')) }},
                 {{ clean_text(column_or_null(columns, 'description')) }}) as description,

        ---------- stage: the export's label or internal id, and its key (letters and digits
        -- only, lower-cased: labels and internal ids meet; int_crm__deal_stages maps it)
        {{ clean_text(column_or_null(columns, 'deal_stage')) }} as deal_stage,
        regexp_replace(lower(cast({{ column_or_null(columns, 'deal_stage') }} as text)), '[^a-z0-9]', '', 'g')
            as deal_stage_key,

        ---------- amount
        cast({{ column_or_null(columns, 'amount') }} as text) as amount_raw,
        {{ parse_number(column_or_null(columns, 'amount')) }} as amount,

        ---------- the export's other columns, and row flags
        {{ custom_fields }} as custom_fields,
        {{ crm_row_flags_and_lineage(columns) }},

        ---------- dates
        {{ parse_date(column_or_null(columns, 'close_date')) }} as close_date,
        {{ parse_timestamp(column_or_null(columns, 'create_date')) }} as created_at

    from source

)

select * from renamed
