-- One row per person-level signal: GitHub stars, forks, issues and pull requests opened; Segment
-- track events, page views and signups (the first identify of a Segment user). Package downloads
-- are market signals, not person-level ones, and are not here.
--
-- Signal types are canonical: the (source, event) seed signal_types names the type, and the seed
-- signal_type_aliases folds every spelling onto one canonical name (`repo_star`, `github_star` and
-- `Starred Repo` are one type); an event neither seed knows falls back to its name in snake_case.
--
-- Actors: a GitHub user's public email, else `github:<login>`; a Segment user's email (from their
-- latest identify, by userId, else by anonymousId), else `segment:<userId>`. A Segment visitor that
-- never identified has no actor (null): anonymous activity never counts as a user (SPEC-seed §3.2).

with

signal_types as (

    select
        source,
        lower(source_event) as source_event_key,
        signal_type
    from {{ ref('signal_types') }}

),

signal_type_aliases as (

    select {{ signal_type_key('alias') }} as alias_key, signal_type
    from {{ ref('signal_type_aliases') }}

),

github_users as (

    select github_login, email, is_bot from {{ ref('stg_github__users') }}

),

identifies as (

    select * from {{ ref('stg_segment__identifies') }}

),

email_by_user_id as (

    select distinct on (segment_user_id)
        segment_user_id,
        email
    from identifies
    where segment_user_id is not null and email is not null
    order by segment_user_id, identified_at desc, segment_message_id desc

),

email_by_anonymous_id as (

    select distinct on (segment_anonymous_id)
        segment_anonymous_id,
        email
    from identifies
    where segment_anonymous_id is not null and email is not null
    order by segment_anonymous_id, identified_at desc, segment_message_id desc

),

github_events as (

    select
        {{ surrogate_key(["'github'", "'star'", 'repo_full_name', 'github_login']) }} as signal_id,
        'star' as source_event,
        github_login,
        starred_at as occurred_at,
        jsonb_build_object('repo', repo_full_name) as properties
    from {{ ref('stg_github__stargazers') }}

    union all

    select
        {{ surrogate_key(["'github'", "'fork'", 'github_fork_id']) }},
        'fork',
        github_login,
        created_at,
        jsonb_build_object('repo', repo_full_name, 'fork', fork_full_name)
    from {{ ref('stg_github__forks') }}

    union all

    select
        {{ surrogate_key(["'github'", "'issue'", 'github_issue_id']) }},
        'issue_opened',
        github_login,
        created_at,
        jsonb_build_object('repo', repo_full_name, 'number', issue_number)
    from {{ ref('stg_github__issues') }}

    union all

    select
        {{ surrogate_key(["'github'", "'pull_request'", 'github_pull_request_id']) }},
        'pr_opened',
        github_login,
        created_at,
        jsonb_build_object('repo', repo_full_name, 'number', pull_request_number)
    from {{ ref('stg_github__pull_requests') }}

),

github_signals as (

    select
        github_events.signal_id,
        'github' as source,
        github_events.source_event,
        github_events.occurred_at,
        github_users.email,
        github_events.github_login,
        cast(null as text) as segment_user_id,
        cast(null as text) as segment_anonymous_id,
        coalesce(github_users.is_bot, github_events.github_login like '%[bot]') as is_bot,
        github_events.properties,
        cast(null as text) as user_agent
    from github_events
    left join github_users on github_events.github_login = github_users.github_login
    where github_events.github_login is not null

),

segment_tracks as (

    select
        {{ surrogate_key(["'segment'", 'segment_message_id']) }} as signal_id,
        event_name as source_event,
        occurred_at,
        segment_user_id,
        segment_anonymous_id,
        properties,
        user_agent
    from {{ ref('stg_segment__tracks') }}

),

segment_pages as (

    select
        {{ surrogate_key(["'segment'", 'segment_message_id']) }} as signal_id,
        'page' as source_event,
        viewed_at as occurred_at,
        segment_user_id,
        segment_anonymous_id,
        jsonb_strip_nulls(jsonb_build_object('name', page_name, 'path', page_path)) as properties,
        user_agent
    from {{ ref('stg_segment__pages') }}

),

-- the first identify of each Segment user is their signup, unless a `Signed Up` track says so already
first_identifies as (

    select distinct on (coalesce(segment_user_id, 'anonymous:' || segment_anonymous_id))
        {{ surrogate_key(["'segment'", 'segment_message_id']) }} as signal_id,
        'identify' as source_event,
        identified_at as occurred_at,
        segment_user_id,
        segment_anonymous_id,
        '{}'::jsonb as properties,
        user_agent
    from identifies
    where coalesce(segment_user_id, segment_anonymous_id) is not null
    order by coalesce(segment_user_id, 'anonymous:' || segment_anonymous_id), identified_at, segment_message_id

),

signed_up_tracks as (

    select distinct segment_tracks.segment_user_id, segment_tracks.segment_anonymous_id
    from segment_tracks
    inner join signal_types
        on signal_types.source = 'segment'
        and signal_types.source_event_key = lower(segment_tracks.source_event)
    where signal_types.signal_type = 'signup'

),

segment_signups as (

    select first_identifies.*
    from first_identifies
    where not exists (
        select 1
        from signed_up_tracks
        where signed_up_tracks.segment_user_id = first_identifies.segment_user_id
            or signed_up_tracks.segment_anonymous_id = first_identifies.segment_anonymous_id
    )

),

segment_events as (

    select * from segment_tracks
    union all
    select * from segment_pages
    union all
    select * from segment_signups

),

segment_signals as (

    select
        segment_events.signal_id,
        'segment' as source,
        segment_events.source_event,
        segment_events.occurred_at,
        coalesce(email_by_user_id.email, email_by_anonymous_id.email) as email,
        cast(null as text) as github_login,
        segment_events.segment_user_id,
        segment_events.segment_anonymous_id,
        false as is_bot,
        segment_events.properties,
        segment_events.user_agent
    from segment_events
    left join email_by_user_id on segment_events.segment_user_id = email_by_user_id.segment_user_id
    left join email_by_anonymous_id on segment_events.segment_anonymous_id = email_by_anonymous_id.segment_anonymous_id

),

unioned as (

    select * from github_signals
    union all
    select * from segment_signals

),

typed as (

    select
        unioned.*,
        coalesce(
            signal_types.signal_type,
            {{ signal_type_key('unioned.source_event') }}
        ) as seed_signal_type
    from unioned
    left join signal_types
        on unioned.source = signal_types.source
        and lower(unioned.source_event) = signal_types.source_event_key
    where unioned.occurred_at is not null

),

final as (

    select
        typed.signal_id,
        coalesce(signal_type_aliases.signal_type, typed.seed_signal_type) as signal_type,
        typed.source,
        typed.source_event,
        typed.occurred_at,
        case
            when typed.email is not null then typed.email
            when typed.github_login is not null then 'github:' || typed.github_login
            when typed.segment_user_id is not null then 'segment:' || typed.segment_user_id
        end as actor_key,
        typed.email,
        typed.github_login,
        typed.segment_user_id,
        typed.segment_anonymous_id,
        typed.is_bot,
        typed.properties,
        typed.user_agent
    from typed
    left join signal_type_aliases on {{ signal_type_key('typed.seed_signal_type') }} = signal_type_aliases.alias_key

)

select * from final
