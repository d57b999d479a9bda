"""End to end: identify + track calls in through the intake API -> Dagster runs the fast path
in-process (Segment load from the inbox, only the dbt models downstream of it, the actions) -> the
account is HOT and its alert is in the fake Slack once, with its reasons.

Also: the fast path asks dbt for the models downstream of the Segment sources only, and the
intake sensor asks for one run per new inbox batch (cursor = the newest inbox id).
"""

import time

import pytest
from sqlalchemy import text

from devsignal import db


@pytest.fixture(scope="module")
def intake_api(world, tmp_path_factory):
    import orchestration_world as ow

    api = ow.IntakeApi(tmp_path_factory.mktemp("intake") / "api.log")
    yield api
    api.stop()


def coolest_account_with_domain() -> dict:
    """A real account of the world that is not HOT (the lowest score with a domain)."""
    with db.engine().connect() as connection:
        row = connection.execute(text("""select account_id, domain, name, tier, score from marts.account_scores_current
                                         where tier <> 'HOT' and domain is not null
                                         order by score, account_id limit 1""")).one()
    return dict(row._mapping)


def hot_posts(fake_slack, account: dict) -> list[dict]:
    """The HOT account alerts about `account` (the shipped YAML workflow posts a message of its own too)."""
    def key(message: dict) -> str:
        return ((message.get("metadata") or {}).get("event_payload") or {}).get("idempotency_key", "")

    return [m for m in fake_slack.messages()
            if key(m).startswith("slack:hot_account:")
            and (account["name"] or account["domain"]) in (m.get("text") or "") + str(m.get("blocks") or "")]


def test_events_through_the_api_become_one_hot_alert_with_reasons(world, intake_api, fake_slack):
    import orchestration_world as ow
    from orchestration.definitions import defs

    account = coolest_account_with_domain()
    assert not hot_posts(fake_slack, account)
    started = time.monotonic()
    calls = ow.hot_calls(account["domain"], tag="e2e")
    for start in range(0, len(calls), 200):
        intake_api.batch(calls[start:start + 200])

    result = defs.resolve_job_def("fast_path").execute_in_process(instance=world["instance"])
    assert result.success
    seconds = time.monotonic() - started

    with db.engine().connect() as connection:
        now = connection.execute(text("""select tier, score, reason, score_version from marts.account_scores_current
                                         where account_id = :a"""), {"a": account["account_id"]}).one()
        change = connection.execute(text("""select tier_change_id, reason from marts.fct_account_tier_changes
                                            where account_id = :a and to_tier = 'HOT' and score_version = :v
                                            order by score_date desc limit 1"""),
                                    {"a": account["account_id"], "v": now.score_version}).one()
        row = connection.execute(text("select status, payload from app.outbox where idempotency_key = :k"),
                                 {"k": f"slack:hot_account:{change.tier_change_id}"}).one()
    assert now.tier == "HOT", (account, now)
    assert row.status == "done" and row.payload["reason"] == change.reason
    posts = hot_posts(fake_slack, account)
    assert len(posts) == 1, f"one HOT alert for {account['domain']}, got {len(posts)}"
    body = (posts[0].get("text") or "") + str(posts[0].get("blocks") or "")
    assert str(now.score) in body
    # the reasons: the factor descriptions behind the score (people active, breadth, recency...)
    assert "active" in body.lower() or "signal" in body.lower(), body[:2000]

    # once: a second fast path (no new events) and a trigger run add nothing
    assert defs.resolve_job_def("fast_path").execute_in_process(instance=world["instance"]).success
    assert len(hot_posts(fake_slack, account)) == 1
    print(f"\nfast path: {len(calls)} calls -> HOT alert in {seconds:.1f}s (in-process, one run)")


def test_fast_path_builds_only_what_is_downstream_of_segment(world):
    from dagster import AssetKey

    from orchestration.definitions import defs

    job = defs.resolve_job_def("fast_path")
    keys = {key for key in job.asset_layer.executable_asset_keys}
    graph = defs.resolve_asset_graph()
    segment_raw = {k for k in keys if k.path[:2] == ["raw", "segment"]}
    assert segment_raw and not {k for k in keys if k.path[0] == "raw" and k.path[1] != "segment"}
    # every model in the job has a Segment table upstream; models off that path are not rebuilt
    for key in keys - segment_raw:
        frontier, seen = [key], set()
        while frontier:
            for parent in graph.get(frontier.pop()).parent_keys:
                if parent not in seen:
                    seen.add(parent)
                    frontier.append(parent)
        assert seen & segment_raw, f"{key.to_user_string()} is not downstream of Segment"
    assert AssetKey(["activation", "outbox"]) in keys
    assert AssetKey(["marts", "fct_account_tier_changes"]) in keys
    assert not {k for k in keys if k.path[0] == "staging" and "github" in k.path[-1]}


def test_intake_sensor_asks_once_per_new_inbox_batch(world, intake_api):
    import orchestration_world as ow
    from dagster import build_sensor_context

    from orchestration.defs.automation import intake_inbox_sensor

    instance = world["instance"]
    with db.engine().connect() as connection:
        newest = connection.execute(text("select max(id) from intake.inbox")).scalar()
    context = build_sensor_context(instance=instance, cursor=str(newest))
    assert "no inbox rows" in intake_inbox_sensor(context).skip_message
    intake_api.batch(ow.hot_calls("sensor-test.example", tag="sensor", people=1)[:3])
    request = intake_inbox_sensor(context)
    assert request.run_key == f"inbox:{newest + 3}" and context.cursor == str(newest + 3)
    assert "no inbox rows" in intake_inbox_sensor(context).skip_message
