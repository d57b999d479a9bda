{#- PQA scoring helpers (v2 and the score marts). The v2 parameters live in the seed
    `pqa_scoring_config` (one row per score_version, parameter, subject); see
    models/intermediate/pqa/README.md. -#}

{#- One parameter of the config, as an aggregate over the seed's rows of one score version:
    `select {{ pqa_param('window_days') }} as window_days from config_rows`. -#}
{% macro pqa_param(parameter, subject='*') -%}
    max(value) filter (where parameter = '{{ parameter }}' and subject = '{{ subject }}')
{%- endmacro %}

{#- The config rows of one score version. -#}
{% macro pqa_config_rows(score_version='v2') -%}
    select parameter, subject, cast(value as double precision) as value
    from {{ ref('pqa_scoring_config') }}
    where score_version = '{{ score_version }}'
{%- endmacro %}

{#- Seniority, v2: a title is senior when it holds one of the senior words as a whole word
    (PostgreSQL \m \M word boundaries), so "Headless CMS Engineer", "Directory Services Engineer"
    and "Overhead Systems Analyst" are not senior, while "VP, Engineering", "Co-founder & CTO",
    "Vice President, Engineering", "Head of Data" and "Chief Architect" are. -#}
{% macro is_senior_title_v2(expr) -%}
    coalesce(
        lower(cast({{ expr }} as text))
            ~ '\m(vp|svp|evp|cto|ceo|cfo|coo|cio|ciso|cpo|founder|cofounder|chief|president|directors?)\M'
        or lower(cast({{ expr }} as text)) ~ '\mhead of\M',
        false)
{%- endmacro %}

{#- Days an incremental score model recomputes behind its latest day (late-arriving signals):
    var `pqa_lookback_days`, default 3. Older days change only with `--full-refresh`. -#}
{% macro pqa_lookback_days() -%}
    {{ return(var('pqa_lookback_days', 3) | int) }}
{%- endmacro %}

{#- The score version account_scores_current publishes (var `pqa_live_score_version`, default v2). -#}
{% macro pqa_live_score_version() -%}
    {{ return(var('pqa_live_score_version', 'v2')) }}
{%- endmacro %}

{#- Scope of an incremental score model: one row per account with `from_day`, the first day it
    recomputes: `lookback` days before the last day already built (never after score_as_of), or the
    first day of the spine for an account the model does not hold yet (a new account gets its whole
    history) and on a full build. `accounts` is a relation or CTE with account_id; `first_day` a SQL
    date expression. The model must hold one row per account per day (dense), so the accounts it
    holds are those with a row on its last day. -#}
{% macro pqa_scope(accounts, first_day, incremental) -%}
    {%- if incremental -%}
    select
        {{ accounts }}.account_id,
        case
            when built.account_id is null then {{ first_day }}
            else greatest({{ first_day }}, least(built.last_day, {{ score_as_of() }}) - {{ pqa_lookback_days() }})
        end as from_day
    from {{ accounts }}
    left join (
        select account_id, score_date as last_day
        from {{ this }}
        where score_date = (select max(score_date) from {{ this }})
        group by account_id, score_date
    ) as built on {{ accounts }}.account_id = built.account_id
    {%- else -%}
    select {{ accounts }}.account_id, {{ first_day }} as from_day
    from {{ accounts }}
    {%- endif -%}
{%- endmacro %}

{#- is_incremental(), and the existing table already has `required_column` (the shape this
    version of the model writes). An older shape (the v1-only daily fact of before) is rebuilt in
    full, and on_schema_change='sync_all_columns' brings the table's columns in line, so a plain
    `dbt build` upgrades an existing database without --full-refresh. -#}
{% macro pqa_is_incremental(required_column) -%}
    {%- if not is_incremental() -%}{{ return(false) }}{%- endif -%}
    {%- if not execute -%}{{ return(true) }}{%- endif -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(this) -%}
        {%- do names.append(column.name | lower) -%}
    {%- endfor -%}
    {{ return(required_column in names) }}
{%- endmacro %}

{#- Pre-hook of the incremental score models: rows after score_as_of are deleted (a build as of an
    earlier day must not leave later days behind); a table of an older shape (without
    `required_column`) is emptied, so the run that follows rebuilds it in full, and the views that
    read the old shape (`dependents_of_old_shape`, in the same schema) are dropped first so its
    columns can change. -#}
{% macro pqa_prepare_incremental(required_column, dependents_of_old_shape=[]) -%}
    {%- if is_incremental() and not pqa_is_incremental(required_column) -%}
    {#- the views that read the old shape go first (through the adapter, so dbt's cache knows) -#}
    {%- if execute -%}
        {%- for dependent in dependents_of_old_shape -%}
            {%- set relation = adapter.get_relation(database=this.database, schema=this.schema, identifier=dependent) -%}
            {%- if relation is not none and relation.type == 'view' -%}{%- do adapter.drop_relation(relation) -%}{%- endif -%}
        {%- endfor -%}
    {%- endif %}
    delete from {{ this }}
    {%- elif is_incremental() -%}
    delete from {{ this }} where score_date > {{ score_as_of() }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- The six factors of a score row (`s`, a row of fct_account_scores_daily) as a jsonb array in
    the shape the seed stored and the app reads: name, points, max_points, weight, description,
    plus `value` (what was measured). `w` is a relation with the v2 factor weights as columns
    (user_count_weight, ...). v1 rows carry the seed's descriptions word for word. -#}
{% macro pqa_factors_json(s, w) -%}
    case when {{ s }}.score_version = 'v1' then jsonb_build_array(
        jsonb_build_object('name', 'user_count', 'points', {{ s }}.pqa_user_count_points, 'max_points', 25, 'weight', 0.25,
            'value', {{ s }}.pqa_user_count_value,
            'description', {{ s }}.count_users_30d || ' distinct users active in last 30 days'),
        jsonb_build_object('name', 'usage_velocity', 'points', {{ s }}.pqa_usage_velocity_points, 'max_points', 20, 'weight', 0.20,
            'value', {{ s }}.pqa_usage_velocity_value,
            'description', {{ s }}.count_signals_7d || ' signals in last 7 days out of ' || {{ s }}.count_signals_30d || ' in 30 days'),
        jsonb_build_object('name', 'feature_breadth', 'points', {{ s }}.pqa_feature_breadth_points, 'max_points', 20, 'weight', 0.20,
            'value', {{ s }}.pqa_feature_breadth_value,
            'description', {{ s }}.count_signal_types_30d || ' distinct signal types in last 30 days'),
        jsonb_build_object('name', 'engagement_recency', 'points', {{ s }}.pqa_engagement_recency_points, 'max_points', 15, 'weight', 0.15,
            'value', {{ s }}.pqa_engagement_recency_value,
            'description', case when {{ s }}.days_since_last_signal is null then 'No signals yet'
                else 'Last signal ' || floor({{ s }}.days_since_last_signal) || ' days ago' end),
        jsonb_build_object('name', 'seniority_signals', 'points', {{ s }}.pqa_seniority_signals_points, 'max_points', 10, 'weight', 0.10,
            'value', {{ s }}.pqa_seniority_signals_value,
            'description', {{ s }}.count_senior_contacts || ' senior contacts'),
        jsonb_build_object('name', 'firmographic_fit', 'points', {{ s }}.pqa_firmographic_fit_points, 'max_points', 10, 'weight', 0.10,
            'value', {{ s }}.pqa_firmographic_fit_value,
            'description', 'Company size: ' || coalesce({{ s }}.size_band, 'unknown'))
    ) else jsonb_build_array(
        jsonb_build_object('name', 'user_count', 'points', {{ s }}.pqa_user_count_points,
            'max_points', {{ w }}.user_count_weight, 'weight', {{ w }}.user_count_weight / 100.0,
            'value', {{ s }}.pqa_user_count_value,
            'description', {{ s }}.count_active_people || ' people active in the window ('
                || round({{ s }}.pqa_user_count_value, 1) || ' after decay)'),
        jsonb_build_object('name', 'usage_velocity', 'points', {{ s }}.pqa_usage_velocity_points,
            'max_points', {{ w }}.usage_velocity_weight, 'weight', {{ w }}.usage_velocity_weight / 100.0,
            'value', {{ s }}.pqa_usage_velocity_value,
            'description', round({{ s }}.pqa_usage_velocity_value, 1) || ' decayed signals per active person ('
                || {{ s }}.count_signals_window || ' signals in the window, ' || {{ s }}.count_signals_7d || ' in 7 days)'),
        jsonb_build_object('name', 'feature_breadth', 'points', {{ s }}.pqa_feature_breadth_points,
            'max_points', {{ w }}.feature_breadth_weight, 'weight', {{ w }}.feature_breadth_weight / 100.0,
            'value', {{ s }}.pqa_feature_breadth_value,
            'description', 'Breadth ' || round({{ s }}.pqa_feature_breadth_value, 1) || ' per top person; '
                || {{ s }}.count_signal_types_window || ' signal types'
                || coalesce(' (top: ' || nullif((select string_agg(t, ', ') from jsonb_array_elements_text({{ s }}.evidence_signal_types) as t), '') || ')', '')),
        jsonb_build_object('name', 'engagement_recency', 'points', {{ s }}.pqa_engagement_recency_points,
            'max_points', {{ w }}.engagement_recency_weight, 'weight', {{ w }}.engagement_recency_weight / 100.0,
            'value', {{ s }}.pqa_engagement_recency_value,
            'description', case when {{ s }}.days_since_last_signal is null then 'No signals yet'
                else 'Last signal ' || floor({{ s }}.days_since_last_signal) || ' days ago' end),
        jsonb_build_object('name', 'seniority_signals', 'points', {{ s }}.pqa_seniority_signals_points,
            'max_points', {{ w }}.seniority_signals_weight, 'weight', {{ w }}.seniority_signals_weight / 100.0,
            'value', {{ s }}.pqa_seniority_signals_value,
            'description', {{ s }}.count_active_senior_people || ' active people with a senior title'),
        jsonb_build_object('name', 'firmographic_fit', 'points', {{ s }}.pqa_firmographic_fit_points,
            'max_points', {{ w }}.firmographic_fit_weight, 'weight', {{ w }}.firmographic_fit_weight / 100.0,
            'value', {{ s }}.pqa_firmographic_fit_value,
            'description', 'Company size: ' || coalesce({{ s }}.size_band, 'unknown')
                || ' (fit ' || round({{ s }}.fit_score) || ', counted in proportion to intent)')
    ) end
{%- endmacro %}

{#- Why, in one line (Slack alerts, the Account 360 header), from a score row `s`:
    "score 78 (intent 84, fit 80): 4 active people, 61 signals/person, breadth 9.5 (trial_started,
    teammate_invited, pricing_viewed), last signal today". -#}
{% macro pqa_reason(s) -%}
    case when {{ s }}.score_version = 'v1' then
        'score ' || {{ s }}.score || ': ' || {{ s }}.count_users_30d || ' users, '
        || {{ s }}.count_signals_7d || '/' || {{ s }}.count_signals_30d || ' signals in 7/30 days, '
        || {{ s }}.count_signal_types_30d || ' types, '
        || case when {{ s }}.days_since_last_signal is null then 'no signals yet'
            when {{ s }}.days_since_last_signal < 1 then 'last signal today'
            else 'last signal ' || floor({{ s }}.days_since_last_signal) || ' days ago' end
    else
        'score ' || {{ s }}.score || ' (intent ' || round({{ s }}.intent_score) || ', fit ' || round({{ s }}.fit_score) || '): '
        || case when {{ s }}.days_since_last_signal is null then 'no signals yet'
            when {{ s }}.count_active_people = 0 and {{ s }}.count_signals_window = 0
                then 'silent for ' || floor({{ s }}.days_since_last_signal) || ' days'
            else {{ s }}.count_active_people || case when {{ s }}.count_active_people = 1 then ' active person, ' else ' active people, ' end
                || round({{ s }}.pqa_usage_velocity_value) || ' signals/person, breadth '
                || round({{ s }}.pqa_feature_breadth_value, 1)
                || coalesce(' (' || nullif((select string_agg(t, ', ') from jsonb_array_elements_text({{ s }}.evidence_signal_types) as t), '') || ')', '')
                || case when {{ s }}.days_since_last_signal < 1 then ', last signal today'
                    else ', last signal ' || floor({{ s }}.days_since_last_signal) || ' days ago' end
            end
    end
{%- endmacro %}

{#- The v2 factor weights as one row (for pqa_factors_json). -#}
{% macro pqa_v2_weights_relation() -%}
    select
        {{ pqa_param('factor_weight', 'user_count') }} as user_count_weight,
        {{ pqa_param('factor_weight', 'usage_velocity') }} as usage_velocity_weight,
        {{ pqa_param('factor_weight', 'feature_breadth') }} as feature_breadth_weight,
        {{ pqa_param('factor_weight', 'engagement_recency') }} as engagement_recency_weight,
        {{ pqa_param('factor_weight', 'seniority_signals') }} as seniority_signals_weight,
        {{ pqa_param('factor_weight', 'firmographic_fit') }} as firmographic_fit_weight
    from ({{ pqa_config_rows('v2') }}) as config_rows
{%- endmacro %}

{#- Pre-hook of the heavy score models: more memory for their sorts in this transaction only
    (var `pqa_work_mem`, default 128MB; PostgreSQL's default 4MB spills them to disk). -#}
{% macro pqa_work_mem() -%}
    set local work_mem = '{{ var("pqa_work_mem", "128MB") }}'
{%- endmacro %}

{#- int_pqa__signal_days, incremental: the first day it recomputes, `pqa_lookback_days` before the
    last day it holds (a date), or none on a full build / an empty table. Run at compile time and
    again when the pre-hook renders, both before the pre-hook deletes anything, so they agree. -#}
{% macro pqa_signal_days_rebuild_from() -%}
    {%- if not execute or not is_incremental() -%}{{ return(none) }}{%- endif -%}
    {%- set result = run_query("select max(signal_day) - " ~ pqa_lookback_days() ~ " from " ~ this) -%}
    {{ return(result.columns[0].values()[0]) }}
{%- endmacro %}

{#- Pre-hook of int_pqa__signal_days: the days it recomputes go first (every account's), so a day
    whose signals moved to another account leaves nothing behind; the model then appends them. -#}
{% macro pqa_signal_days_prepare() -%}
    {%- set rebuild_from = pqa_signal_days_rebuild_from() -%}
    {%- if rebuild_from is not none -%}
    delete from {{ this }} where signal_day >= cast('{{ rebuild_from }}' as date)
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of the dense score models (one row per account per day from the first day of the
    spine): an account that left the account set (internal domains or identity rules changed)
    takes its history with it, so an incremental run equals a full refresh. Cheap when none left:
    the accounts held are those on the spine's first day (an index range, not a scan of the table),
    and the delete joins only the departed ones. -#}
{% macro pqa_drop_departed_accounts() -%}
    delete from {{ this }} as scored
    using (
        select held.account_id
        from (
            select distinct account_id from {{ this }}
            where score_date = (select min(score_date) from {{ this }})
        ) as held
        where not exists (
            select 1 from {{ ref('int_accounts__merged') }} as accounts where accounts.account_id = held.account_id
        )
    ) as departed
    where scored.account_id = departed.account_id
{%- endmacro %}

{#- Post-hook of fct_account_scores_daily: a partial index on its tier changes (what
    fct_account_tier_changes reads), created once per table. Unnamed, so PostgreSQL picks a free
    name: on a full refresh the old table, renamed to a backup, still holds the old index's name. -#}
{% macro pqa_tier_change_index() -%}
    do $$
    begin
        if not exists (
            select 1 from pg_indexes
            where schemaname = '{{ this.schema }}' and tablename = '{{ this.identifier }}'
                and indexdef like '%WHERE is_tier_change%'
        ) then
            create index on {{ this }} (score_date) where is_tier_change;
        end if;
    end
    $$
{%- endmacro %}
