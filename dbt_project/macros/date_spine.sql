{#- One row per day, `date_day`, from start to end inclusive (both SQL date expressions). -#}
{% macro date_spine(start_date, end_date) -%}
    select cast(day as date) as date_day
    from generate_series(cast({{ start_date }} as date), cast({{ end_date }} as date), interval '1 day') as day
{%- endmacro %}

{#- The last day scored, as a SQL date: var `score_as_of` (YYYY-MM-DD), else today in UTC. -#}
{% macro score_as_of() -%}
    {%- set value = var('score_as_of', '') -%}
    {%- if value -%}
        cast('{{ value }}' as date)
    {%- else -%}
        cast(now() at time zone 'UTC' as date)
    {%- endif -%}
{%- endmacro %}
