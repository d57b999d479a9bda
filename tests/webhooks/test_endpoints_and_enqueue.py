"""Endpoint commands (roles, audit, validation), fan-out and its idempotency, and two deliverers
working at once without sending anything twice."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from apps import state
from apps.state import Actor, NotFound, PermissionDenied
from apps.state import webhooks as commands
from orchestration.activation import webhooks
from orchestration.activation.webhooks import deliveries, endpoints

from .conftest import ADMIN

T0 = datetime(2026, 11, 26, 15, 0, tzinfo=timezone.utc)


def test_fan_out_goes_to_enabled_subscribers_only_and_is_idempotent(receiver_factory):
    receiver = receiver_factory()
    deals = commands.register_endpoint(ADMIN, receiver.url("/deals"), ["deal.created", "deal.updated"])
    everything = commands.register_endpoint(ADMIN, receiver.url("/all"), ["*"])
    commands.register_endpoint(ADMIN, receiver.url("/signals"), ["signal.received"])
    off = commands.register_endpoint(ADMIN, receiver.url("/off"), ["deal.created"])
    commands.disable_endpoint(ADMIN, off["endpoint_id"], "receiver retired")

    ids = webhooks.enqueue("deal.created", {"deal_id": 1}, "deal.created:1", now=T0)
    assert len(ids) == 2
    assert webhooks.enqueue("deal.created", {"deal_id": 1}, "deal.created:1", now=T0) == ids   # same key: nothing new
    with state.engine().connect() as conn:
        rows = conn.execute(text("select endpoint_id, message_id from app.webhook_deliveries order by delivery_id")).all()
    assert [row.endpoint_id for row in rows] == [deals["endpoint_id"], everything["endpoint_id"]]
    assert len({row.message_id for row in rows}) == 1      # one event, one webhook-id, at every endpoint

    webhooks.deliver_due(now=T0)
    assert sorted(r.path for r in receiver.requests) == ["/all", "/deals"]
    assert webhooks.enqueue("deal.created", {"deal_id": 1}, "deal.created:1", now=T0) == ids   # still nothing new
    assert webhooks.deliver_due(now=T0).attempted == 0 and len(receiver.requests) == 2


def test_enqueue_joins_the_callers_transaction(receiver_factory):
    commands.register_endpoint(ADMIN, receiver_factory().url(), ["deal.created"])
    with pytest.raises(RuntimeError):
        with state.engine().begin() as conn:
            assert len(webhooks.enqueue("deal.created", {"deal_id": 2}, "deal.created:2", connection=conn)) == 1
            raise RuntimeError("the caller's transaction fails")
    with state.engine().connect() as conn:
        assert conn.execute(text("select count(*) from app.webhook_deliveries")).scalar() == 0


@pytest.mark.parametrize("call, error", [
    (lambda: webhooks.enqueue("Deal Created", {}, "k"), "is not a dotted lower-case name"),
    (lambda: webhooks.enqueue("deal.created", ["not", "a", "dict"], "k"), "payload must be a dict"),
    (lambda: webhooks.enqueue("deal.created", {}, "  "), "non-empty idempotency key"),
    (lambda: webhooks.enqueue("deal.created", {"when": object()}, "k"), "cannot be sent as JSON: object is not"),
    (lambda: webhooks.enqueue("deal.created", {"x": float("nan")}, "k"), "cannot be sent as JSON"),
    (lambda: webhooks.enqueue("deal.created", {"x": "\ud800"}, "k"), "lone surrogate"),
    (lambda: webhooks.enqueue("deal.created", {"x": "a" * 300_000}, "k"), "the limit is 262144"),
    (lambda: webhooks.enqueue("deal.created", {}, "k", now=datetime(2026, 1, 1)), "timezone-aware"),
    (lambda: webhooks.deliver_due(limit=0), "limit must be at least 1"),
])
def test_bad_input_gets_a_specific_error(call, error):
    with pytest.raises((ValueError, TypeError), match=error):
        call()


def test_registration_needs_admin_and_valid_event_types(receiver_factory):
    url = receiver_factory().url()
    with pytest.raises(PermissionDenied, match="webhook.register needs role ADMIN"):
        commands.register_endpoint(Actor("mia@vendor.dev", "MEMBER"), url, ["deal.created"])
    for bad, message in [([], "non-empty list"), ("deal.created", "non-empty list"), (["deal"], "dotted lower-case")]:
        with pytest.raises(ValueError, match=message):
            commands.register_endpoint(ADMIN, url, bad)
    endpoint = commands.register_endpoint(ADMIN, url, ["deal.created", "deal.created", "*"], description="CRM sync")
    assert endpoint["event_types"] == ["deal.created", "*"] and endpoint["created_by"] == ADMIN.email
    with state.engine().connect() as conn:
        audit = conn.execute(text("select actor, outcome from app.audit_log where action = 'webhook.register' "
                                  "order by audit_id")).all()
    assert [tuple(row) for row in audit][-2:] == [("mia@vendor.dev", "refused"), (ADMIN.email, "ok")]


def test_update_vets_the_new_url_and_enable_vets_again(receiver_factory, monkeypatch):
    receiver = receiver_factory()
    endpoint = commands.register_endpoint(ADMIN, receiver.url(), ["deal.created"])
    from orchestration.activation.webhooks import ssrf

    with pytest.raises(ssrf.UnsafeWebhookURL, match="169.254.169.254 is a cloud metadata address"):
        commands.update_endpoint(ADMIN, endpoint["endpoint_id"], url="http://169.254.169.254/")
    updated = commands.update_endpoint(ADMIN, endpoint["endpoint_id"], url=receiver.url("/v2"), event_types=["*"])
    assert (updated["url"], updated["event_types"]) == (receiver.url("/v2"), ["*"]) and "secret" not in updated
    commands.disable_endpoint(ADMIN, endpoint["endpoint_id"], "maintenance")
    monkeypatch.setenv("DEVSIGNAL_WEBHOOK_ALLOW_PRIVATE", "")   # the receiver's range is no longer allowed
    with pytest.raises(ssrf.UnsafeWebhookURL, match="a loopback address"):
        commands.enable_endpoint(ADMIN, endpoint["endpoint_id"])
    assert not endpoints.get_endpoint(endpoint["endpoint_id"])["enabled"]
    with pytest.raises(NotFound):
        commands.enable_endpoint(ADMIN, 999_999)
    with pytest.raises(ValueError, match="needs a reason"):
        commands.disable_endpoint(ADMIN, endpoint["endpoint_id"], " ")


def test_two_deliverers_at_once_never_send_the_same_delivery(receiver_factory):
    def slow_ok(request):
        time.sleep(0.01)
        return 200, {}

    receiver = receiver_factory(slow_ok)
    commands.register_endpoint(ADMIN, receiver.url(), ["signal.received"])
    for n in range(80):
        webhooks.enqueue("signal.received", {"n": n}, f"signal:{n}", now=T0)
    runs: list = []
    workers = [threading.Thread(target=lambda: runs.append(webhooks.deliver_due(now=T0, limit=1000))) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == len(set(ids)) == 80
    assert sorted(run.delivered for run in runs) != [0, 80]          # both workers really worked
    assert sum(run.delivered for run in runs) == 80
    with state.engine().connect() as conn:
        assert conn.execute(text("select count(*) from app.webhook_attempts")).scalar() == 80
    print(f"\n[webhooks] two deliverers: {[run.delivered for run in runs]} deliveries each, 0 duplicates")


def test_list_endpoints_counts_deliveries_per_status(receiver_factory):
    ok = receiver_factory(lambda r: (200, {}))
    down = receiver_factory(lambda r: (500, {}))
    commands.register_endpoint(ADMIN, ok.url(), ["deal.created"])
    commands.register_endpoint(ADMIN, down.url(), ["deal.created"])
    webhooks.enqueue("deal.created", {"deal_id": 5}, "deal.created:5", now=T0)
    webhooks.deliver_due(now=T0)
    listed = {row["url"]: (row["pending"], row["delivered"], row["failed"]) for row in endpoints.list_endpoints()}
    assert listed == {ok.url(): (0, 1, 0), down.url(): (1, 0, 0)}
    assert webhooks.next_due_at() > T0


def test_a_deliverer_killed_mid_request_leaves_the_delivery_pending_and_it_is_sent_again(receiver_factory):
    """kill -9 while the request is in flight: the row lock and the transaction die with the
    process, the delivery is still pending, and the next deliverer sends it with the same webhook-id
    (at least once; the receiver dedupes on the id)."""
    import os
    import signal
    import subprocess
    import sys

    in_flight = threading.Event()

    def hang_first_then_ok(request):
        if not in_flight.is_set():
            in_flight.set()
            time.sleep(5)   # the worker is killed meanwhile
            return 200, {}
        return 200, {}

    receiver = receiver_factory(hang_first_then_ok)
    commands.register_endpoint(ADMIN, receiver.url(), ["deal.created"])
    [delivery_id] = webhooks.enqueue("deal.created", {"deal_id": 11}, "deal.created:11")
    worker = subprocess.Popen([sys.executable, "-c", "from orchestration.activation import webhooks; webhooks.deliver_due()"],
                              env=os.environ.copy())
    try:
        assert in_flight.wait(timeout=60), "the worker never sent the request"
        assert webhooks.deliver_due().attempted == 0          # locked by the worker: skipped, not sent twice
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    deadline = time.monotonic() + 30
    while webhooks.deliver_due().delivered == 0:             # the server notices the dead client, unlocks
        assert time.monotonic() < deadline, "the killed worker's lock was never released"
        time.sleep(0.2)
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert len(receiver.requests) == 2 and len(ids) == 1
    assert deliveries.get_delivery(delivery_id)["status"] == "delivered"
