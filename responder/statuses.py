"""Queue item statuses and the transitions allowed between them."""

from __future__ import annotations

from dangol.core.errors import InvalidTransition

STATUSES = ("new", "assigned", "in_progress", "pending_approval", "replied", "closed", "escalated", "snoozed", "spam")

# Where each status may go next. Reopening (replied/closed → new) happens when the customer writes again.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"assigned", "in_progress", "escalated", "snoozed", "closed", "spam"}),
    "assigned": frozenset({"new", "in_progress", "escalated", "snoozed", "closed", "spam"}),
    "in_progress": frozenset({"assigned", "pending_approval", "replied", "escalated", "snoozed", "closed", "spam"}),
    "pending_approval": frozenset({"in_progress", "replied", "escalated", "closed"}),
    "replied": frozenset({"in_progress", "closed", "new"}),
    "closed": frozenset({"new", "in_progress"}),
    "escalated": frozenset({"assigned", "in_progress", "pending_approval", "replied", "snoozed", "closed"}),
    "snoozed": frozenset({"new", "assigned", "in_progress", "closed"}),
    "spam": frozenset({"new"}),
}

# Statuses that still need someone's attention (they count against a staff member's capacity).
OPEN_STATUSES = ("new", "assigned", "in_progress", "pending_approval", "escalated", "snoozed")
ACTIVE_STATUSES = ("assigned", "in_progress", "pending_approval", "escalated")


def allowed(current: str) -> list[str]:
    """The statuses reachable from `current`, sorted."""
    return sorted(TRANSITIONS.get(current, frozenset()))


def check_transition(current: str, new: str) -> None:
    """Raise InvalidTransition unless `current` → `new` is in the table."""
    if new not in STATUSES:
        raise InvalidTransition(f"unknown status {new!r}; valid: {', '.join(STATUSES)}")
    if new not in TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(
            f"cannot move an item from {current!r} to {new!r}; allowed: {', '.join(allowed(current))}"
        )
