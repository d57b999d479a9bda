"""outbound webhooks: endpoints, deliveries (one per event and endpoint), attempts, dead letters

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-26

People's writes (register, rotate secret, disable/enable, replay) go through
`apps.state.webhooks` (audited); the deliverer (`orchestration.activation.webhooks`) writes its
own bookkeeping (attempts, status). Timestamps come from the caller's clock (`now`), so a test can
run a three-hour outage without sleeping.
"""

from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A receiver. `secret` signs every request (shown once, when made); during a rotation the
    # previous secret signs too until `previous_secret_expires_at`. `consecutive_failures` counts
    # deliveries that ran out of attempts since the last success: at the limit the endpoint is disabled.
    op.execute("""
        create table app.webhook_endpoints (
            endpoint_id                 bigint generated always as identity primary key,
            url                         text not null check (url ~* '^https?://'),
            description                 text,
            event_types                 text[] not null check (cardinality(event_types) > 0),  -- '*' = every type
            secret                      text not null check (secret like 'whsec\\_%'),
            previous_secret             text check (previous_secret like 'whsec\\_%'),
            previous_secret_expires_at  timestamptz,
            enabled                     boolean not null default true,
            disabled_at                 timestamptz,
            disabled_reason             text,
            consecutive_failures        integer not null default 0,
            created_by                  text not null,
            created_at                  timestamptz not null default now(),
            updated_at                  timestamptz not null default now(),
            check ((previous_secret is null) = (previous_secret_expires_at is null)),
            check (enabled or disabled_at is not null)
        )
    """)
    # One event for one endpoint. `body` is the exact JSON text that is signed and sent (text, not
    # jsonb: jsonb would reorder keys and break signatures). `message_id` is the webhook-id header,
    # the same on every attempt. The unique key makes enqueueing an event twice a no-op.
    op.execute("""
        create table app.webhook_deliveries (
            delivery_id      bigint generated always as identity primary key,
            endpoint_id      bigint not null references app.webhook_endpoints (endpoint_id),
            idempotency_key  text not null,
            message_id       text not null,
            event_type       text not null,
            body             text not null,
            status           text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
            attempts         integer not null default 0,      -- in the current round (a replay starts a new one)
            next_attempt_at  timestamptz,                     -- null unless pending
            created_at       timestamptz not null,
            delivered_at     timestamptz,
            failed_at        timestamptz,
            last_status_code integer,
            last_error       text,
            replays          integer not null default 0,
            unique (idempotency_key, endpoint_id),
            check ((status = 'pending') = (next_attempt_at is not null))
        )
    """)
    op.execute("create index webhook_deliveries_due on app.webhook_deliveries (next_attempt_at) where status = 'pending'")
    op.execute("create index webhook_deliveries_endpoint on app.webhook_deliveries (endpoint_id, created_at desc)")
    # Every request made (or refused by the SSRF guard before connecting): what came back, how long it took.
    op.execute("""
        create table app.webhook_attempts (
            attempt_id     bigint generated always as identity primary key,
            delivery_id    bigint not null references app.webhook_deliveries (delivery_id),
            attempt        integer not null,                -- 1, 2, ... within its round
            round          integer not null default 0,      -- 0 = first sending, n = n-th replay
            attempted_at   timestamptz not null,
            status_code    integer,                         -- null when no HTTP answer (refused, network error)
            error          text,
            duration_ms    integer not null,
            outcome        text not null check (outcome in ('delivered', 'retrying', 'failed')),
            peer           text,                            -- the vetted IP the socket went to
            response       text                             -- first KB of the receiver's answer
        )
    """)
    op.execute("create index webhook_attempts_delivery on app.webhook_attempts (delivery_id, attempt_id)")
    # The dead-letter list: deliveries that ran out of attempts (or whose endpoint was disabled),
    # waiting for a person to replay them.
    op.execute("""
        create view app.webhook_dead_letters as
        select d.delivery_id, d.endpoint_id, e.url, d.event_type, d.message_id, d.idempotency_key,
               d.attempts, d.replays, d.created_at, d.failed_at, d.last_status_code, d.last_error,
               e.enabled as endpoint_enabled
        from app.webhook_deliveries d
        join app.webhook_endpoints e using (endpoint_id)
        where d.status = 'failed'
    """)


def downgrade() -> None:
    op.execute("drop view if exists app.webhook_dead_letters")
    for table in ("webhook_attempts", "webhook_deliveries", "webhook_endpoints"):
        op.execute(f"drop table if exists app.{table}")
