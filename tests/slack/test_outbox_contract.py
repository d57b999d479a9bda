"""The contract with the outbox (`orchestration/activation/outbox.py`): its `drain()` calls
`deliver(payload, key)`; a bad alert fails at once (PermanentError), a good one is sent once."""

from __future__ import annotations

from orchestration.activation import outbox

from .conftest import sql


def test_drain_sends_slack_rows_once_and_fails_bad_ones_at_once(slack_env):
    from apps import state

    with state.engine().begin() as connection:
        outbox.enqueue(connection, "slack", "contract:ok", {"type": "message", "channel": "#ops", "text": "via the outbox"})
        outbox.enqueue(connection, "slack", "contract:bad", {"type": "hot_account", "account_id": "acct-missing"})
    summary = outbox.drain(kinds=("slack",))
    assert summary["done"] == 1 and summary["failed"] == 1, summary
    assert "has no score" in summary["errors"][0]["error"]
    assert [m["text"] for m in slack_env.messages("ops")] == ["via the outbox"]
    assert outbox.drain(kinds=("slack",))["claimed"] == 0
    assert sql("select status from app.slack_alerts_sent where idempotency_key = 'contract:ok'") == [{"status": "sent"}]
