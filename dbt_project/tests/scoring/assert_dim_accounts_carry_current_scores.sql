-- dim_accounts carries each scored account's current score, tier and trend exactly as
-- account_scores_current publishes them (the live version), and every scored account has one.
-- Rows returned = accounts where the two disagree.

select
    accounts.account_id,
    accounts.current_score,
    accounts.tier,
    accounts.trend,
    current_scores.score as published_score,
    current_scores.tier as published_tier,
    current_scores.trend as published_trend
from {{ ref('dim_accounts') }} as accounts
full outer join {{ ref('account_scores_current') }} as current_scores
    on accounts.account_id = current_scores.account_id
where accounts.account_id is null
    or accounts.current_score is distinct from current_scores.score
    or accounts.tier is distinct from current_scores.tier
    or accounts.trend is distinct from current_scores.trend
