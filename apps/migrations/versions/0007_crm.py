"""crm: saved views with per-member defaults, account suppressions, login attempts, app settings

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-26

Written only through `apps.state` (members, accounts, views, api_keys commands).
"""

from alembic import op

revision = "0007"
down_revision = "0003"
branch_labels = None
depends_on = None

ENTITIES = ("account", "person", "deal", "signal")


def upgrade() -> None:
    entities = ", ".join(f"'{entity}'" for entity in ENTITIES)
    # A saved filter of a list page. Private to its owner unless shared; the filters are the page's
    # own widget values (a JSON object), never SQL.
    op.execute(f"""
        create table app.saved_views (
            view_id         bigint generated always as identity primary key,
            owner           text not null,                    -- app.members.email
            entity_type     text not null check (entity_type in ({entities})),
            name            text not null check (length(btrim(name)) between 1 and 100),
            filters         jsonb not null default '{{}}'::jsonb check (jsonb_typeof(filters) = 'object'),
            sort_field      text check (length(sort_field) <= 50),
            sort_direction  text not null default 'desc' check (sort_direction in ('asc', 'desc')),
            is_shared       boolean not null default false,
            created_at      timestamptz not null default now(),
            updated_at      timestamptz not null default now(),
            unique (owner, entity_type, name)
        )
    """)
    # A member's default view per entity lives with the member, not on the (maybe shared) view:
    # the seed stored it on the view row, so one member's default leaked to everyone.
    op.execute(f"""
        create table app.saved_view_defaults (
            member       text not null,                       -- app.members.email
            entity_type  text not null check (entity_type in ({entities})),
            view_id      bigint not null references app.saved_views (view_id) on delete cascade,
            primary key (member, entity_type)
        )
    """)
    # "Deleting" an account: the account comes back from the sources on the next run, so a delete is a
    # suppression the app (and dbt, reading this as a source) honours; undo = remove the row.
    op.execute("""
        create table app.account_suppressions (
            account_id     text primary key,               -- marts.dim_accounts.account_id
            reason         text,
            suppressed_by  text not null,
            suppressed_at  timestamptz not null default now()
        )
    """)
    # Failed logins per email, to slow password guessing (the CRM locks an email after a burst).
    op.execute("""
        create table app.login_attempts (
            attempt_id  bigint generated always as identity primary key,
            email       text not null,
            succeeded   boolean not null,
            at          timestamptz not null default now()
        )
    """)
    op.execute("create index login_attempts_email on app.login_attempts (email, at desc)")
    # Workspace settings edited in the CRM (e.g. slack.default_channel); environment settings stay the fallback.
    op.execute("""
        create table app.crm_settings (
            key         text primary key check (key ~ '^[a-z_]+\\.[a-z_]+$'),
            value       jsonb not null,
            updated_by  text not null,
            updated_at  timestamptz not null default now()
        )
    """)


def downgrade() -> None:
    for table in ("crm_settings", "login_attempts", "account_suppressions", "saved_view_defaults", "saved_views"):
        op.execute(f"drop table if exists app.{table}")
