{#- Email and domain normalisation. Every email and domain in the project goes through these. -#}

{#- lower(trim(email)); strips a `mailto:` prefix; anything that is not one plausible address -> null. -#}
{% macro normalize_email(expr) -%}
    (case
        when regexp_replace(lower({{ trim_ws('cast(' ~ expr ~ ' as text)') }}), '^mailto:', '')
             ~ '^[^@\s<>(),;:"]+@[^@\s<>(),;:"]+\.[a-z0-9-]{2,}\.?$'
        then rtrim(regexp_replace(lower({{ trim_ws('cast(' ~ expr ~ ' as text)') }}), '^mailto:', ''), '.')
    end)
{%- endmacro %}

{#- The domain of an email (after the last `@`), lower-cased, without a trailing dot; null if no valid email. -#}
{% macro email_domain(expr) -%}
    nullif(split_part({{ normalize_email(expr) }}, '@', 2), '')
{%- endmacro %}

{#- The host of a website value: `https://www.Acme.io:443/about?x` -> `acme.io`; `Acme.io` -> `acme.io`.
    Values without a dot (`n/a`, `none`) -> null. -#}
{% macro website_domain(expr) -%}
    (case
        when {{ _website_host(expr) }} ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}$'
        then {{ _website_host(expr) }}
    end)
{%- endmacro %}

{% macro _website_host(expr) -%}
    rtrim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        lower({{ trim_ws('cast(' ~ expr ~ ' as text)') }}),
        '^[a-z][a-z0-9+.-]*://', ''),   -- scheme
        '^[^/@]*@', ''),                -- user:password@
        '[/?#:].*$', ''),               -- port, path, query, fragment
        '^www[0-9]*\.', ''), '.')
{%- endmacro %}

{#- md5 over the key columns, the dbt_utils way (nulls and separators cannot collide). -#}
{% macro surrogate_key(columns) -%}
    {%- if columns is string -%}{%- set columns = [columns] -%}{%- endif -%}
    md5(
        {%- for column in columns %}
        coalesce(cast({{ column }} as text), '_dbt_utils_surrogate_key_null_'){{ " || '-' ||" if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{#- The vendor's own email domains (a list): var `internal_domains` (a list or a comma-separated
    string), else the DEVSIGNAL_INTERNAL_DOMAINS env var, else none. -#}
{% macro internal_domains() -%}
    {%- set value = var('internal_domains', []) -%}
    {%- if value is string -%}{%- set value = value.split(',') -%}{%- endif -%}
    {%- if not value -%}{%- set value = env_var('DEVSIGNAL_INTERNAL_DOMAINS', '').split(',') -%}{%- endif -%}
    {%- set domains = [] -%}
    {%- for item in value if item and item | trim -%}
        {%- do domains.append(item | trim | lower) -%}
    {%- endfor -%}
    {{ return(domains) }}
{%- endmacro %}

{#- A SQL boolean: is this (already normalised) domain one of the vendor's own? -#}
{% macro is_internal_domain(domain_expr) -%}
    {%- set domains = internal_domains() -%}
    {%- if domains -%}
    ({{ domain_expr }} in ({% for d in domains %}'{{ d | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor %}))
    {%- else -%}
    false
    {%- endif -%}
{%- endmacro %}

{#- Why a (normalised) domain can never be an account, or null when it can: a personal mailbox
    (seed personal_email_domains), the vendor's own (internal_domains), or a reserved test domain
    (RFC 2606/6761: example.com/.net/.org, *.test, *.example, *.invalid, *.localhost). -#}
{% macro domain_exclusion_reason(domain_expr) -%}
    (case
        when {{ domain_expr }} is null then null
        when {{ domain_expr }} in (select lower(domain) from {{ ref('personal_email_domains') }}) then 'personal_email_domain'
        when {{ is_internal_domain(domain_expr) }} then 'internal_domain'
        when {{ domain_expr }} in ('example.com', 'example.net', 'example.org')
            or {{ domain_expr }} ~ '\.(test|example|invalid|localhost)$' then 'reserved_domain'
    end)
{%- endmacro %}
