"""Outbound webhooks on item events: the event types, how an audit event maps to one, the
signature and the retry delay. Pure functions; the outbox is `storage.webhooks`, sending is
`reports.webhooks`.

Every staff and router action on a queue item already writes one audit event (`storage.audit`),
so the audit trail is the one place item events are read from: no action sends anything itself.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Mapping
from typing import Any

from dangol.core.statuses import DONE_STATUSES, REOPENED_TO

# The item events a subscription may ask for, with what each means.
EVENT_TYPES: dict[str, str] = {
    "item.created": "a post (or cluster) was queued as a new item",
    "item.claimed": "a staff member took the item for themselves",
    "item.assigned": "the item was given to someone (by a colleague or the auto-assigner)",
    "item.replied": "a reply to the item was sent",
    "item.approval_requested": "a reply to the item waits for approval",
    "item.approved": "a reply waiting for approval was approved",
    "item.returned": "a reply waiting for approval was returned to its author",
    "item.closed": "the item was closed",
    "item.reopened": "a replied or closed item is open again (the customer wrote again, or staff reopened it)",
    "item.label_corrected": "staff corrected the sentiment or topic of the item's post",
}
# Audit actions that are one event type each, whatever their values.
ACTION_EVENTS: dict[str, str] = {
    "queue.create": "item.created",
    "queue.claim": "item.claimed",
    "queue.assign": "item.assigned",
    "queue.auto_assign": "item.assigned",
    "queue.replied": "item.replied",
    "reply.approve": "item.approved",
    "reply.reject": "item.returned",
    "queue.closed": "item.closed",
    "queue.label": "item.label_corrected",
}
SIGNATURE_VERSION = "v1"


def event_type(action: str, entity_type: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> str | None:
    """The item event an audit event is, or None when it is none (a note, a tag, an SLA breach…)."""
    if entity_type == "queue_item" and before.get("status") in DONE_STATUSES and after.get("status") in REOPENED_TO:
        return "item.reopened"
    if action == "reply.submit":
        # A reply sent at once is item.replied when it goes out; only one held for review is news here.
        return "item.approval_requested" if after.get("status") == "pending_approval" else None
    return ACTION_EVENTS.get(action)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=<hex>`: HMAC-SHA256 with the subscription's secret over `<timestamp>.<body>` (docs/api.md
    shows a receiver checking it). The timestamp is signed so a captured request cannot be replayed
    later with a fresh header."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def backoff_seconds(attempts: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """How long to wait after the `attempts`-th failed try: base × 2^(attempts-1), at most `cap`,
    of which a random half ("equal jitter"), so receivers that came back are not hit by every
    waiting event at the same second."""
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
