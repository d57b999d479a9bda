{{ config(indexes=[{'columns': ['account_id', 'scored_at']}]) }}

-- One row per tier transition: an account whose published tier on a day differs from the day
-- before, per score version (v2's tiers carry hysteresis, so a transition is one a person should
-- hear about). The first day of an account is not a transition. With the score, the move, the
-- factors, a one-line reason and the evidence signal ids: what a Slack alert or a workflow needs.

with

changes as (

    select * from {{ ref('fct_account_scores_daily') }} where is_tier_change

),

weights as (

    {{ pqa_v2_weights_relation() }}

),

final as (

    select
        ---------- ids
        {{ surrogate_key(['changes.account_id', 'changes.score_date', 'changes.score_version']) }} as tier_change_id,
        changes.account_score_id,
        changes.account_id,
        changes.score_version,
        changes.score_date,
        changes.scored_at,

        ---------- the move
        changes.previous_tier as from_tier,
        changes.tier as to_tier,
        case
            when (case changes.tier when 'HOT' then 3 when 'WARM' then 2 when 'COLD' then 1 else 0 end)
                > (case changes.previous_tier when 'HOT' then 3 when 'WARM' then 2 when 'COLD' then 1 else 0 end)
            then 'UPGRADE'
            else 'DOWNGRADE'
        end as direction,
        changes.score,
        changes.previous_score,
        changes.score - changes.previous_score as score_change,
        changes.score_7d_ago,
        changes.intent_score,
        changes.fit_score,

        ---------- why
        {{ pqa_reason('changes') }} as reason,
        {{ pqa_factors_json('changes', 'weights') }} as factors,
        changes.evidence_signal_ids,
        changes.evidence_signal_types

    from changes
    cross join weights

)

select * from final
