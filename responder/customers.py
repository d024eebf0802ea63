"""Staff actions on customers: identity-link decisions, merges and their undo, privacy exports.

Each checks the actor's permission, makes its change and writes one audit event, all in the
caller's transaction. An export from the command line passes `actor=None` and is audited as
"system:cli" (whoever can run the CLI already holds the server, as for `responder.accounts.staff`).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from dangol.core.errors import Conflict
from dangol.core.permissions import require
from dangol.core.types import utcnow
from storage import audit, customers, privacy
from storage.models import AuditEvent, IdentityLink, Staff


def decide_link(*, session: Session, actor: Staff, link_id: int, confirm: bool) -> IdentityLink:
    """Confirm (apply) or reject a proposed identity link (`customer.link`)."""
    require(actor, "customer.link")
    link = customers.identity_link(session=session, link_id=link_id)
    before = link.status
    link.status = "applied" if confirm else "rejected"
    link.confirmed_by = actor.username
    link.decided_at = utcnow()
    session.add(link)
    audit.record(
        session, actor=actor, action="identity.confirm" if confirm else "identity.reject",
        entity_type="identity_link", entity_id=link_id, before={"status": before}, after={"status": link.status},
    )  # fmt: skip
    session.flush()
    return link


def merge_customers(*, session: Session, actor: Staff, source_id: int, target_id: int) -> AuditEvent:
    """Move the source customer's handles, orders, links and queue items to the target (`customer.merge`).

    The audit event records exactly which rows moved, so `undo_merge` can move them back.
    """
    require(actor, "customer.merge")
    if source_id == target_id:
        raise Conflict("cannot merge a customer into itself")
    for customer_id in (source_id, target_id):
        customers.live_customer(session=session, customer_id=customer_id)
    moved = customers.move_customer_rows(session=session, source_id=source_id, target_id=target_id)
    event = audit.record(
        session, actor=actor, action="customer.merge", entity_type="customer", entity_id=source_id,
        before={"customer_id": source_id}, after={"merged_into": target_id, **moved},
    )  # fmt: skip
    session.flush()
    return event


def undo_merge(*, session: Session, actor: Staff, source_id: int) -> None:
    """Move back the rows the last merge of `source_id` moved (`customer.merge`; ones changed since stay put)."""
    require(actor, "customer.merge")
    event = customers.last_merge(session=session, customer_id=source_id)
    if event is None:
        raise Conflict(f"customer {source_id} has no merge to undo")
    target_id = int(event.after["merged_into"])
    customers.move_rows_back(session=session, moved=event.after, source_id=source_id, target_id=target_id)
    audit.record(
        session, actor=actor, action="customer.unmerge", entity_type="customer", entity_id=source_id,
        before={"merged_into": target_id},
    )  # fmt: skip
    session.flush()


def export_customer(*, session: Session, actor: Staff | None, customer_id: int) -> dict[str, Any]:
    """Everything stored about a customer, as JSON-able data (`customer.export`, a privacy access
    request); `actor=None` only from the CLI. NotFound names an unknown id."""
    if actor is not None:
        require(actor, "customer.export")
    data = privacy.export_customer(customer_id, session=session)
    audit.record(
        session, actor=actor or "system:cli", action="customer.export", entity_type="customer", entity_id=customer_id
    )
    session.flush()
    return data
