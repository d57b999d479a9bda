"""The rows workflows queue are ones the Slack and webhook handlers accept: drained through them
(Slack into its local sink, webhooks into deliveries for a subscribed endpoint), once each."""

from __future__ import annotations

import json

from apps import state
from apps.state import Actor
from apps.state import webhooks as webhook_endpoints
from apps.state import workflows as workflow_state
from orchestration.activation import outbox
from orchestration.activation.workflows import default_event_type, events_since, plan

from .conftest import ADMIN, add_account, add_signal, drain_workflows, outbox_rows, runs, sql

OWNER = Actor("owner@vendor.dev", "OWNER")


def test_slack_messages_failure_alerts_and_webhooks_are_delivered_once(tmp_path, monkeypatch):
    sink = tmp_path / "slack.jsonl"
    monkeypatch.setenv("DEVSIGNAL_SLACK_SINK_FILE", str(sink))
    monkeypatch.delenv("DEVSIGNAL_SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("DEVSIGNAL_WEBHOOK_ALLOW_PRIVATE", "127.0.0.0/8")
    webhook_endpoints.register_endpoint(OWNER, "http://127.0.0.1:9/hook", ["deal.qualified"])
    add_account()
    add_signal()
    workflow_state.create_workflow(ADMIN, {
        "name": "notify then fail", "trigger": "signal_received",
        "actions": [{"type": "send_slack", "params": {"message": "signup at {accountDomain}", "channel": "#growth"}},
                    {"type": "send_webhook", "params": {"eventType": "deal.qualified"}},
                    {"type": "update_deal_stage", "params": {"dealId": 424242, "stage": "ACTIVATED"}}]})
    with state.engine().begin() as connection:
        events, _ = events_since(connection, "signal_received", None)
        plan(connection, "signal_received", events)
    drain_workflows()
    assert runs()[0]["status"] == "FAILED"
    for _ in range(2):   # a second drain finds nothing to send again
        summary = outbox.drain(kinds=("slack", "webhook"))
        assert not summary["errors"], summary["errors"]
    assert {row["kind"]: row["status"] for row in outbox_rows()} == {
        "workflow_action": "done", "slack": "done", "webhook": "done"}
    lines = [json.loads(line) for line in sink.read_text().splitlines()]
    assert len(lines) == 2
    text = json.dumps(lines)
    assert "signup at acme.dev" in text and "notify then fail" in text and "424242" in text
    deliveries = sql("select event_type, body from app.webhook_deliveries")
    assert len(deliveries) == 1 and deliveries[0]["event_type"] == "deal.qualified"


def test_the_default_webhook_event_type_is_one_the_webhooks_module_accepts():
    from orchestration.activation.webhooks import endpoints

    for name in ("HOT account -> deal + Slack", "123 go", "!!!"):
        assert endpoints.check_event_type(default_event_type(name))
