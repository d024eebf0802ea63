"""Staff actions on customers: identity-link decisions, merges and their undo, privacy exports.

Each checks the actor's permission, makes its change and writes one audit event, all in the
caller's transaction. An export from the command line passes `actor=None` and is audited as
"system:cli" (whoever can run the CLI already holds the server, as for `responder.accounts.staff`).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from dangol.core.errors import ActionError, Conflict
from dangol.core.permissions import require
from dangol.core.types import utcnow
from storage import audit, customers, privacy
from storage.models import AuditEvent, Customer, IdentityLink, Staff


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


def import_customer(
    *,
    session: Session,
    actor: Staff,
    external_ref: str,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    tier: str = "standard",
    handles: dict[str, str] | None = None,
    order_numbers: list[str] | None = None,
) -> tuple[Customer, str]:
    """Create or update the customer the brand's CRM knows as `external_ref` (`customer.import`),
    with the CSV import's checks; returns it and "created" | "updated" | "unchanged".

    Idempotent: the same record again changes nothing and writes no audit event (the trail
    records changes; a CRM re-sending its records every night would otherwise bury them).
    Handles are keyed by platform (x, reddit, mastodon, bluesky, naver) and, as in the CSV
    import, added to the ones known, never removed."""
    require(actor, "customer.import")
    columns = {platform: column for column, platform in customers.HANDLE_COLUMNS.items()}
    unknown = sorted(set(handles or {}) - set(columns))
    if unknown:
        raise ActionError(f"unknown handle platform(s) {', '.join(unknown)}; known: {', '.join(sorted(columns))}")
    row = {
        "external_ref": external_ref, "name": name, "email": email or "", "phone": phone or "", "tier": tier,
        "order_numbers": ";".join(order_numbers or []),
        **{columns[platform]: handle for platform, handle in (handles or {}).items()},
    }  # fmt: skip
    customer, outcome, before = customers.upsert_customer(row, session=session)
    if outcome != "unchanged":
        audit.record(
            session, actor=actor, action=f"customer.import_{outcome}", entity_type="customer", entity_id=customer.id,
            before=before, after=customers.customer_record(customer, session=session),
        )  # fmt: skip
        session.flush()
    return customer, outcome
