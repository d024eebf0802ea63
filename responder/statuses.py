"""Queue item statuses and the transitions allowed between them."""

from __future__ import annotations

from dangol.core.errors import InvalidTransition
from dangol.core.statuses import ItemStatus

S = ItemStatus
STATUSES = tuple(ItemStatus)

# Where each status may go next. Reopening (replied/closed → new) happens when the customer writes again.
TRANSITIONS: dict[ItemStatus, frozenset[ItemStatus]] = {
    S.NEW: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.ESCALATED, S.SNOOZED, S.CLOSED, S.SPAM}),
    S.ASSIGNED: frozenset({S.NEW, S.IN_PROGRESS, S.ESCALATED, S.SNOOZED, S.CLOSED, S.SPAM}),
    S.IN_PROGRESS: frozenset({S.ASSIGNED, S.PENDING_APPROVAL, S.REPLIED, S.ESCALATED, S.SNOOZED, S.CLOSED, S.SPAM}),
    S.PENDING_APPROVAL: frozenset({S.IN_PROGRESS, S.REPLIED, S.ESCALATED, S.CLOSED}),
    S.REPLIED: frozenset({S.IN_PROGRESS, S.CLOSED, S.NEW}),
    S.CLOSED: frozenset({S.NEW, S.IN_PROGRESS}),
    S.ESCALATED: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.PENDING_APPROVAL, S.REPLIED, S.SNOOZED, S.CLOSED}),
    S.SNOOZED: frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.CLOSED}),
    S.SPAM: frozenset({S.NEW}),
}

# Statuses that still need someone's attention (they count against a staff member's capacity).
OPEN_STATUSES = (S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.PENDING_APPROVAL, S.ESCALATED, S.SNOOZED)
ACTIVE_STATUSES = (S.ASSIGNED, S.IN_PROGRESS, S.PENDING_APPROVAL, S.ESCALATED)


def allowed(current: str) -> list[str]:
    """The statuses reachable from `current`, sorted."""
    return sorted(str(s) for s in TRANSITIONS.get(current, frozenset()))  # type: ignore[call-overload]


def check_transition(current: str, new: str) -> None:
    """Raise InvalidTransition unless `current` → `new` is in the table."""
    if new not in STATUSES:
        raise InvalidTransition(f"unknown status '{new}'; valid: {', '.join(STATUSES)}")
    if new not in TRANSITIONS.get(current, frozenset()):  # type: ignore[call-overload]
        raise InvalidTransition(
            f"cannot move an item from '{current}' to '{new}'; allowed: {', '.join(allowed(current))}"
        )
