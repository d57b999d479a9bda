"""No bot token: alerts go to the local sink (a JSON-lines file and one console line), exactly
once per key, including after a crash between the write and the record."""

from __future__ import annotations

import json

import pytest

from orchestration.activation.slack import deliver

from .conftest import sql


@pytest.fixture
def sink(slack_database, monkeypatch, tmp_path):
    monkeypatch.delenv("DEVSIGNAL_SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("DEVSIGNAL_SLACK_DEFAULT_CHANNEL", "#devsignal-alerts")
    path = tmp_path / "sinks" / "slack.jsonl"
    monkeypatch.setenv("DEVSIGNAL_SLACK_SINK_FILE", str(path))
    return path


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_without_a_token_alerts_go_to_the_sink_file_and_the_console(sink, capsys):
    # no cool-down: other tests alert on Globex too
    result = deliver({"type": "hot_account", "account_id": "acct-globex"}, "sink-hot-globex", cooldowns={})
    written = lines(sink)
    assert len(written) == 1
    assert written[0]["channel"] == "#devsignal-alerts" and written[0]["ts"] == result["ts"]
    assert written[0]["idempotency_key"] == "sink-hot-globex"
    assert written[0]["blocks"][0]["text"]["text"] == "🔥 HOT account: Globex"
    assert [b["action_id"] for b in written[0]["blocks"][-1]["elements"]][:1] == ["claim"]
    assert "[slack → #devsignal-alerts] 🔥 Globex is HOT: score 84/100" in capsys.readouterr().out
    assert sql("select transport from app.slack_alerts_sent where idempotency_key = 'sink-hot-globex'") == [
        {"transport": "sink"}]


def test_the_sink_is_exactly_once_by_key(sink):
    first = deliver({"type": "message", "channel": "#ops", "text": "hello"}, "sink-once")
    assert deliver({"type": "message", "channel": "#ops", "text": "hello"}, "sink-once") == first
    assert len(lines(sink)) == 1


def test_a_crash_after_the_sink_write_is_not_written_twice(sink):
    deliver({"type": "message", "channel": "#ops", "text": "before the crash"}, "sink-crash")
    # what a kill -9 between the file write and the 'sent' record leaves behind
    sql("update app.slack_alerts_sent set status = 'posting', ts = null where idempotency_key = 'sink-crash'")
    again = deliver({"type": "message", "channel": "#ops", "text": "before the crash"}, "sink-crash")
    assert len(lines(sink)) == 1 and again["ts"] == lines(sink)[0]["ts"]
    assert sql("select status from app.slack_alerts_sent where idempotency_key = 'sink-crash'") == [{"status": "sent"}]


def test_the_default_sink_is_under_devsignal_home(monkeypatch, tmp_path):
    from orchestration.activation.slack import client

    monkeypatch.delenv("DEVSIGNAL_SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("DEVSIGNAL_SLACK_SINK_FILE", raising=False)
    monkeypatch.setenv("DEVSIGNAL_HOME", str(tmp_path))
    out = client.transport()
    assert isinstance(out, client.SinkTransport) and out.path == tmp_path / "sinks" / "slack.jsonl"
