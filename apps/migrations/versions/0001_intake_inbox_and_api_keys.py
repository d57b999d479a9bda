"""intake.inbox, intake.quarantine and app.api_keys

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("create schema if not exists intake")
    op.execute("create schema if not exists app")
    # One row per accepted call. `id` is the order the Segment source reads in (its cursor);
    # `message_id` is unique forever, so a redelivered call is stored once.
    op.execute("""
        create table intake.inbox (
            id                 bigint generated always as identity primary key,
            message_id         text not null unique,
            type               text not null,          -- identify, track, group, page, screen, alias
            source             text not null,          -- segment_api, segment_webhook, signals
            write_key_id       text,                   -- which key sent it (an id, never the key)
            payload            jsonb not null,         -- the call as received (minus writeKey)
            received_at        timestamptz not null,   -- our clock (or Segment's, for its webhook)
            sent_at            timestamptz,            -- the sender's clock when it sent the batch
            original_timestamp timestamptz not null,   -- the sender's clock when the event happened
            "timestamp"        timestamptz not null,   -- corrected: received_at - (sent_at - original_timestamp)
            request_id         text not null
        )
    """)
    # Calls we could not keep as events (bad or missing timestamps, no user id, too big, ...),
    # with the reason. A re-sent bad call is kept once (payload_hash).
    op.execute("""
        create table intake.quarantine (
            id            bigint generated always as identity primary key,
            received_at   timestamptz not null,
            source        text not null,
            write_key_id  text,
            request_id    text not null,
            position      integer,                     -- index of the call in its request's batch
            message_id    text,
            reason        text not null,
            payload       text not null,               -- the call as received, JSON text
            payload_hash  text not null unique
        )
    """)
    op.execute("""
        create table app.api_keys (
            id            bigint generated always as identity primary key,
            prefix        text not null unique,        -- the public part of the key, used to find it
            name          text not null,
            key_hash      text not null,               -- sha256 of the whole key; the key itself is never stored
            scopes        text[] not null check (scopes <@ array['read', 'write']::text[]),
            created_at    timestamptz not null default now(),
            last_used_at  timestamptz,
            expires_at    timestamptz,
            revoked_at    timestamptz
        )
    """)


def downgrade() -> None:
    op.execute("drop table if exists app.api_keys")
    op.execute("drop table if exists intake.quarantine")
    op.execute("drop table if exists intake.inbox")
    op.execute("drop schema if exists intake")
