-- Exactly one row per account, per day of the spine and per score version: every account the
-- scores read (int_accounts__merged: every domain with a signal, a CRM record or a Segment group)
-- has, in every version, one row for each day from the first scored day to the last (no gap, no
-- duplicate, no missing account). Rows returned = violations.

with

bounds as (

    select min(score_date) as first_day, max(score_date) as last_day, count(distinct score_version) as versions
    from {{ ref('fct_account_scores_daily') }}

),

per_account as (

    select
        accounts.account_id,
        versions.score_version,
        count(scores.score_date) as rows_held,
        count(distinct scores.score_date) as days_held
    from {{ ref('int_accounts__merged') }} as accounts
    cross join (values ('v1'), ('v2')) as versions(score_version)
    left join {{ ref('fct_account_scores_daily') }} as scores
        on accounts.account_id = scores.account_id and versions.score_version = scores.score_version
    group by accounts.account_id, versions.score_version

)

select per_account.*, bounds.first_day, bounds.last_day
from per_account
cross join bounds
where bounds.first_day is not null
    and (per_account.rows_held <> bounds.last_day - bounds.first_day + 1
         or per_account.days_held <> per_account.rows_held)
