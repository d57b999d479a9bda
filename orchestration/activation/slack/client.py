"""Where alerts go: Slack's Web API through slack-sdk, or, with no bot token, a local sink.

Both transports have the same three calls: `channel_id(channel)`, `post(channel_id, message, key)`
(returns the message's ts) and `find(channel_id, key, oldest)` (the ts of a message already
posted under `key`, or None), which is how `alerts.deliver` stays exactly-once across a crash.

Slack: one `WebClient` per (token, base URL), built at run time. Its only retry handler is a
`RateLimitErrorRetryHandler`: a 429 waits `Retry-After` and tries again, inside the call, while
this process holds the channel's lock, so messages to one channel leave in order. Connection
errors are *not* retried here: a post whose answer was lost may have landed, and only `find`
can tell; the outbox's next attempt does that.
"""

from __future__ import annotations

import json
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Optional

from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from orchestration.activation.outbox import PermanentError

# 429s on one call before it fails (the outbox then backs off and calls again)
RATE_LIMIT_RETRIES = 5
# a Retry-After longer than this is not slept through in-process; the call fails and the outbox retries later
MAX_RETRY_AFTER_SECONDS = 120
HISTORY_PAGE = 200
HTTP_TIMEOUT_SECONDS = 30
METADATA_EVENT = "devsignal_alert"

_channel_locks: dict[str, threading.Lock] = {}
_channel_locks_guard = threading.Lock()


def channel_lock(channel: str) -> threading.Lock:
    """One lock per channel in this process: posts to a channel go one at a time, in call order."""
    with _channel_locks_guard:
        return _channel_locks.setdefault(channel, threading.Lock())


class SlackError(PermanentError):
    """Slack refused a call for a reason retrying will not fix (unknown channel, bad token)."""


class BoundedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack-sdk's 429 handler (sleeps Retry-After + up to 1 s of jitter), but not for absurd waits."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        values = [v for k, v in response.headers.items() if k.lower() == "retry-after"]
        try:
            return not values or int(values[0][0] if isinstance(values[0], list) else values[0]) <= MAX_RETRY_AFTER_SECONDS
        except ValueError:
            return True


@lru_cache(maxsize=4)
def web_client(token: str, base_url: str):
    from slack_sdk import WebClient

    if not base_url.endswith("/"):
        base_url += "/"
    return WebClient(token=token, base_url=base_url, timeout=HTTP_TIMEOUT_SECONDS,
                     retry_handlers=[BoundedRateLimitRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)])


def _looks_like_channel_id(channel: str) -> bool:
    return len(channel) >= 9 and channel[0] in "CGD" and channel.isalnum() and channel.isupper()


class SlackTransport:
    kind = "slack"

    def __init__(self, client):
        self.client = client
        self._ids: dict[str, str] = {}

    def channel_id(self, channel: str) -> str:
        """Slack wants ids for history; names (`#alerts`, `alerts`) are looked up once per process."""
        channel = channel.strip()
        if _looks_like_channel_id(channel):
            return channel
        name = channel.lstrip("#")
        if name not in self._ids:
            cursor = None
            while True:
                page = self.client.conversations_list(types="public_channel,private_channel", limit=1000,
                                                      exclude_archived=True, cursor=cursor)
                for found in page["channels"]:
                    self._ids.setdefault(found["name"], found["id"])
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if name in self._ids or not cursor:
                    break
        if name not in self._ids:
            raise SlackError(f"Slack channel #{name} not found (or the bot cannot see it: invite it, "
                             f"and give it the channels:read scope)")
        return self._ids[name]

    def post(self, channel_id: str, message: dict, idempotency_key: str) -> str:
        from slack_sdk.errors import SlackApiError

        with channel_lock(channel_id):
            try:
                answer = self.client.chat_postMessage(
                    channel=channel_id, text=message["text"], blocks=message["blocks"] or None,
                    unfurl_links=False, unfurl_media=False,
                    metadata={"event_type": METADATA_EVENT, "event_payload": {"idempotency_key": idempotency_key}})
            except SlackApiError as error:
                if error.response.status_code == 429:
                    raise  # still limited after the retries: transient, the outbox backs off
                raise SlackError(f"Slack refused chat.postMessage to {channel_id}: {error.response.get('error')}") from None
        return answer["ts"]

    def find(self, channel_id: str, idempotency_key: str, oldest: float) -> Optional[str]:
        cursor = None
        while True:
            page = self.client.conversations_history(channel=channel_id, oldest=f"{oldest:.6f}", limit=HISTORY_PAGE,
                                                     include_all_metadata=True, cursor=cursor)
            for message in page["messages"]:
                metadata = message.get("metadata") or {}
                if (metadata.get("event_type") == METADATA_EVENT
                        and (metadata.get("event_payload") or {}).get("idempotency_key") == idempotency_key):
                    return message["ts"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                return None


class SinkTransport:
    """No token: each alert is a JSON line in the sink file plus one short console line."""

    kind = "sink"

    def __init__(self, path: Path):
        self.path = path

    def channel_id(self, channel: str) -> str:
        return channel.strip() if channel.strip().startswith(("#", "C", "G", "D")) else "#" + channel.strip()

    def post(self, channel_id: str, message: dict, idempotency_key: str) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with channel_lock("sink:" + channel_id):
            ts = f"{time.time():.6f}"
            line = {"ts": ts, "channel": channel_id, "idempotency_key": idempotency_key, **message}
            with self.path.open("a", encoding="utf-8") as sink:
                sink.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
                sink.flush()
        print(f"[slack → {channel_id}] {message['text']}  ({self.path})", flush=True)
        return ts

    def find(self, channel_id: str, idempotency_key: str, oldest: float) -> Optional[str]:
        if not self.path.exists():
            return None
        with self.path.open(encoding="utf-8") as sink:
            for raw in sink:
                try:
                    line = json.loads(raw)
                except ValueError:
                    continue  # a line cut short by a crash mid-write was never a delivered alert
                if line.get("idempotency_key") == idempotency_key and line.get("channel") == channel_id:
                    return line["ts"]
        return None


def sink_path() -> Path:
    from devsignal import settings

    configured = settings.get("DEVSIGNAL_SLACK_SINK_FILE")
    return Path(configured) if configured else settings.home() / "sinks" / "slack.jsonl"


def transport() -> SlackTransport | SinkTransport:
    """Slack when DEVSIGNAL_SLACK_BOT_TOKEN is set, else the local sink (settings read now)."""
    from devsignal import settings

    token = settings.get("DEVSIGNAL_SLACK_BOT_TOKEN")
    if not token:
        return SinkTransport(sink_path())
    return _slack_transport(token, settings.get("DEVSIGNAL_SLACK_API_URL"))


@lru_cache(maxsize=4)
def _slack_transport(token: str, base_url: str) -> SlackTransport:
    return SlackTransport(web_client(token, base_url))


def reply(response_url: str, body: dict) -> int:
    """Answer an interaction through its `response_url` (Slack: up to 5 answers within 30 minutes)."""
    from slack_sdk.webhook import WebhookClient

    return WebhookClient(response_url, timeout=HTTP_TIMEOUT_SECONDS).send_dict(body).status_code
