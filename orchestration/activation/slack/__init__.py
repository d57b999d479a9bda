"""Slack for DevSignal: Block Kit alerts out (`deliver`, the outbox's handler), button clicks in
(`interactions.process_pending`, for a Dagster sensor; the route is `apps/api/slack.py`)."""

from .alerts import ALERT_TYPES, AlertError, deliver
from .interactions import process_pending

__all__ = ["ALERT_TYPES", "AlertError", "deliver", "process_pending"]
