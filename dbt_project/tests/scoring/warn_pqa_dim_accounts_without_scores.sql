{{ config(severity='warn') }}

-- dim_accounts can hold an account that identity resolution assigned people to but that has no
-- signal, CRM record or Segment group yet (not in int_accounts__merged, so not scored; it would
-- score 0, INACTIVE, in v2). Listed as a warning so the gap stays visible. Rows = such accounts.

select accounts.account_id, accounts.domain
from {{ ref('dim_accounts') }} as accounts
where not exists (
    select 1 from {{ ref('fct_account_scores_daily') }} as scores where scores.account_id = accounts.account_id
)
