"""app.identity_overrides: manual identity decisions that win over every rebuild

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # dbt reads this back as a source (intermediate/identity/int_identity__overrides): the newest
    # decision per target wins; revoking one restores what the graph alone decides.
    op.execute("""
        create table app.identity_overrides (
            override_id      bigint generated always as identity primary key,
            action           text not null check (action in ('merge', 'split', 'set_account')),
            person_id        text,           -- merge: one person; set_account: the person (an alias id is fine)
            other_person_id  text,           -- merge: the other person
            identifier_type  text,           -- split: email | github_login | segment_user_id | ...
            identifier_value text,           -- split: the value (dbt normalises it)
            account_id       text,           -- set_account: dim_accounts.account_id ...
            account_domain   text,           -- ... or a domain; both null = "no account"
            effective_from   date,           -- set_account: from this day (null = always)
            reason           text,
            created_by       text not null,
            created_at       timestamptz not null default now(),
            revoked_at       timestamptz
        )
    """)


def downgrade() -> None:
    op.execute("drop table if exists app.identity_overrides")
