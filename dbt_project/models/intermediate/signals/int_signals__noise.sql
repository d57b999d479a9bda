-- The noise filter's record: one row per person-level signal left out of the account signals, what
-- kind of noise it is and the rule that caught it, so a count that does not match the source can
-- be explained. Kinds: bot (a [bot] / ci-runner login, a GitHub bot account, a CI user agent, a
-- person whose calls mostly come from CI), internal_domain (the vendor's own staff, var
-- internal_domains), test_account (example.com, *-staging.*, test@ ... in seed noise_patterns).

with

noise as (

    select * from {{ ref('int_signals__attributed') }} where is_noise

),

people as (

    select person_id, noise_detail from {{ ref('int_identity__people') }}

),

final as (

    select
        noise.signal_id,
        noise.signal_type,
        noise.source,
        noise.occurred_at,
        noise.person_id,
        noise.exclusion_reason as noise_type,
        case
            when noise.exclusion_reason = 'bot' and noise.is_bot
                then 'GitHub login ' || noise.github_login || ' is a bot'
            when noise.exclusion_reason = 'bot' and people.noise_detail is null
                then 'CI user agent: ' || noise.user_agent
            when noise.exclusion_reason = 'internal_domain'
                then coalesce(people.noise_detail, 'worked at an internal domain on that day')
            else people.noise_detail
        end as noise_detail,
        noise.github_login,
        noise.email,
        noise.user_agent
    from noise
    left join people on noise.person_id = people.person_id

)

select * from final
