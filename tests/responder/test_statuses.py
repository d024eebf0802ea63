"""Statuses are one enum each; the transition table speaks only of queue statuses that exist."""

from dangol.core.statuses import ItemStatus
from responder.statuses import TRANSITIONS, allowed


def test_every_item_status_has_its_transitions_and_leads_only_to_known_statuses() -> None:
    assert set(TRANSITIONS) == set(ItemStatus)
    assert all(targets <= set(ItemStatus) for targets in TRANSITIONS.values())


def test_a_status_read_back_from_a_row_as_text_finds_its_transitions() -> None:
    # Rows hold plain text; the table must answer for the text as for the member.
    assert allowed("closed") == allowed(ItemStatus.CLOSED) == ["in_progress", "new"]
