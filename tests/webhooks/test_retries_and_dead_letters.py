"""RELIABILITY 17 (retries and dead letters): a receiver down for three hours, retries on the
documented schedule with jitter, one `webhook-id` throughout, exactly one delivery after recovery;
exhausted retries land in the dead-letter view and replay works; 410 disables the endpoint.

Time is simulated: `deliver_due(now=t)` is called at each due time, and the receiver decides on the
attempt's `webhook-timestamp` header, so a three-hour outage takes seconds."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from standardwebhooks.webhooks import Webhook

from apps import state
from apps.state import Actor, PermissionDenied
from apps.state import webhooks as commands
from orchestration.activation.webhooks import deliveries, endpoints

from .conftest import ADMIN

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)


def run_until_idle(start: datetime, rng: random.Random, max_rounds: int = 200) -> list[deliveries.DeliveryRun]:
    """Call deliver_due at every due time, as a scheduler would, until nothing is pending.
    Also checks a call just before each due time sends nothing (the schedule is respected)."""
    runs, now = [], start
    for _ in range(max_rounds):
        runs.append(deliveries.deliver_due(now=now, rng=rng))
        due = deliveries.next_due_at()
        if due is None:
            return runs
        early = deliveries.deliver_due(now=due - timedelta(milliseconds=1), rng=rng)
        assert early.attempted == 0, "a delivery was sent before its retry was due"
        now = due
    raise AssertionError("deliveries still pending after max_rounds")


def signed_by(secret: str, request) -> bool:
    """The official `standardwebhooks` signer, checked against each v1 signature the request carries
    (its `verify` also enforces a 5-minute clock tolerance, which simulated time would trip)."""
    timestamp = datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), tz=timezone.utc)
    expected = Webhook(secret).sign(request.headers["webhook-id"], timestamp, request.body.decode("utf-8"))
    return expected in request.headers["webhook-signature"].split(" ")


def test_three_hour_outage_retries_on_schedule_then_delivers_exactly_once(receiver_factory):
    recovery = T0 + timedelta(hours=3)
    receiver = receiver_factory(lambda r: (500, {}) if int(r.headers["webhook-timestamp"]) < recovery.timestamp()
                                else (200, {}))
    endpoint = commands.register_endpoint(ADMIN, receiver.url(), ["deal.created"])
    [delivery_id] = deliveries.enqueue("deal.created", {"deal_id": 42, "title": "Acme – Inbound ✓"}, "deal.created:42",
                                       now=T0)

    run_until_idle(T0, random.Random(17))

    sent = receiver.requests
    times = [datetime.fromtimestamp(int(r.headers["webhook-timestamp"]), tz=timezone.utc) for r in sent]
    statuses = [r.status for r in sent]
    # down until 3 h, then exactly one 200 and nothing after it
    assert statuses == [500] * (len(sent) - 1) + [200]
    assert all(t < recovery for t in times[:-1]) and times[-1] >= recovery
    assert len({r.headers["webhook-id"] for r in sent}) == 1
    assert all(signed_by(endpoint["secret"], r) for r in sent)
    # each wait is the documented one, scaled by the jitter (and the jitter really varies)
    recorded = deliveries.attempts(delivery_id)
    assert [a["attempt"] for a in recorded] == list(range(1, len(sent) + 1))
    factors = []
    for n, (previous, current) in enumerate(zip(recorded, recorded[1:])):
        waited = current["attempted_at"] - previous["attempted_at"]
        factor = waited / deliveries.SCHEDULE[n]
        assert 1 - deliveries.JITTER - 1e-6 <= factor <= 1 + deliveries.JITTER + 1e-6, (n, waited)
        factors.append(factor)
    assert len({round(f, 6) for f in factors}) == len(factors)  # no two waits scaled alike: jitter is random
    assert [a["outcome"] for a in recorded] == ["retrying"] * (len(sent) - 1) + ["delivered"]
    assert all(a["status_code"] == s and a["duration_ms"] >= 0 for a, s in zip(recorded, statuses))
    delivery = deliveries.get_delivery(delivery_id)
    assert delivery["status"] == "delivered" and delivery["delivered_at"] == recorded[-1]["attempted_at"]
    print(f"\n[R17] outage 3h: {len(sent)} attempts, delivered after {times[-1] - T0} "
          f"(waits x{', '.join(f'{f:.2f}' for f in factors)})")


def test_retries_exhausted_go_to_dead_letters_and_replay_delivers(receiver_factory):
    answer = {"status": 503}
    receiver = receiver_factory(lambda r: (answer["status"], {}))
    endpoint = commands.register_endpoint(ADMIN, receiver.url(), ["*"])
    [delivery_id] = deliveries.enqueue("score.changed", {"account_id": "acme.com", "tier": "HOT"}, "score:acme:1",
                                       now=T0)

    run_until_idle(T0, random.Random(3))

    assert len(receiver.requests) == deliveries.MAX_ATTEMPTS == 8
    delivery = deliveries.get_delivery(delivery_id)
    assert delivery["status"] == "failed" and delivery["last_status_code"] == 503 and delivery["next_attempt_at"] is None
    total_wait = delivery["failed_at"] - T0
    assert sum(deliveries.SCHEDULE, timedelta()) * 0.8 <= total_wait <= sum(deliveries.SCHEDULE, timedelta()) * 1.2
    [dead] = deliveries.dead_letters()
    assert (dead["delivery_id"], dead["url"], dead["attempts"], dead["last_error"]) == (
        delivery_id, receiver.url(), 8, "HTTP 503")
    assert endpoints.get_endpoint(endpoint["endpoint_id"])["consecutive_failures"] == 1

    # replay needs ADMIN: a MEMBER is refused and the refusal audited
    with pytest.raises(PermissionDenied):
        commands.replay(Actor("mia@vendor.dev", "MEMBER"), delivery_id)
    answer["status"] = 200
    replay_at = T0 + timedelta(days=3)
    commands.replay(ADMIN, delivery_id, now=replay_at)
    assert deliveries.dead_letters() == []
    run = deliveries.deliver_due(now=replay_at)
    assert (run.attempted, run.delivered) == (1, 1)
    assert receiver.requests[-1].status == 200
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1   # the replay is the same message
    assert receiver.requests[-1].body == receiver.requests[0].body
    last = deliveries.attempts(delivery_id)[-1]
    assert (last["round"], last["attempt"], last["outcome"]) == (1, 1, "delivered")
    assert endpoints.get_endpoint(endpoint["endpoint_id"])["consecutive_failures"] == 0
    with pytest.raises(ValueError, match="is delivered, not in the dead-letter list"):
        commands.replay(ADMIN, delivery_id)
    with state.engine().connect() as conn:
        audit = conn.execute(text("select actor, outcome from app.audit_log where action = 'webhook.replay' "
                                  "order by audit_id")).all()
    assert [tuple(row) for row in audit] == [("mia@vendor.dev", "refused"), (ADMIN.email, "ok")]
    print(f"\n[R17] retries exhausted after 8 attempts over {total_wait}; dead letters: 1; replay delivered")


def test_410_gone_disables_the_endpoint_at_once(receiver_factory):
    gone = receiver_factory(lambda r: (410, {}))
    endpoint = commands.register_endpoint(ADMIN, gone.url(), ["deal.created"])
    first, second = (deliveries.enqueue("deal.created", {"deal_id": n}, f"deal.created:{n}", now=T0)[0] for n in (1, 2))

    run = deliveries.deliver_due(now=T0)

    assert len(gone.requests) == 1                       # the second delivery is not even tried
    assert run.endpoints_disabled == [endpoint["endpoint_id"]] and run.skipped_disabled == 1
    state_of = endpoints.get_endpoint(endpoint["endpoint_id"])
    assert not state_of["enabled"] and "410" in state_of["disabled_reason"]
    assert {d["delivery_id"] for d in deliveries.dead_letters()} == {first, second}
    assert deliveries.enqueue("deal.created", {"deal_id": 3}, "deal.created:3", now=T0) == []   # no fan-out to it
    with state.engine().connect() as conn:
        actor = conn.execute(text("select actor from app.audit_log where action = 'webhook.disable' "
                                  "order by audit_id desc limit 1")).scalar()
    assert actor == "system:webhook-deliverer"
    # a person re-enables it and replays the dead letters
    with pytest.raises(ValueError, match="disabled; enable it first"):
        commands.replay(ADMIN, second)
    commands.enable_endpoint(ADMIN, endpoint["endpoint_id"])
    commands.replay(ADMIN, second, now=T0)
    assert deliveries.get_delivery(second)["status"] == "pending"


def test_consecutive_failed_deliveries_disable_the_endpoint(receiver_factory):
    down = receiver_factory(lambda r: (500, {}))
    endpoint = commands.register_endpoint(ADMIN, down.url(), ["signal.received"])
    for n in range(deliveries.DISABLE_AFTER + 2):
        deliveries.enqueue("signal.received", {"n": n}, f"signal:{n}", now=T0 + timedelta(seconds=n))

    run_until_idle(T0, random.Random(5))

    state_of = endpoints.get_endpoint(endpoint["endpoint_id"])
    assert not state_of["enabled"]
    assert state_of["disabled_reason"] == f"{deliveries.DISABLE_AFTER} deliveries in a row failed after every retry"
    assert len(deliveries.dead_letters(endpoint["endpoint_id"])) == deliveries.DISABLE_AFTER + 2


def test_retry_after_is_honoured_on_429(receiver_factory):
    throttled = receiver_factory(lambda r: (429, {"Retry-After": "600"}))
    commands.register_endpoint(ADMIN, throttled.url(), ["deal.created"])
    [delivery_id] = deliveries.enqueue("deal.created", {"deal_id": 9}, "deal.created:9", now=T0)
    deliveries.deliver_due(now=T0)
    assert deliveries.get_delivery(delivery_id)["next_attempt_at"] == T0 + timedelta(seconds=600)  # not the 5 s retry
