{{ config(
    materialized='table',
    indexes=[
        {'columns': ['search_vector'], 'type': 'gin'},
        {'columns': ['entity_type', 'entity_id'], 'unique': true},
    ],
) }}

-- One row per searchable account and person: the CRM's search box (apps/crm/data/search.py)
-- reads this stored, GIN-indexed tsvector instead of building one per row at query time, which
-- took 1.1-1.4 s per query at 10k accounts / 100k people (15-320 ms with this table, the upper
-- end when 25k rows match and are all ranked). Weights: A names,
-- B domains / emails / GitHub logins, C industry and job title. Deals and notes are app tables
-- with their own generated search columns (migration 0009).

with

accounts as (

    select
        'account' as entity_type,
        account_id as entity_id,
        name as title,
        domain as subtitle,
        concat_ws(' · ', name, domain, industry) as body,
        setweight(to_tsvector('english', coalesce(name, '')), 'A')
        || setweight(to_tsvector('simple', coalesce(domain, '')), 'B')
        || setweight(to_tsvector('english', coalesce(industry, '')), 'C') as search_vector
    from {{ ref('dim_accounts') }}

),

people as (

    select
        'person' as entity_type,
        person_id as entity_id,
        display_name as title,
        coalesce(primary_email, github_login, title) as subtitle,
        concat_ws(' · ', display_name, primary_email, github_login, title) as body,
        setweight(to_tsvector('english', concat_ws(' ', display_name, full_name)), 'A')
        || setweight(to_tsvector('simple', concat_ws(' ', primary_email, github_login)), 'B')
        || setweight(to_tsvector('english', coalesce(title, '')), 'C') as search_vector
    from {{ ref('dim_people') }}
    where not is_anonymous

)

select * from accounts
union all
select * from people
