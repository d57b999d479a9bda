"""RELIABILITY 19, outbound: many messages to one channel against 429 + Retry-After are each
delivered once, in order, after waiting at least Retry-After; and a process killed (-9) after
Slack took a message but before we recorded it does not post it twice when retried."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from devsignal import settings
from ingestion.sandbox.slack import channel_id_for
from orchestration.activation.slack import deliver

from .conftest import BOT_TOKEN, sql, wait_for

MESSAGES = 300
RETRY_AFTER = 1
LIMITED_EVERY = 60  # every 60th post is answered 429: 5 rate-limit stops over the run


def test_300_messages_with_429s_arrive_once_in_order_after_retry_after(slack_env):
    slack_env.add_fault("chat.postMessage", status=429, retry_after=RETRY_AFTER, every=LIMITED_EVERY, channel="bulk")
    started = time.monotonic()
    for n in range(MESSAGES):
        result = deliver({"type": "message", "channel": "#bulk", "text": f"message {n}"}, f"bulk-{n}")
        assert "ts" in result
    elapsed = time.monotonic() - started
    received = [m["text"] for m in slack_env.messages("bulk")]
    assert received == [f"message {n}" for n in range(MESSAGES)]  # each once, in order
    calls = [c for c in slack_env.calls("chat.postMessage") if c["channel"] == channel_id_for("bulk")]
    limited = [i for i, c in enumerate(calls) if c["status"] == 429]
    waits = [calls[i + 1]["at"] - calls[i]["at"] for i in limited]
    print(f"\n{MESSAGES} messages in {elapsed:.1f} s; {len(limited)} answered 429 (Retry-After {RETRY_AFTER} s); "
          f"waits {', '.join(f'{w:.2f}' for w in waits)} s; duplicates 0")
    assert len(limited) == (MESSAGES + len(limited)) // LIMITED_EVERY
    assert all(calls[i + 1]["status"] == 200 for i in limited)
    assert min(waits) >= RETRY_AFTER
    assert sql("select count(*) as n from app.slack_alerts_sent where idempotency_key like 'bulk-%' and status = 'sent'") == [
        {"n": MESSAGES}]


CRASHING_SENDER = """
import sys
from orchestration.activation.slack import deliver
print(deliver({"type": "message", "channel": "#crash", "text": "sent once"}, "crash-key"), flush=True)
"""


def test_kill_9_between_slacks_200_and_our_record_does_not_post_twice(slack_env, slack_database):
    # Slack takes the message (the fake records it) and then the answer never comes in time: the
    # sender is killed while it waits, after Slack has the message and before our commit
    slack_env.add_fault("chat.postMessage", stall=60, channel="crash")
    env = {**os.environ, "DEVSIGNAL_DATABASE_URL": slack_database, "DEVSIGNAL_SLACK_BOT_TOKEN": BOT_TOKEN,
           "DEVSIGNAL_SLACK_API_URL": slack_env.api_url}
    sender = subprocess.Popen([sys.executable, "-c", CRASHING_SENDER], cwd=settings.REPO_ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: slack_env.messages("crash"), timeout=60)
        os.kill(sender.pid, signal.SIGKILL)
        sender.wait(timeout=10)
    finally:
        if sender.poll() is None:
            sender.kill()
    assert sender.returncode == -signal.SIGKILL
    assert sql("select status from app.slack_alerts_sent where idempotency_key = 'crash-key'") == [{"status": "posting"}]
    slack_env.release_stalls()
    posted = slack_env.messages("crash")[0]

    retried = deliver({"type": "message", "channel": "#crash", "text": "sent once"}, "crash-key")
    assert retried == {"channel": channel_id_for("crash"), "ts": posted["ts"]}
    assert len(slack_env.messages("crash")) == 1
    assert [c["status"] for c in slack_env.calls("conversations.history")] == [200]  # it looked before posting
    assert sql("select status, ts from app.slack_alerts_sent where idempotency_key = 'crash-key'") == [
        {"status": "sent", "ts": posted["ts"]}]
    assert sql("select detail from app.audit_log where action = 'slack.alert.sent' and entity_id = 'crash-key'") == [
        {"detail": "found in the channel after a crashed attempt; not posted again"}]


def test_a_long_retry_after_fails_the_call_and_the_next_attempt_posts_once(slack_env):
    from slack_sdk.errors import SlackApiError

    from orchestration.activation.slack import client

    slack_env.add_fault("chat.postMessage", status=429, retry_after=client.MAX_RETRY_AFTER_SECONDS + 1, channel="ops")
    started = time.monotonic()
    try:
        deliver({"type": "message", "channel": "#ops", "text": "later"}, "long-wait")
        raise AssertionError("a 429 with a long Retry-After should fail the call")
    except SlackApiError as error:
        assert error.response.status_code == 429
    assert time.monotonic() - started < 5  # not slept through in-process: the outbox backs off instead
    assert slack_env.messages("ops") == []
    # the outbox's next attempt: the key is 'posting', history has nothing, so it posts (once)
    result = deliver({"type": "message", "channel": "#ops", "text": "later"}, "long-wait")
    assert [m["ts"] for m in slack_env.messages("ops")] == [result["ts"]]
    assert len(slack_env.calls("conversations.history")) == 1


def test_one_key_delivered_from_many_threads_at_once_posts_once(slack_env):
    from concurrent.futures import ThreadPoolExecutor

    alert = {"type": "message", "channel": "#ops", "text": "race"}
    with ThreadPoolExecutor(max_workers=6) as workers:
        results = list(workers.map(lambda _: deliver(alert, "race-key"), range(6)))
    assert len(slack_env.messages("ops")) == 1
    assert {r["ts"] for r in results} == {slack_env.messages("ops")[0]["ts"]}
