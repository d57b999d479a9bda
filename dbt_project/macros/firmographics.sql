{#- Company size. Employee counts arrive as numbers (`250`, `1,200`, `250.0`), ranges (`51-200`,
    `1,001–5,000`, `11 to 50`), open ranges (`1000+`, `10k+`, `>500`) or labels (`Small`).
    A closed range counts as its upper bound: the usual export bands (1-10, 11-50, 51-200, 201-500,
    501-1000, 1001-5000, ...) then fall wholly into one band. `N+` / `>N` counts as N+1.
    (The seed read `2-10` as 210 and `51-100` as 51100: SPEC-seed §4.6, §12.11.) -#}
{% macro parse_employee_count(expr) -%}
    {%- set t -%}
    regexp_replace(regexp_replace(regexp_replace(lower({{ trim_ws('cast(' ~ expr ~ ' as text)') }}),
        '(employees|employee|people|staff|emps?)', '', 'g'),
        '[\s,]', '', 'g'),
        '(\d+(\.\d+)?)k', '\1000', 'g')
    {%- endset -%}
    (case
        when {{ t }} ~ '^\d+(\.0+)?$' then cast({{ t }} as numeric)
        when {{ t }} ~ '^\d+(-|–|—|to)\d+$' then cast(substring({{ t }} from '(\d+)$') as numeric)
        when {{ t }} ~ '^\d+\+$' then cast(substring({{ t }} from '^(\d+)') as numeric) + 1
        when {{ t }} ~ '^(>|over|morethan)\d+$' then cast(substring({{ t }} from '(\d+)$') as numeric) + 1
        when {{ t }} ~ '^(<|under|lessthan|upto|<=)\d+$' then cast(substring({{ t }} from '(\d+)$') as numeric)
    end)
{%- endmacro %}

{#- STARTUP <= 10, SMALL <= 50, MEDIUM <= 500, LARGE <= 1000, ENTERPRISE > 1000; a label names its band. -#}
{% macro size_band(expr) -%}
    (case
        when {{ parse_employee_count(expr) }} is not null then
            case
                when {{ parse_employee_count(expr) }} <= 10 then 'STARTUP'
                when {{ parse_employee_count(expr) }} <= 50 then 'SMALL'
                when {{ parse_employee_count(expr) }} <= 500 then 'MEDIUM'
                when {{ parse_employee_count(expr) }} <= 1000 then 'LARGE'
                else 'ENTERPRISE'
            end
        when lower(cast({{ expr }} as text)) like '%startup%' then 'STARTUP'
        when lower(cast({{ expr }} as text)) like '%small%' then 'SMALL'
        when lower(cast({{ expr }} as text)) like '%medium%' or lower(cast({{ expr }} as text)) like '%mid%market%' then 'MEDIUM'
        when lower(cast({{ expr }} as text)) like '%enterprise%' then 'ENTERPRISE'
        when lower(cast({{ expr }} as text)) like '%large%' then 'LARGE'
    end)
{%- endmacro %}

{#- PQA v1 seniority (SPEC-seed §3.3 factor 5), faithful to the seed: a *substring* test on the
    lower-cased title, so "Headless engineer" (head) and "Director" (cto) count. v2 fixes this. -#}
{% macro is_senior_title_v1(expr) -%}
    coalesce(lower(cast({{ expr }} as text)) ~ '(vp|director|head|cto|ceo|founder|chief|president)', false)
{%- endmacro %}


{#- Employee counts as exports write them ("51-200", "1,000+", "5k", "under 10", "250 employees"):
    lower-cased, the words, spaces and commas dropped, "5k" -> 5000; a range is read by its bounds. -#}
{% macro employees_normalized(employees) -%}
    regexp_replace(regexp_replace(regexp_replace(lower({{ trim_ws('cast(' ~ employees ~ ' as text)') }}),
        '(employees|employee|people|staff|emps?)', '', 'g'), '[\s,]', '', 'g'), '(\d+(\.\d+)?)k', '\1000', 'g')
{%- endmacro %}

{% macro employees_min(employees) -%}
    {%- set n = employees_normalized(employees) -%}
    (case
        when {{ n }} ~ '^\d+(\.0+)?$' then cast({{ n }} as numeric)
        when {{ n }} ~ '^\d+(-|–|—|to)\d+$'
            then least(cast(substring({{ n }} from '^(\d+)') as numeric), cast(substring({{ n }} from '(\d+)$') as numeric))
        when {{ n }} ~ '^\d+\+$' then cast(substring({{ n }} from '^(\d+)') as numeric)
        when {{ n }} ~ '^(>|over|morethan)\d+$' then cast(substring({{ n }} from '(\d+)$') as numeric) + 1
    end)
{%- endmacro %}

{% macro employees_max(employees) -%}
    {%- set n = employees_normalized(employees) -%}
    (case
        when {{ n }} ~ '^\d+(\.0+)?$' then cast({{ n }} as numeric)
        when {{ n }} ~ '^\d+(-|–|—|to)\d+$'
            then greatest(cast(substring({{ n }} from '^(\d+)') as numeric), cast(substring({{ n }} from '(\d+)$') as numeric))
        when {{ n }} ~ '^(<|under|lessthan|upto|<=)\d+$' then cast(substring({{ n }} from '(\d+)$') as numeric)
    end)
{%- endmacro %}
