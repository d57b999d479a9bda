"""slack: alerts sent (exactly once by idempotency key), snoozes, button clicks, dismissals

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

Written only through `apps.state.command` by `orchestration.activation.slack` (alerts out) and
`apps/api/slack.py` (buttons in).
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per alert idempotency key. 'posting' is written (with the resolved channel id) before
    # the Slack call and 'sent' after it, so a key found 'posting' means a process died between the
    # two: the retry looks for the key in the channel's history before it posts again.
    op.execute("""
        create table app.slack_alerts_sent (
            idempotency_key  text primary key,
            alert_type       text not null,
            account_id       text,
            channel          text not null,            -- where it went: a Slack channel id, or the sink's name
            transport        text not null check (transport in ('slack', 'sink')),
            status           text not null check (status in ('posting', 'sent')),
            ts               text,                     -- Slack's message ts (the sink's line id); null while posting
            tier             text,                     -- the account's tier when a hot alert went out
            message          jsonb not null,           -- text + blocks as posted
            started_at       timestamptz not null default now(),
            sent_at          timestamptz
        )
    """)
    # cool-downs look up the latest alert of a type for an account
    op.execute("create index slack_alerts_sent_account on app.slack_alerts_sent (account_id, alert_type, started_at desc)")
    # An account snoozed until `until` gets no automatic alert before then. A row per click
    # (interaction_id unique), so a re-processed click never snoozes twice.
    op.execute("""
        create table app.slack_snoozes (
            snooze_id       bigint generated always as identity primary key,
            account_id      text not null,
            until           timestamptz not null,
            snoozed_by      text not null,             -- app.members.email
            interaction_id  bigint unique,             -- app.slack_interactions, when it came from a button
            created_at      timestamptz not null default now()
        )
    """)
    op.execute("create index slack_snoozes_account on app.slack_snoozes (account_id, until desc)")
    # Every button click, stored before the 200 (Slack wants an answer in 3 s) and worked on after.
    # dedup_key = trigger_id (or action_ts) + action_id: Slack's retries of a click insert nothing.
    op.execute("""
        create table app.slack_interactions (
            interaction_id  bigint generated always as identity primary key,
            dedup_key       text not null unique,
            action_id       text not null,
            account_id      text,                      -- the button's value
            slack_user_id   text,
            slack_team_id   text,
            response_url    text,
            payload         jsonb not null,
            status          text not null default 'pending'
                            check (status in ('pending', 'working', 'done', 'refused', 'failed')),
            attempts        integer not null default 0,
            reply           text,                      -- what we answered through response_url
            error           text,
            received_at     timestamptz not null default now(),
            started_at      timestamptz,               -- lease: a crashed worker's row is picked up after it expires
            done_at         timestamptz
        )
    """)
    op.execute("create index slack_interactions_open on app.slack_interactions (received_at) where status in ('pending', 'working')")
    op.execute("""
        create table app.slack_dismissals (
            interaction_id  bigint primary key references app.slack_interactions (interaction_id),
            account_id      text,
            channel         text,
            message_ts      text,
            dismissed_by    text not null,             -- app.members.email
            dismissed_at    timestamptz not null default now()
        )
    """)


def downgrade() -> None:
    for table in ("slack_dismissals", "slack_interactions", "slack_snoozes", "slack_alerts_sent"):
        op.execute(f"drop table if exists app.{table}")
