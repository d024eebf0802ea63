"""Outbound webhooks on item events (`[api.webhooks.<key>]`): enqueued from the audit trail,
POSTed signed, retried with backoff, delivered once.

Each worker runs `run_webhooks` on its schedule (dangol.jobs). It first enqueues the item events
recorded since the newest one in the outbox (less `LATE_COMMIT`, for transactions that committed
after a later one; at most `webhook_catch_up_hours` back): one row per event and subscription
(storage.webhooks.enqueue, unique). Then it sends the due rows one at a time: claimed and committed,
POSTed with no transaction open, and the outcome written. A receiver that fails (an error, a
timeout, any answer but 2xx) is tried again after an exponential backoff with jitter, and given up
after `webhook_max_attempts` (audited as `webhook.given_up`). A row marked delivered is never sent
again; a worker that dies between the POST and writing the outcome leaves the row to be sent again
once its hold runs out, which is why each request carries the event id for the receiver to
deduplicate on.

The payload names the event and the item, with the item's link (dangol.core.links), and nothing
about the customer: a receiver looks the item up through the API with its own token, where
permissions and erasure apply.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol.core.errors import ConfigError
from dangol.core.links import item_url
from dangol.core.settings import ApiSettings, Settings, WebhookSubscription
from dangol.core.types import utcnow
from dangol.core.webhooks import backoff_seconds, sign
from reports.notify import masked_url
from storage import audit
from storage.engine import session_scope
from storage.models import WebhookOutbox
from storage.webhooks import ItemEvent, claim_next, enqueue, enqueued, finish, item_events, newest_enqueued

log = logging.getLogger(__name__)
# An event whose transaction committed up to this long after a newer one's is still enqueued.
LATE_COMMIT = timedelta(minutes=10)
USER_AGENT = "Dangol-Webhooks/1"


@dataclass(slots=True)
class WebhookRun:
    """What one run did: events enqueued (rows), sent, failed (to retry), given up."""

    enqueued: int = 0
    delivered: int = 0
    failed: int = 0
    given_up: int = 0


def run_webhooks(
    settings: Settings, engine: Engine, *, now: datetime | None = None, transport: httpx.BaseTransport | None = None
) -> WebhookRun:
    """Enqueue new item events for the enabled subscriptions, then send what is due."""
    subscriptions = {key: sub for key, sub in sorted(settings.api.webhooks.items()) if sub.enabled}
    if not subscriptions:
        return WebhookRun()
    run = WebhookRun(enqueued=enqueue_item_events(settings, engine, subscriptions, now=now))
    deliver_webhooks(settings.api, engine, subscriptions, run=run, now=now, transport=transport)
    return run


def enqueue_item_events(
    settings: Settings, engine: Engine, subscriptions: dict[str, WebhookSubscription], *, now: datetime | None = None
) -> int:
    """Add the new item events to the outbox for each subscription that asks for their type;
    returns how many rows this call added (none for those another worker added first)."""
    at = now or utcnow()
    added = 0
    with session_scope(engine) as session:
        since = at - timedelta(hours=settings.api.webhook_catch_up_hours)
        newest = newest_enqueued(session=session)
        if newest is not None:
            since = max(since, newest - LATE_COMMIT)
        events = item_events(session=session, since=since)
        done = enqueued(session=session, event_ids=[e.event_id for e in events])
        # Events by id and subscriptions by key: two workers insert in one order and cannot deadlock.
        for event in events:
            for key, subscription in subscriptions.items():
                if event.event_type in subscription.events and (key, event.event_id) not in done:
                    row = payload(event, settings.dashboard.base_url)
                    added += enqueue(session=session, subscription=key, event=event, payload=row, now=at)
    return added


def payload(event: ItemEvent, base_url: str) -> dict[str, Any]:
    """What a receiver gets: the event's id, type and time, and the item's id and link. Nothing
    about the customer (privacy by design: an erased person is never in a queued payload)."""
    return {
        "id": event_id(event.event_id),
        "type": event.event_type,
        "occurred_at": event.at.isoformat(),
        "item": {"id": event.item_id, "url": item_url(base_url, event.item_id)},
    }


def event_id(audit_id: int) -> str:
    """The event's id as receivers see it (the audit event it was read from)."""
    return f"evt_{audit_id}"


