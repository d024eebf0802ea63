"""A customer's erasure everywhere Dangol keeps their data: the tables (`storage.privacy`) and the
files it wrote (`reports.outputs`), in the caller's transaction."""

from __future__ import annotations

from sqlmodel import Session

from dangol.core.permissions import require
from dangol.core.settings import Settings
from reports.outputs import rewrite_after_erasure
from storage import privacy
from storage.models import Staff


def erase_customer(customer_id: int, *, session: Session, settings: Settings, actor: Staff) -> dict[str, int]:
    """Erase a customer's personal data (`customer.erase`) from the database, then write again every
    feed and report file that showed it; returns what was cleared, with the number of files written again."""
    require(actor, "customer.erase")
    shown = privacy.identifiers(customer_id, session=session)  # read before they are erased
    counts = privacy.erase_customer(customer_id, session=session, actor=actor.username)
    session.flush()
    counts["files"] = len(rewrite_after_erasure(shown, session=session, settings=settings))
    return counts
