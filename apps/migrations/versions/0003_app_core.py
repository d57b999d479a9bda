"""app core: members, audit log, deals with stage history, account owners, tags, notes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

Written only through `apps.state` (one transaction per command, together with its audit row).
dbt reads owners, tags and deals back as sources; Dagster sensors read deal_stage_history.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STAGES = ("ANONYMOUS_USAGE", "IDENTIFIED", "ACTIVATED", "TEAM_ADOPTION", "EXPANSION_SIGNAL",
          "SALES_QUALIFIED", "NEGOTIATION", "CLOSED_WON", "CLOSED_LOST")


def upgrade() -> None:
    stages = ", ".join(f"'{stage}'" for stage in STAGES)
    op.execute("""
        create table app.members (
            member_id      bigint generated always as identity primary key,
            email          text not null unique check (email = lower(btrim(email))),
            display_name   text not null,
            role           text not null check (role in ('OWNER', 'ADMIN', 'MEMBER', 'VIEWER')),
            password_hash  text,                      -- argon2id; null = OIDC only
            slack_user_id  text,                      -- maps a Slack click to a member
            slack_channel  text,                      -- where this member's accounts' alerts go
            created_at     timestamptz not null default now(),
            last_login_at  timestamptz,
            disabled_at    timestamptz
        )
    """)
    op.execute("create unique index members_one_owner on app.members ((true)) where role = 'OWNER' and disabled_at is null")
    # Who did what, before -> after. `outcome = 'refused'` rows record writes a role did not allow.
    op.execute("""
        create table app.audit_log (
            audit_id     bigint generated always as identity primary key,
            at           timestamptz not null default now(),
            actor        text not null,                -- member email, or 'system:<component>'
            actor_role   text,
            action       text not null,                -- e.g. deal.create, deal.move, account.assign_owner
            entity_type  text not null,
            entity_id    text,
            before       jsonb,
            after        jsonb,
            outcome      text not null default 'ok' check (outcome in ('ok', 'refused')),
            detail       text
        )
    """)
    op.execute("create index audit_log_entity on app.audit_log (entity_type, entity_id, at desc)")
    op.execute("create index audit_log_actor on app.audit_log (actor, at desc)")
    op.execute(f"""
        create table app.deals (
            deal_id              bigint generated always as identity primary key,
            account_id           text,                 -- marts.dim_accounts.account_id
            person_id            text,                 -- marts.dim_people.person_id (an alias id is fine)
            title                text not null check (length(btrim(title)) > 0),
            stage                text not null default 'ANONYMOUS_USAGE' check (stage in ({stages})),
            amount               numeric(14, 2) check (amount >= 0),
            currency             text not null default 'USD',
            owner                text,                 -- app.members.email
            expected_close_date  date,
            closed_at            timestamptz,
            description          text,
            source               text not null default 'app',   -- app | slack_claim | workflow | import
            created_by           text not null,
            created_at           timestamptz not null default now(),
            updated_at           timestamptz not null default now(),
            deleted_at           timestamptz
        )
    """)
    op.execute("create index deals_account on app.deals (account_id) where deleted_at is null")
    # Every stage a deal entered, including its first. Sensors read this for deal_stage_changed.
    op.execute(f"""
        create table app.deal_stage_history (
            change_id   bigint generated always as identity primary key,
            deal_id     bigint not null references app.deals (deal_id),
            from_stage  text check (from_stage in ({stages})),
            to_stage    text not null check (to_stage in ({stages})),
            changed_by  text not null,
            via         text not null default 'app',    -- app | workflow | slack | import
            changed_at  timestamptz not null default now()
        )
    """)
    op.execute("""
        create table app.account_owners (
            account_id   text primary key,
            owner        text not null,               -- app.members.email
            assigned_by  text not null,
            assigned_at  timestamptz not null default now()
        )
    """)
    op.execute("""
        create table app.account_tags (
            account_id  text not null,
            tag         text not null check (length(btrim(tag)) between 1 and 50),
            added_by    text not null,
            added_at    timestamptz not null default now(),
            primary key (account_id, tag)
        )
    """)
    op.execute("""
        create table app.notes (
            note_id     bigint generated always as identity primary key,
            account_id  text,
            person_id   text,
            deal_id     bigint references app.deals (deal_id),
            body        text not null check (length(btrim(body)) > 0),
            author      text not null,
            created_at  timestamptz not null default now()
        )
    """)
    op.execute("create index notes_account on app.notes (account_id, created_at desc)")


def downgrade() -> None:
    for table in ("notes", "account_tags", "account_owners", "deal_stage_history", "deals", "audit_log", "members"):
        op.execute(f"drop table if exists app.{table}")
