{#- Identity resolution helpers (intermediate/identity). Every identifier, company name and GitHub
    `company` field is normalised through these, and the unit tests in
    models/intermediate/identity/_identity__models.yml pin their behaviour. -#}

{#- An identifier's value, normalised for its type (null when nothing usable is left):
    email         normalize_email (lower(trim), `mailto:` stripped, one plausible address)
    github_login  lower(trim): GitHub logins are case-insensitive
    segment_user_id       trimmed, case kept (userIds are opaque and case-sensitive)
    segment_anonymous_id  trimmed and lower-cased (browser libraries send UUIDs)
    hubspot_contact_id / salesforce_contact_id  clean_id (`123.0` -> `123`) -#}
{% macro normalize_identifier(identifier_type, expr) -%}
    {%- if identifier_type == 'email' -%}
        {{ normalize_email(expr) }}
    {%- elif identifier_type == 'github_login' -%}
        nullif(lower({{ trim_ws('cast(' ~ expr ~ ' as text)') }}), '')
    {%- elif identifier_type == 'segment_user_id' -%}
        {{ clean_text(expr) }}
    {%- elif identifier_type == 'segment_anonymous_id' -%}
        lower({{ clean_text(expr) }})
    {%- elif identifier_type in ('hubspot_contact_id', 'salesforce_contact_id') -%}
        {{ clean_id(expr) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("normalize_identifier: unknown identifier type " ~ identifier_type) }}
    {%- endif -%}
{%- endmacro %}

{#- The node key of an identifier in the identity graph: `<type>:<normalised value>`. -#}
{% macro identifier_key(type_expr, value_expr) -%}
    ({{ type_expr }} || ':' || {{ value_expr }})
{%- endmacro %}

{#- A person id minted from the smallest identifier key of its cluster (so a rebuild from nothing
    gives the same ids); `salt` disambiguates the rare id that is taken already. -#}
{% macro mint_person_id(key_expr, salt=none) -%}
    {%- if salt is none -%}
    ('p_' || substr(md5('person:' || {{ key_expr }}), 1, 20))
    {%- else -%}
    ('p_' || substr(md5('person:' || {{ key_expr }} || ':' || {{ salt }}), 1, 20))
    {%- endif -%}
{%- endmacro %}

{#- The snake_case key an event name or alias is matched on: `Starred Repo` -> `starred_repo`. -#}
{% macro signal_type_key(expr) -%}
    trim(both '_' from regexp_replace(lower({{ trim_ws('cast(' ~ expr ~ ' as text)') }}), '[^a-z0-9]+', '_', 'g'))
{%- endmacro %}

{#- A company name as words: lower-cased, a leading `@` dropped, punctuation to spaces, trailing legal
    suffixes (Inc, LLC, Ltd, GmbH, Corp, Co, ...) removed. `Acme, Inc.` -> `acme`; `@Acme-Labs` ->
    `acme labs`. Null when nothing is left or the text is a placeholder (seed company_name_placeholders:
    Freelance, Self-employed, Stealth, ...). -#}
{% macro company_name_text(expr) -%}
    {%- set words -%}
    btrim(regexp_replace(
        ' ' || btrim(regexp_replace(regexp_replace(lower({{ trim_ws('cast(' ~ expr ~ ' as text)') }}), '^@+', ''),
                                    '[^a-z0-9]+', ' ', 'g')),
        '( (inc|incorporated|llc|l l c|ltd|limited|gmbh|corp|corporation|co|plc|sa|ag|bv|nv|oy|ab|srl|sarl|pty|pte|kk|sas|spa|lp|llp))+$',
        ''))
    {%- endset -%}
    (case
        when nullif({{ words }}, '') is null then null
        when {{ words }} in (select lower(value) from {{ ref('company_name_placeholders') }}) then null
        else {{ words }}
    end)
{%- endmacro %}

{#- The matching key of a company name: its words run together. `Acme Labs, Inc.` -> `acmelabs`. -#}
{% macro company_name_key(expr) -%}
    replace({{ company_name_text(expr) }}, ' ', '')
{%- endmacro %}

{#- The matching key of a GitHub organisation handle: `@Acme-HQ`, `acmehq`, `acme-inc`, `acme-oss`,
    `acme-dev` -> `acme`. Handles add these to a taken name; the rest is the company name run together. -#}
{% macro github_org_key(expr) -%}
    nullif(regexp_replace(regexp_replace(regexp_replace(
        lower({{ trim_ws('cast(' ~ expr ~ ' as text)') }}),
        '^@+', ''),
        '(hq|-(inc|oss|dev|official|team|org|io|app))$', ''),
        '[^a-z0-9]+', '', 'g'), '')
{%- endmacro %}

{#- A domain named by a free-text company field (`acme.io`, `@acme.io`, `https://www.acme.io`), or null
    when the text is not a bare domain (`Acme Inc`, `Node.js`: only common web top-level domains count). -#}
{% macro company_text_domain(expr) -%}
    (case
        when lower({{ trim_ws('cast(' ~ expr ~ ' as text)') }}) ~ '^@?([a-z][a-z0-9+.-]*://)?(www\.)?[a-z0-9-]+(\.[a-z0-9-]+)*\.(com|io|dev|ai|co|tech|app|cloud|net|org|so|sh|xyz|inc|company|systems|software|tools|studio|ly|me|us|uk|de|fr|nl|eu|ca|au|in|jp|co\.uk)/?$'
        then {{ website_domain("regexp_replace(cast(" ~ expr ~ " as text), '^\\s*@', '')") }}
    end)
{%- endmacro %}

{#- The name stem of a domain: `acme.io` -> `acme`, `getacme.com` -> `acme` is NOT guessed (the
    `get`/`hq` forms come back through company names); `acme.co.uk` -> `acme`. -#}
{% macro domain_stem(domain_expr) -%}
    nullif(regexp_replace(regexp_replace({{ domain_expr }},
        '\.(co|com|org|net|ac|gov)\.[a-z]{2}$', ''),
        '\.[a-z0-9-]+$', ''), '')
{%- endmacro %}

{#- Does `value_expr` (a text column) match any regular expression in the seed rows `patterns`
    (a CTE or relation with a `pattern` column), case-insensitively? -#}
{% macro matches_any_pattern(value_expr, patterns_relation, where='true') -%}
    exists (select 1 from {{ patterns_relation }} as p where ({{ where }}) and {{ value_expr }} ~* p.pattern)
{%- endmacro %}

{#- Connected components of an undirected graph, in the database: each node gets the smallest node of
    its component as its label. A recursive walk that starts only at local minima (nodes with no
    smaller neighbour: every component has at least one) and only ever steps to larger nodes, so a
    label travels exactly to the nodes it can beat. `nodes`: a relation/CTE with column `node`;
    `edges`: with `node_a`, `node_b` (any direction, duplicates allowed). Returns `node`, `component`.
    Measured (DESIGN.md §5 graph shape, 1.05M edges / 1.35M nodes): 20-44 s on the shared 2-core
    machine, 4-5x scipy with its IO; see models/intermediate/identity/README.md. Run it with merge
    joins off (int_identity__components' pre-hook): CTEs have no statistics. -#}
{% macro connected_components(nodes, edges) -%}
    with recursive
    cc_pairs as (
        select distinct node_a, node_b from {{ edges }} where node_a <> node_b
    ),
    cc_directed as materialized (
        select node_a as src, node_b as dst from cc_pairs
        union all
        select node_b, node_a from cc_pairs
    ),
    cc_roots as (
        select n.node
        from {{ nodes }} as n
        where not exists (select 1 from cc_directed as d where d.src = n.node and d.dst < n.node)
    ),
    cc_walk (node, label) as (
        select node, node from cc_roots
        union
        select d.dst, w.label
        from cc_walk as w
        inner join cc_directed as d on d.src = w.node
        where w.label < d.dst
    )
    select node, min(label) as component
    from cc_walk
    group by node
{%- endmacro %}
