"""A stale or failed source blocks the alerts it would make wrong, and says why (RELIABILITY 13's
"no workflows fire on stale data"): no "went cold" for an account whose signals come from a broken
loader, while upgrades still alert; once the source is back the event is decided again."""

import datetime as dt
import uuid

import pytest
from sqlalchemy import text

from devsignal import db
from orchestration.activation import freshness, triggers


@pytest.fixture
def health(world):
    """app.source_health as the world's loads left it, restored after the test."""
    with db.engine().connect() as connection:
        saved = [dict(r._mapping) for r in connection.execute(text("select * from app.source_health"))]
    yield
    with db.engine().begin() as connection:
        connection.execute(text("delete from app.source_health"))
        for row in saved:
            connection.execute(text("""insert into app.source_health values (:source, :last_success_at,
                                       :last_failure_at, :last_error, :max_age, :updated_at)"""), row)


def fake_tier_change(account_id: str, from_tier: str, to_tier: str, direction: str) -> str:
    """A tier change row for today, as dbt would write it (the test's own database)."""
    change_id = uuid.uuid4().hex
    with db.engine().begin() as connection:
        connection.execute(text("""
            insert into marts.fct_account_tier_changes
                (tier_change_id, account_score_id, account_id, score_version, score_date, scored_at,
                 from_tier, to_tier, direction, score, previous_score, score_change, reason, factors,
                 evidence_signal_ids, evidence_signal_types)
            select :id, :id, :account, score_version, score_date, scored_at, :from_tier, :to_tier, :direction,
                   score, previous_score, 0, 'test', '[]'::jsonb, '[]'::jsonb, '[]'::jsonb
            from marts.account_scores_current where account_id = :account"""),
            {"id": change_id, "account": account_id, "from_tier": from_tier, "to_tier": to_tier,
             "direction": direction})
    return change_id


def an_account_with_segment_signals() -> str:
    with db.engine().connect() as connection:
        return connection.execute(text("""select account_id from marts.fct_signals where source = 'segment'
                                          and account_id is not null group by 1 order by count(*) desc limit 1""")).scalar()


def test_stale_and_failed_sources_say_why(world, health):
    now = dt.datetime.now(dt.timezone.utc)
    with db.engine().begin() as connection:
        freshness.record_success(connection, "github", at=now - dt.timedelta(hours=5))
        freshness.record_failure(connection, "npm", "UpstreamError: 503 from api.npmjs.org", at=now)
        stale = freshness.stale_sources(connection)
    assert stale["github"] == "github: last successful load 5h ago (limit 3h)"
    assert stale["npm"].startswith("npm: last load failed at") and "UpstreamError: 503" in stale["npm"]
    assert "crm" not in stale and "pypi" not in stale
    with pytest.raises(ValueError, match="unknown source 'hubspot'"):
        with db.engine().begin() as connection:
            freshness.record_success(connection, "hubspot")


def test_segment_is_stale_when_inbox_events_wait_too_long(world, health):
    with db.engine().connect() as connection:  # never committed: the inbox row goes away with it
        freshness.record_success(connection, "segment", at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2))
        connection.execute(text("""insert into intake.inbox (message_id, type, source, payload, received_at,
                                   original_timestamp, "timestamp", request_id)
                                   values (:m, 'track', 'segment_api', '{}'::jsonb, now() - interval '20 minutes',
                                           now(), now(), 'r')"""), {"m": f"stale-{uuid.uuid4()}"})
        stale = freshness.stale_sources(connection)
    assert stale["segment"].startswith("segment: inbox events waiting 20min since the last load")


def test_a_broken_loader_blocks_went_cold_but_not_hot(world, health):
    from dagster import build_sensor_context

    from orchestration.defs.activation import trigger_sensor

    account = an_account_with_segment_signals()
    with db.engine().begin() as connection:
        triggers.act(connection, "tier_change")       # settle anything else pending
    cold = fake_tier_change(account, "WARM", "COLD", "DOWNGRADE")
    with db.engine().begin() as connection:
        freshness.record_failure(connection, "segment", "PipelineStepFailed: load failed")

    sensor = trigger_sensor("tier_change")
    skip = sensor(build_sensor_context(instance=world["instance"]))
    assert "blocked by stale sources" in skip.skip_message and "segment: last load failed" in skip.skip_message

    hot = fake_tier_change(account, "WARM", "HOT", "UPGRADE")
    with db.engine().begin() as connection:
        decision = triggers.act(connection, "tier_change")
    assert set(decision.blocked) == {cold}
    assert "segment: last load failed" in decision.blocked[cold] and "blocked" in decision.describe()
    with db.engine().connect() as connection:
        keys = {k for (k,) in connection.execute(text("select idempotency_key from app.outbox where source_event in (:c, :h)"),
                                                 {"c": f"tier_change:{cold}", "h": f"tier_change:{hot}"})}
        status = connection.execute(text("""select status, reason from app.activation_events
                                            where trigger = 'tier_change' and event_id = :c"""), {"c": cold}).one()
    assert keys == {f"slack:hot_account:{hot}", f"webhook:score.changed:{hot}"}, "HOT still alerts"
    assert status.status == "blocked" and "segment" in status.reason

    with db.engine().begin() as connection:       # the loader recovers: the downgrade is decided again
        freshness.record_success(connection, "segment")
        decision = triggers.act(connection, "tier_change")
    assert decision.acted == 1 and not decision.blocked
    with db.engine().begin() as connection:
        connection.execute(text("delete from marts.fct_account_tier_changes where tier_change_id in (:c, :h)"),
                           {"c": cold, "h": hot})
