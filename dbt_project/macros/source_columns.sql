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
