"""Outbound webhooks: Standard Webhooks signatures, retries with jitter, dead letters, SSRF guard.

    deliveries.enqueue("deal.created", {"deal_id": 42}, "deal.created:42")   # -> [delivery ids]
    deliveries.deliver_due()                                                 # send what is due

Endpoints are registered, rotated, disabled and replayed through `apps.state.webhooks` (audited).
See README.md for the rules, the retry schedule and the SSRF policy.
"""

from .deliveries import DeliveryRun, deliver_due, enqueue, next_due_at

__all__ = ["DeliveryRun", "deliver_due", "enqueue", "next_due_at"]
