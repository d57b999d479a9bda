"""app.outbox (every side effect of activation), app.activation_* (what each trigger acted on), app.source_health

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-26

Written only by `orchestration.activation` (outbox rows are not user data: no audit rows).
"""

from alembic import op

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per side effect (a Slack alert, a webhook, a workflow action). `idempotency_key` is
    # derived from (event, action), so a sensor tick or run that repeats after a crash inserts
    # nothing new; the handler gets the same key and dedupes on its side too.
    op.execute("""
        create table app.outbox (
            outbox_id        bigint generated always as identity primary key,
            idempotency_key  text not null unique check (length(idempotency_key) between 1 and 400),
            kind             text not null check (kind in ('slack', 'webhook', 'workflow_action')),
            payload          jsonb not null,
            status           text not null default 'pending'
                             check (status in ('pending', 'sending', 'done', 'failed', 'skipped')),
            attempts         integer not null default 0,
            next_attempt_at  timestamptz not null default now(),
            last_error       text,                    -- why it failed, or why it was skipped
            result           jsonb,                   -- what the handler returned (e.g. Slack ts)
            source_event     text,                    -- e.g. tier_change:123, deal_stage:45
            created_at       timestamptz not null default now(),
            claimed_at       timestamptz,             -- when it was last marked 'sending'
            done_at          timestamptz
        )
    """)
    # drain() reads only due rows; 'sending' rows are there too (a crash mid-send is retried)
    op.execute("""create index outbox_due on app.outbox (next_attempt_at)
                  where status in ('pending', 'sending')""")
    op.execute("create index outbox_source_event on app.outbox (source_event)")
    # The last load outcome of each source, written by the Dagster ingestion assets. Alerting
    # sensors read it: a stale or failed source blocks the alerts its missing data would make wrong.
    op.execute("""
        create table app.source_health (
            source           text primary key,        -- npm, pypi, github, crm, segment
            last_success_at  timestamptz,
            last_failure_at  timestamptz,
            last_error       text,
            max_age          interval not null,       -- older than this = stale
            updated_at       timestamptz not null default now()
        )
    """)
    # Each trigger (tier_change, deal_stage, contact_created, signal_received) starts at a baseline:
    # the newest event when it first ran. Events up to it are history and never act.
    op.execute("""
        create table app.activation_triggers (
            trigger      text primary key,
            baseline     text not null,               -- a change_id, a timestamp or a date, per trigger
            started_at   timestamptz not null default now()
        )
    """)
    # One row per event a trigger has decided on, written in the same transaction as its outbox rows,
    # so a repeated tick or run decides each event once. `blocked` events (a stale source would make
    # them wrong) keep the reason and are decided again on the next evaluation.
    op.execute("""
        create table app.activation_events (
            trigger      text not null,
            event_id     text not null,
            status       text not null check (status in ('acted', 'blocked')),
            reason       text,                        -- why it is blocked
            outbox_rows  integer not null default 0,  -- side effects it enqueued
            decided_at   timestamptz not null default now(),
            primary key (trigger, event_id)
        )
    """)


def downgrade() -> None:
    op.execute("drop table if exists app.activation_events")
    op.execute("drop table if exists app.activation_triggers")
    op.execute("drop table if exists app.source_health")
    op.execute("drop table if exists app.outbox")
