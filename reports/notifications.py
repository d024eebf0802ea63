"""Sending staff notifications by e-mail and personal webhook (the inbox needs no sending).

Each worker runs `deliver_notifications` on its schedule (dangol.jobs). A delivery is claimed
with FOR UPDATE SKIP LOCKED and marked sent in the transaction that holds it
(storage.notifications.claim_delivery), so of several workers exactly one sends it. The sending
code is the alerts' own (reports.notify: its TLS rules, Slack escaping, masked webhook errors);
links come from dangol.core.links. A send that fails is retried later, up to
`[notifications] max_attempts`; one that falls in the recipient's quiet hours waits until they end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol.core.errors import ActionError, ConfigError, SendError
from dangol.core.links import item_url, page_url, scope_url
from dangol.core.notifications import KINDS, channels_for, quiet_until
from dangol.core.settings import Settings
from dangol.core.types import utcnow
from reports.notify import post_webhook, send_email
from storage.engine import session_scope
from storage.models import Alert, Notification
from storage.notifications import Claimed, claim_delivery

log = logging.getLogger(__name__)
Webhook = Callable[[str, str], None]
Mailer = Callable[..., None]


@dataclass(slots=True)
class DeliveryRun:
    """What one run did: sent, held back by quiet hours, failed (to retry), given up."""

    sent: int = 0
    deferred: int = 0
    failed: int = 0
    given_up: int = 0


def message(notification: Notification, *, session: Session, settings: Settings) -> str:
    """The notification's text with a link to what it is about (the item, the alert's scope, else the inbox)."""
    base = settings.dashboard.base_url
    link = page_url(base, "inbox")
    if notification.item_id is not None:
        link = item_url(base, notification.item_id)
    elif notification.alert_id is not None and (alert := session.get(Alert, notification.alert_id)) is not None:
        link = scope_url(base, alert.scope)
    return f"[{settings.brand.name}] {notification.text}\n{link}"


def deliver_notifications(
    settings: Settings,
    engine: Engine,
    *,
    now: datetime | None = None,
    webhook: Webhook = post_webhook,
    mailer: Mailer = send_email,
) -> DeliveryRun:
    """Send the deliveries due now, one transaction each, at most `deliver_batch` of them."""
    run = DeliveryRun()
    for _ in range(settings.notifications.deliver_batch):
        with session_scope(engine) as session:
            at = now or utcnow()
            claimed = claim_delivery(session=session, now=at)
            if claimed is None:
                break
            outcome = _deliver(claimed, session=session, settings=settings, now=at, webhook=webhook, mailer=mailer)
        setattr(run, outcome, getattr(run, outcome) + 1)
    return run


def _deliver(
    claimed: Claimed, *, session: Session, settings: Settings, now: datetime, webhook: Webhook, mailer: Mailer
) -> str:
    delivery, notification, person = claimed.delivery, claimed.notification, claimed.recipient
    cfg = settings.notifications
    target = person.email if delivery.channel == "email" else person.webhook_url
    if not person.active or not target or delivery.channel not in channels_for(person, notification.kind):
        # Deactivated, or the address or the kind was taken off this channel since: preferences
        # are read again at sending, so a change applies to what is still waiting.
        delivery.given_up_at = now
        delivery.last_error = "account deactivated" if not person.active else "channel turned off by its owner"
        return "given_up"
    try:
        until = quiet_until(now, person.quiet_start, person.quiet_end, person.timezone or settings.brand.timezone)
    except ActionError as exc:  # a bad stored zone must not hold the queue back; send now and say so
        log.warning("notification %s: quiet hours of %s ignored: %s", notification.id, person.username, exc)
        until = None
    if until is not None:
        delivery.not_before = until
        return "deferred"
    text = message(notification, session=session, settings=settings)
    try:
        if delivery.channel == "webhook":
            webhook(target, text)
        else:
            subject = f"[{settings.brand.name}] {KINDS.get(notification.kind, notification.kind)}"
            mailer(settings.reports, subject=subject, text=text, to=[target])
    except (SendError, ConfigError) as exc:
        delivery.attempts += 1
        delivery.last_error = str(exc)[:500]
        log.warning("notification %s not delivered by %s: %s", notification.id, delivery.channel, exc)
        if delivery.attempts >= cfg.max_attempts:
            delivery.given_up_at = now
            return "given_up"
        delivery.not_before = now + timedelta(minutes=cfg.retry_minutes * delivery.attempts)
        return "failed"
    delivery.attempts += 1
    delivery.delivered_at = now
    return "sent"
