"""The intake API's settings and limits, in one place.

Settings are read when a request needs them (never at import), so a test or an operator can
change them without restarting anything but the process.
"""

from __future__ import annotations

WRITE_KEYS_SETTING = "DEVSIGNAL_SEGMENT_WRITE_KEYS"
WEBHOOK_SECRET_SETTING = "DEVSIGNAL_SEGMENT_WEBHOOK_SECRET"

# Segment's HTTP Tracking API limits (segment-docs http-api): 32 KB per call; /batch at most
# 500 KB and 2,500 calls. The same numbers as the official clients (analytics-python: 32 << 10).
MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_EVENTS = 2_500
# deeper JSON is refused: nothing real nests this far, and every reader downstream recurses
MAX_JSON_DEPTH = 64
MAX_MESSAGE_ID_CHARS = 255

# Database connections the API holds (and requests that may use one at once); more requests
# wait in the event loop instead of queueing inside the pool.
POOL_SIZE = 4
# a request that cannot get a connection in this time answers 503 (clients retry)
POOL_TIMEOUT_SECONDS = 10
CONNECT_TIMEOUT_SECONDS = 5


def setting(name: str) -> str:
    """A DevSignal setting, read now."""
    from devsignal import settings

    return settings.get(name)


def write_keys() -> list[str]:
    return [key.strip() for key in setting(WRITE_KEYS_SETTING).split(",") if key.strip()]


def webhook_secret() -> str:
    return setting(WEBHOOK_SECRET_SETTING)