def deliver_webhooks(
    api: ApiSettings,
    engine: Engine,
    subscriptions: dict[str, WebhookSubscription],
    *,
    run: WebhookRun,
    now: datetime | None = None,
    transport: httpx.BaseTransport | None = None,
) -> None:
    """Send the due rows of the subscriptions whose secret is set, one at a time, at most `webhook_batch`."""
    keys = _signable(subscriptions)
    worker = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
    # Held long enough for the POST to end (httpx's timeout is per read, not in all) before
    # another worker may take the row again.
    hold = timedelta(seconds=3 * api.webhook_timeout_seconds + 60)
    for _ in range(api.webhook_batch):
        at = now or utcnow()
        with session_scope(engine) as session:
            row = claim_next(session=session, now=at, worker=worker, hold_until=at + hold, subscriptions=list(keys))
        if row is None:
            return
        status, error = send(row, subscriptions[row.subscription], keys[row.subscription], api.webhook_timeout_seconds,
                             transport=transport)  # fmt: skip
        with session_scope(engine) as session:
            outcome = _record(row, worker, status, error, api=api, now=at, session=session)
        setattr(run, outcome, getattr(run, outcome) + 1)


def _signable(subscriptions: dict[str, WebhookSubscription]) -> dict[str, str]:
    """Subscription key → its signing secret, for those whose secret is set; the others' rows wait."""
    keys: dict[str, str] = {}
    for key, subscription in subscriptions.items():
        try:
            keys[key] = subscription.secret()
        except ConfigError as exc:
            log.error("webhook %s: nothing sent: %s", key, exc)
    return keys


def send(
    row: WebhookOutbox,
    subscription: WebhookSubscription,
    secret: str,
    timeout: float,
    *,
    transport: httpx.BaseTransport | None = None,
) -> tuple[int | None, str | None]:
    """POST the row's payload, signed; (the HTTP status or None, the error or None when delivered).
    Redirects are not followed: the signed event goes to the configured URL or nowhere."""
    body = json.dumps(row.payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(time.time())  # the sending time, not the event's: receivers refuse stale requests
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Dangol-Event-Id": event_id(row.event_id),
        "Dangol-Event-Type": row.event_type,
        "Dangol-Timestamp": str(timestamp),
        "Dangol-Signature": sign(secret, timestamp, body),
    }
    shown = masked_url(subscription.url)
    try:
        with httpx.Client(transport=transport, timeout=timeout, follow_redirects=False) as client:
            response = client.post(subscription.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"webhook {shown} could not be reached: {type(exc).__name__}"
    if response.is_success:
        return response.status_code, None
    return response.status_code, f"webhook {shown} answered {response.status_code}: {response.text[:200]}"


def _record(
    row: WebhookOutbox,
    worker: str,
    status: int | None,
    error: str | None,
    *,
    api: ApiSettings,
    now: datetime,
    session: Session,
) -> str:
    """Write one attempt's outcome; returns the WebhookRun field it counts in."""
    row_id = row.id or 0
    if error is None:
        finish(session=session, row_id=row_id, worker=worker, delivered_at=now, last_status=status, last_error=None)
        return "delivered"
    log.warning("webhook %s: event %s not delivered (attempt %d): %s", row.subscription, row.event_id,
                row.attempts + 1, error)  # fmt: skip
    attempts = row.attempts + 1
    if attempts >= api.webhook_max_attempts:
        if finish(session=session, row_id=row_id, worker=worker, given_up_at=now, last_status=status, last_error=error):
            audit.record(
                session, actor="system:webhooks", action="webhook.given_up", entity_type="webhook_outbox",
                entity_id=row_id, after={"subscription": row.subscription, "event_id": row.event_id,
                                         "attempts": attempts, "error": error}, at=now,
            )  # fmt: skip
        return "given_up"
    wait = backoff_seconds(attempts, base=api.webhook_backoff_seconds, cap=api.webhook_backoff_max_seconds)
    retry_at = now + timedelta(seconds=wait)
    finish(session=session, row_id=row_id, worker=worker, not_before=retry_at, last_status=status, last_error=error)
    return "failed"
