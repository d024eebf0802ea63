"""The statuses of queue items, replies and identity links: one enum each.

StrEnum members are strings, so the database columns stay plain text and a status read back from
a row compares equal to its member; the enums name every value once, so a typo is an
AttributeError, not a silently unmatched string. Which status may follow which is queue policy,
in `responder.statuses`.
"""

from __future__ import annotations

from enum import StrEnum


class ItemStatus(StrEnum):
    """Where a queue item stands."""

    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    PENDING_APPROVAL = "pending_approval"
    REPLIED = "replied"
    CLOSED = "closed"
    ESCALATED = "escalated"
    SNOOZED = "snoozed"
    SPAM = "spam"


# A reopening: an item leaves one of these statuses for one of the open ones after it. Nothing
# stores it as such; it is read from the audit trail (team performance, outbound webhooks).
DONE_STATUSES = (ItemStatus.REPLIED.value, ItemStatus.CLOSED.value)
REOPENED_TO = (ItemStatus.NEW.value, ItemStatus.ASSIGNED.value, ItemStatus.IN_PROGRESS.value)


class ReplyStatus(StrEnum):
    """Where a reply stands, from draft to sent (see `responder.sending` for never-twice sending)."""

    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class LinkStatus(StrEnum):
    """Whether a social account is known to be a customer: applied links count, proposals wait for staff."""

    APPLIED = "applied"
    PROPOSED = "proposed"
    REJECTED = "rejected"
    UNDONE = "undone"
