"""workflows: definitions (app or YAML), one run record per (workflow, event), the typed comparison

Revision ID: 0008
Revises: 0003
Create Date: 2026-11-26

Definitions are written only through `apps.state.workflows` (audited); runs only by
`orchestration.activation.workflows` (plan inserts them, action handlers finish them).
"""

from alembic import op

revision = "0008"
down_revision = "0003"
branch_labels = None
depends_on = None

TRIGGERS = ("signal_received", "contact_created", "deal_stage_changed", "score_changed")


def upgrade() -> None:
    triggers = ", ".join(f"'{trigger}'" for trigger in TRIGGERS)
    # `filters` {dotted.path: value} and `conditions` [{field, operator, value}] are checked by the
    # Python validator before they get here; the table only guards their JSON shape.
    op.execute(f"""
        create table app.workflows (
            workflow_id  bigint generated always as identity primary key,
            name         text not null unique check (length(btrim(name)) between 1 and 100),
            description  text,
            trigger      text not null check (trigger in ({triggers})),
            filters      jsonb not null default '{{}}' check (jsonb_typeof(filters) = 'object'),
            conditions   jsonb not null default '[]' check (jsonb_typeof(conditions) = 'array'),
            actions      jsonb not null check (jsonb_typeof(actions) = 'array' and jsonb_array_length(actions) >= 1),
            enabled      boolean not null default true,
            source       text not null default 'app' check (source in ('app', 'yaml')),
            source_file  text,                       -- the YAML file a 'yaml' workflow comes from
            created_by   text not null,
            created_at   timestamptz not null default now(),
            updated_at   timestamptz not null default now()
        )
    """)
    op.execute("create index workflows_trigger on app.workflows (trigger) where enabled")
    # One run per (workflow, event): planning the same event again inserts nothing. PENDING = its
    # actions are queued in app.outbox and run one after another; `outputs` holds each finished
    # action's result under its index ("0", "1", ...), which is also how a redelivered action
    # knows it already happened. duration_ms = time spent executing the actions (not queue wait).
    op.execute(f"""
        create table app.workflow_runs (
            run_id       bigint generated always as identity primary key,
            workflow_id  bigint not null references app.workflows (workflow_id) on delete cascade,
            event_key    text not null,              -- '<trigger>:<event id>'
            trigger      text not null check (trigger in ({triggers})),
            status       text not null check (status in ('PENDING', 'SUCCESS', 'FAILED', 'SKIPPED')),
            inputs       jsonb not null,             -- the event the filters and conditions saw
            actions      jsonb not null,             -- the workflow's actions as planned (later edits don't change a run)
            outputs      jsonb not null default '{{}}',
            error        text,
            started_at   timestamptz not null default now(),
            finished_at  timestamptz,
            duration_ms  integer,
            unique (workflow_id, event_key)
        )
    """)
    op.execute("create index workflow_runs_recent on app.workflow_runs (workflow_id, started_at desc)")
    op.execute("create index workflow_runs_status on app.workflow_runs (status, started_at desc)")

    # The typed comparison the decision query uses (so deciding stays one SQL statement). A value
    # is a number when it is a JSON number or a string that reads as one ("80", " 1e3 "); when
    # both sides are numbers they compare as numbers, otherwise as text (JSON strings unquoted,
    # other JSON as its text, e.g. true -> 'true'). Exponents are capped so no input overflows.
    op.execute(r"""
        create function app.workflow_number(value jsonb) returns numeric
        language sql immutable parallel safe as $$
            select case
                when jsonb_typeof(value) = 'number' then (value #>> '{}')::numeric
                when jsonb_typeof(value) = 'string'
                     and value #>> '{}' ~ '^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]{1,3})?\s*$'
                    then btrim(value #>> '{}')::numeric
            end
        $$
    """)
    op.execute(r"""
        create function app.workflow_text(value jsonb) returns text
        language sql immutable parallel safe as $$
            select case when jsonb_typeof(value) = 'string' then value #>> '{}' else value::text end
        $$
    """)
    # Missing fields and JSON null: only `eq null` holds (and `neq` anything but null).
    # `contains`: a list holds an equal element, or a text holds the other (case-insensitive).
    # `in`: equal to one element of the expected list. Unknown operator: false (the validator
    # refuses them before a definition is stored).
    op.execute(r"""
        create function app.workflow_compare(actual jsonb, operator text, expected jsonb) returns boolean
        language plpgsql immutable parallel safe as $$
        declare
            actual_number numeric;
            expected_number numeric;
            order_sign integer;
        begin
            if operator = 'neq' then
                return not app.workflow_compare(actual, 'eq', expected);
            end if;
            if operator = 'in' then
                if expected is null or jsonb_typeof(expected) <> 'array' then
                    return false;
                end if;
                return coalesce((select bool_or(app.workflow_compare(actual, 'eq', item))
                                 from jsonb_array_elements(expected) item), false);
            end if;
            if actual is null or jsonb_typeof(actual) = 'null' then
                return operator = 'eq' and (expected is null or jsonb_typeof(expected) = 'null');
            end if;
            if expected is null or jsonb_typeof(expected) = 'null' then
                return false;
            end if;
            if operator = 'contains' then
                if jsonb_typeof(actual) = 'array' then
                    return coalesce((select bool_or(app.workflow_compare(item, 'eq', expected))
                                     from jsonb_array_elements(actual) item), false);
                end if;
                return strpos(lower(app.workflow_text(actual)), lower(app.workflow_text(expected))) > 0;
            end if;
            actual_number := app.workflow_number(actual);
            expected_number := app.workflow_number(expected);
            if actual_number is not null and expected_number is not null then
                order_sign := sign(actual_number - expected_number);
            elsif operator = 'eq' then
                return app.workflow_text(actual) = app.workflow_text(expected);
            else
                order_sign := case when app.workflow_text(actual) collate "C" < app.workflow_text(expected) collate "C" then -1
                                   when app.workflow_text(actual) = app.workflow_text(expected) then 0
                                   else 1 end;
            end if;
            return case operator
                when 'eq' then order_sign = 0
                when 'gt' then order_sign > 0
                when 'gte' then order_sign >= 0
                when 'lt' then order_sign < 0
                when 'lte' then order_sign <= 0
                else false
            end;
        end
        $$
    """)


def downgrade() -> None:
    op.execute("drop function if exists app.workflow_compare(jsonb, text, jsonb)")
    op.execute("drop function if exists app.workflow_text(jsonb)")
    op.execute("drop function if exists app.workflow_number(jsonb)")
    op.execute("drop table if exists app.workflow_runs")
    op.execute("drop table if exists app.workflows")
