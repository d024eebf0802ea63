"""Customer segments for people outside the queue: a segment's members as a formula-safe CSV (an
audited export, `segment.export`), and the weekly report's section on segment movement: customers
won back, newly at risk and the top advocates, named by public handle only (never the CRM name,
e-mail or phone), counted from the segment history (`storage.customer_scores`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from dangol.core.customer_scores import SCORES, breakdown_summary
from reports.feeds import audited_export, csv_document
from storage.customer_scores import (
    customers_who_joined,
    members_at,
    public_handles,
    reach_scores,
    segment_members,
)
from storage.models import Staff

CSV_COLUMNS = ["customer_id", "handles", "tier", "in_segment_since", *SCORES, "trend", "segments", "breakdown"]
WON_BACK, AT_RISK, ADVOCATES = "won_back", "at_risk", "advocates"
TOP_ADVOCATES = 5
NAMED = 10  # customers named per list in the weekly report; the counts cover them all


def segment_csv(segment: str, *, session: Session) -> str:
    """The members of `segment` now as CSV: public handles, scores, segments and a breakdown
    summary; no name, e-mail or phone. Every text cell goes through `spreadsheet_safe`."""
    rows = (
        [m.customer_id, " ".join(m.handles), m.tier, m.since.isoformat()]
        + [f"{m.scores[name]:.3f}" for name in SCORES]
        + [m.trend, " ".join(m.segments), breakdown_summary(m.breakdown)]
        for m in segment_members(segment, session=session)
    )
    return csv_document(CSV_COLUMNS, rows)


def export_segment(segment: str, *, session: Session, actor: Staff | None) -> str:
    """A segment's members as CSV (`segment.export`), audited with the number of customers;
    `actor=None` only from the CLI (recorded as system:cli)."""
    return audited_export(
        lambda: segment_csv(segment, session=session),
        session=session, actor=actor, action="segment.export", entity=("segment", segment), counted="customers",
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class NamedCustomers:
    """How many customers a list holds, and the public handles of the first of them (a customer
    without a public handle is counted, never named)."""

    count: int
    handles: list[str] = field(default_factory=list)

    @property
    def unnamed(self) -> int:
        """Customers counted but not listed (past the first few, or without a public handle)."""
        return self.count - len(self.handles)


@dataclass(frozen=True, slots=True)
class SegmentWeek:
    """The weekly report's customer section; None for a segment that is not configured."""

    won_back: NamedCustomers | None
    newly_at_risk: NamedCustomers | None
    top_advocates: NamedCustomers | None


def segment_week(*, session: Session, configured: set[str], since: datetime, until: datetime) -> SegmentWeek:
    """Customers who joined won_back and at_risk in `[since, until)`, and the advocates at `until`
    with the widest reach first, all from the segment history."""

    def joined(segment: str) -> NamedCustomers | None:
        if segment not in configured:
            return None
        ids = customers_who_joined(segment, session=session, since=since, until=until)
        return _named(session, ids, NAMED)

    advocates = None
    if ADVOCATES in configured:
        ids = members_at(ADVOCATES, session=session, at=until)
        reach = reach_scores(ids, session=session)
        advocates = _named(session, sorted(ids, key=lambda i: (-reach.get(i, 0.0), i)), TOP_ADVOCATES)
    return SegmentWeek(won_back=joined(WON_BACK), newly_at_risk=joined(AT_RISK), top_advocates=advocates)


def _named(session: Session, ids: list[int], limit: int) -> NamedCustomers:
    handles = public_handles(ids[: limit * 2], session=session)
    named = [" ".join(handles[i]) for i in ids if handles.get(i)][:limit]
    return NamedCustomers(count=len(ids), handles=named)
