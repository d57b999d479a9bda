{#- dlt creates a column only once it has seen a non-null value, so an optional column (a Segment
    trait nobody sent, an empty CRM export column) can be missing from a raw table. Staging asks the
    database which columns exist and selects null for the missing ones, instead of failing. -#}
{% macro source_columns(relation) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do names.append(column.name | lower) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{#- `name` if the raw table has it, else a typed null. -#}
{% macro column_or_null(columns, name, data_type='text') -%}
    {%- if name | lower in columns -%}{{ adapter.quote(name) }}{%- else -%}cast(null as {{ data_type }}){%- endif -%}
{%- endmacro %}


{#- The columns the CRM loader adds to every row (formula flag, encoding, file and line), the same
    in every CRM staging model: has_formula, source_encoding, source_file, source_line. -#}
{% macro crm_row_flags_and_lineage(columns) -%}
    coalesce(cast({{ column_or_null(columns, '_has_formula', 'boolean') }} as boolean), false) as has_formula,
        cast({{ column_or_null(columns, '_encoding') }} as text) as source_encoding,
        cast({{ column_or_null(columns, '_source_file') }} as text) as source_file,
        cast({{ column_or_null(columns, '_source_line', 'bigint') }} as bigint) as source_line
{%- endmacro %}
