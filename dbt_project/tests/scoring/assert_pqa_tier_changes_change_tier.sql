-- Every tier change moves between two different tiers, and matches the daily fact: the row before
-- it (same account and version, the day before) held from_tier. Rows returned = violations.

select changes.*
from {{ ref('fct_account_tier_changes') }} as changes
left join {{ ref('fct_account_scores_daily') }} as before
    on changes.account_id = before.account_id
    and changes.score_version = before.score_version
    and before.score_date = changes.score_date - 1
where changes.from_tier = changes.to_tier
    or before.tier is distinct from changes.from_tier
