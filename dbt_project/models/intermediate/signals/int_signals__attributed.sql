-- One row per person-level signal with the account it is attributed to (by the actor's work-email
-- domain, int_identity__account_domains) or, when it is not, the reason: a bot, no known email,
-- a personal mailbox, the vendor's own domain.

with

signals as (

    select * from {{ ref('int_signals__unioned') }}

),

account_domains as (

    select * from {{ ref('int_identity__account_domains') }}

),

final as (

    select
        signals.signal_id,
        signals.signal_type,
        signals.source,
        signals.source_event,
        signals.occurred_at,
        signals.actor_key,
        signals.email,
        signals.github_login,
        signals.segment_user_id,
        signals.segment_anonymous_id,
        signals.is_bot,
        case when not signals.is_bot then account_domains.account_domain end as account_domain,
        case
            when not signals.is_bot and account_domains.account_domain is not null
            then {{ surrogate_key(['account_domains.account_domain']) }}
        end as account_id,
        case when not signals.is_bot then account_domains.match_rule end as match_rule,
        case
            when signals.is_bot then 'bot'
            when signals.email is null then 'no_email'
            else account_domains.exclusion_reason
        end as exclusion_reason,
        signals.properties
    from signals
    left join account_domains on signals.email = account_domains.email

)

select * from final
