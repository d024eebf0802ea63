"""What each staff member sets for themselves: their notification channels and quiet hours, their
inbox's read marks, and whether they are available for assignment. Each is an audited action
done by the person on their own row only (the actor is the subject)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlmodel import Session

from dangol.core.errors import ActionError
from dangol.core.notifications import parse_clock, validate_channels, zone
from dangol.core.permissions import require
from dangol.core.types import utcnow
from storage import audit
from storage import notifications as rows
from storage.models import Staff

EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
WEBHOOK = re.compile(r"^https?://[^\s]+$")


def set_preferences(
    *,
    session: Session,
    actor: Staff,
    email: str | None,
    webhook_url: str | None,
    channels: Mapping[str, Iterable[str]] | None = None,
    quiet_start: str | None = None,
    quiet_end: str | None = None,
    timezone: str | None = None,
) -> Staff:
    """Set where the actor's own notifications go: an e-mail address and a personal webhook (blank:
    none), the kinds each channel gets (`channels`; None keeps every kind), and quiet hours
    ("HH:MM" both, or neither) in `timezone` (blank: the brand's)."""
    require(actor, "notifications.self")
    email = (email or "").strip() or None
    webhook_url = (webhook_url or "").strip() or None
    if email is not None and not EMAIL.match(email):
        raise ActionError(f"{email!r} is not an e-mail address")
    if webhook_url is not None and not WEBHOOK.match(webhook_url):
        raise ActionError("the webhook must be an http:// or https:// URL")
    quiet_start, quiet_end = (quiet_start or "").strip() or None, (quiet_end or "").strip() or None
    if (quiet_start is None) != (quiet_end is None):
        raise ActionError("quiet hours need both a start and an end (or neither)")
    if quiet_start and quiet_end:
        parse_clock(quiet_start, "quiet hours start")
        parse_clock(quiet_end, "quiet hours end")
    timezone = (timezone or "").strip() or None
    if timezone is not None:
        zone(timezone)
    chosen = validate_channels({k: list(v) for k, v in (channels or {}).items()})
    before = _preferences(actor)
    actor.email, actor.webhook_url, actor.notify_channels = email, webhook_url, chosen
    actor.quiet_start, actor.quiet_end, actor.timezone = quiet_start, quiet_end, timezone
    session.add(actor)
    session.flush()
    rows.reschedule_pending(session=session, staff_id=actor.id or 0)  # quiet hours as now set
    audit.record(
        session, actor=actor, action="notifications.preferences", entity_type="staff", entity_id=actor.id,
        before=before, after=_preferences(actor),
    )  # fmt: skip
    return actor


def _preferences(staff: Staff) -> dict[str, object]:
    # The webhook's path is its secret (reports.notify.masked_url): the trail says only whether one is set.
    return {
        "email": staff.email, "webhook": staff.webhook_url is not None, "channels": dict(staff.notify_channels or {}),
        "quiet_start": staff.quiet_start, "quiet_end": staff.quiet_end, "timezone": staff.timezone,
    }  # fmt: skip


def mark_read(
    *, session: Session, actor: Staff, ids: Iterable[int] | None = None, now: datetime | None = None
) -> list[int]:
    """Mark the actor's own notifications `ids` read (all unread ones when None); returns those changed."""
    require(actor, "notifications.self")
    changed = rows.mark_read(session=session, staff_id=actor.id or 0, now=now or utcnow(), ids=ids)
    audit.record(
        session, actor=actor, action="notifications.read", entity_type="staff", entity_id=actor.id,
        after={"notifications": changed, "all": ids is None},
    )  # fmt: skip
    return changed


def set_availability(*, session: Session, actor: Staff, available: bool, now: datetime | None = None) -> Staff:
    """Say you are available (auto-assignment may give you items) or away (it will not)."""
    require(actor, "availability.self")
    before = {"available": actor.available, "since": actor.available_since}
    if actor.available != available or actor.available_since is None:
        actor.available, actor.available_since = available, now or utcnow()
    session.add(actor)
    session.flush()
    audit.record(
        session, actor=actor, action="staff.availability", entity_type="staff", entity_id=actor.id, before=before,
        after={"available": actor.available, "since": actor.available_since},
    )  # fmt: skip
    return actor
