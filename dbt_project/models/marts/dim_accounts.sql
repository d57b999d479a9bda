-- One row per account (a company, keyed by its domain): name, size, industry and when it was seen,
-- the people identity resolution credits to it now, its current score, tier and trend (the live
-- score version, from account_scores_current) and its owner in the app (app.account_owners).
-- Every account a person is assigned to is here, even one with no signal, CRM record or group call yet (its name then comes from how the
-- sources name it: int_identity__account_names).

with

accounts as (

    select * from {{ ref('int_accounts__merged') }}

),

people as (

    select
        account_id,
        account_domain,
        count(*) as count_people,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from {{ ref('int_identity__people') }}
    where account_id is not null
    group by account_id, account_domain

),

names as (

    select distinct on (account_domain)
        account_domain,
        example_name
    from {{ ref('int_identity__account_names') }}
    where name_kinds <> 'domain_stem'
    order by account_domain, position('crm_name' in name_kinds) = 0, count_mentions desc, example_name

),

people_only as (

    select
        people.account_id,
        people.account_domain as domain,
        coalesce(names.example_name, people.account_domain) as name,
        cast(null as text) as size_band,
        cast(null as numeric) as count_employees,
        cast(null as text) as industry,
        cast(null as text) as firmographic_sources,
        cast(0 as bigint) as count_signals,
        cast(0 as bigint) as count_crm_contacts,
        cast(null as timestamptz) as first_signal_at,
        cast(null as timestamptz) as last_signal_at,
        people.first_seen_at,
        people.last_seen_at
    from people
    left join names on people.account_domain = names.account_domain
    where not exists (select 1 from accounts where accounts.account_id = people.account_id)

),

-- the live version's score on the last day scored; an account only people point at is not scored
-- (null: see warn_pqa_dim_accounts_without_scores)
scores as (

    select account_id, score, tier, trend, score_date from {{ ref('account_scores_current') }}

),

owners as (

    select account_id, owner, assigned_at from {{ ref('int_accounts__owners') }}

),

all_accounts as (

    select
        account_id, domain, name, size_band, count_employees, industry, firmographic_sources, count_signals,
        count_crm_contacts, first_signal_at, last_signal_at, first_seen_at, last_seen_at
    from accounts

    union all

    select * from people_only

),

final as (

    select
        ---------- ids
        all_accounts.account_id,
        all_accounts.domain,

        ---------- attributes
        all_accounts.name,
        all_accounts.size_band,
        all_accounts.count_employees,
        all_accounts.industry,
        all_accounts.firmographic_sources,

        ---------- activity
        all_accounts.count_signals,
        all_accounts.count_crm_contacts,
        coalesce(people.count_people, 0) as count_people,
        all_accounts.first_signal_at,
        all_accounts.last_signal_at,
        all_accounts.first_seen_at,
        all_accounts.last_seen_at,

        ---------- score (live version) and owner
        scores.score as current_score,
        scores.tier,
        scores.trend,
        scores.score_date as current_score_date,
        owners.owner,
        owners.assigned_at as owner_assigned_at

    from all_accounts
    left join people on all_accounts.account_id = people.account_id
    left join scores on all_accounts.account_id = scores.account_id
    left join owners on all_accounts.account_id = owners.account_id

)

select * from final
