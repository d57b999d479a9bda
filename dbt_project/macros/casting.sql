{#- Casts for raw values whose type depends on what dlt inferred (text from CSVs, timestamptz
    from JSON). Every cast goes through text and is guarded, so a bad value becomes null instead of
    failing the build. -#}

{#- ISO-8601 with or without offset (no offset = UTC), a bare date, or a US `M/D/YYYY[ H:MM[:SS]]`. -#}
{% macro parse_timestamp(expr) -%}
    (case
        when {{ _trimmed(expr) }} ~ '^\d{4}-\d{2}-\d{2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)$'
            then cast({{ _trimmed(expr) }} as timestamptz)
        when {{ _trimmed(expr) }} ~ '^\d{4}-\d{2}-\d{2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?$'
            then cast({{ _trimmed(expr) }} as timestamp) at time zone 'UTC'
        when {{ _trimmed(expr) }} ~ '^\d{1,2}/\d{1,2}/\d{4}( \d{1,2}:\d{2}(:\d{2})?)?$'
            then to_timestamp({{ _trimmed(expr) }}, 'MM/DD/YYYY HH24:MI:SS')::timestamp at time zone 'UTC'
    end)
{%- endmacro %}

{% macro parse_date(expr) -%}
    cast({{ parse_timestamp(expr) }} at time zone 'UTC' as date)
{%- endmacro %}

{#- `$1,234.50` -> 1234.50; anything without a number -> null. -#}
{% macro parse_number(expr) -%}
    (case
        when regexp_replace({{ _trimmed(expr) }}, '[^0-9.-]', '', 'g') ~ '^-?\d+(\.\d+)?$'
        then cast(regexp_replace({{ _trimmed(expr) }}, '[^0-9.-]', '', 'g') as numeric)
    end)
{%- endmacro %}

{#- Trimmed text or null. -#}
{% macro clean_text(expr) -%}
    nullif({{ trim_ws('cast(' ~ expr ~ ' as text)') }}, '')
{%- endmacro %}

{% macro _trimmed(expr) -%}
    nullif({{ trim_ws('cast(' ~ expr ~ ' as text)') }}, '')
{%- endmacro %}

{#- A source-system id as text: trimmed, and `123.0` (an integer id that went through a float) -> `123`. -#}
{% macro clean_id(expr) -%}
    regexp_replace(nullif({{ trim_ws('cast(' ~ expr ~ ' as text)') }}, ''), '^(\d+)\.0+$', '\1')
{%- endmacro %}

{#- trim() that also strips tabs, newlines, no-break and zero-width spaces (CSV exports carry them). -#}
{% macro trim_ws(expr) -%}
    btrim({{ expr }}, E' \t\r\n\u000b\u000c\u00a0\u200b\ufeff')
{%- endmacro %}
