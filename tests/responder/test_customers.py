"""Staff actions on customers: link decisions, merges and their undo, exports; each checked and audited once."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from dangol.core.errors import Conflict, Forbidden, NotFound
from responder.customers import decide_link, export_customer, merge_customers, undo_merge
from responder.queue import route_new
from storage.customers import merged_into
from storage.models import AuditEvent, Author, CustomerHandle, IdentityLink, QueueItem
from tests.responder.conftest import NOW


def audited(session: Session, prefix: str) -> list[tuple[str, str, str]]:
    events = session.exec(select(AuditEvent).where(AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id))  # type: ignore[union-attr]
    return [(e.actor, e.action, e.entity_id) for e in events]


@pytest.fixture
def duplicate(session: Session, settings, seed_post, make_customer):
    """(a customer holding a handle, a link and a queue item; the customer it duplicates)."""
    source, target = make_customer("Kim M."), make_customer("Kim Minji")
    session.add(CustomerHandle(customer_id=source.id, platform="x", handle="kim_m"))
    seed_post("my order never arrived", customer=source, risk=0.9)
    route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    item.customer_id = source.id
    session.flush()
    return source, target


def owners(session: Session) -> tuple[int, int, int]:
    """Who holds the handle, the link and the queue item."""
    session.expire_all()
    return (
        session.exec(select(CustomerHandle.customer_id)).one(),
        session.exec(select(IdentityLink.customer_id)).one(),
        session.exec(select(QueueItem.customer_id)).one(),
    )


def test_merge_moves_the_rows_and_undo_moves_them_back_each_audited_once(session, duplicate, make_staff) -> None:
    source, target = duplicate
    admin = make_staff("ann", role="admin")
    merge_customers(session=session, actor=admin, source_id=source.id, target_id=target.id)
    assert owners(session) == (target.id,) * 3
    assert merged_into(session=session, customer_id=source.id) == target.id
    undo_merge(session=session, actor=admin, source_id=source.id)
    assert owners(session) == (source.id,) * 3
    assert merged_into(session=session, customer_id=source.id) is None
    assert audited(session, "customer.") == [
        ("ann", "customer.merge", str(source.id)),
        ("ann", "customer.unmerge", str(source.id)),
    ]
    with pytest.raises(Conflict, match="no merge to undo"):
        undo_merge(session=session, actor=admin, source_id=source.id)


def test_an_agent_may_not_merge_and_nothing_moves(session, duplicate, make_staff) -> None:
    source, target = duplicate
    with pytest.raises(Forbidden, match="role 'agent' may not merge customers"):
        merge_customers(session=session, actor=make_staff("amy"), source_id=source.id, target_id=target.id)
    assert owners(session) == (source.id,) * 3 and not audited(session, "customer.")


def test_merge_refuses_the_same_customer_and_an_erased_one(session, duplicate, make_staff) -> None:
    source, target = duplicate
    admin = make_staff("ann", role="admin")
    with pytest.raises(Conflict, match="into itself"):
        merge_customers(session=session, actor=admin, source_id=source.id, target_id=source.id)
    target.erased_at = NOW
    with pytest.raises(NotFound, match=f"no customer with id {target.id} \\(or it was erased\\)"):
        merge_customers(session=session, actor=admin, source_id=source.id, target_id=target.id)


def test_an_agent_confirms_a_proposed_link_and_the_decision_is_audited(session, make_customer, make_staff) -> None:
    author = Author(platform="x", platform_id="9", handle="minji")
    session.add(author)
    session.flush()
    link = IdentityLink(author_id=author.id, customer_id=make_customer().id, method="fuzzy_name", confidence=0.9)
    session.add(link)
    session.flush()
    decided = decide_link(session=session, actor=make_staff("amy"), link_id=link.id, confirm=True)
    assert (decided.status, decided.confirmed_by, decided.decided_at is not None) == ("applied", "amy", True)
    assert audited(session, "identity.") == [("amy", "identity.confirm", str(link.id))]
    with pytest.raises(Forbidden, match="role 'product' may not"):
        decide_link(session=session, actor=make_staff("pat", role="product"), link_id=link.id, confirm=False)
    with pytest.raises(NotFound, match="no identity link with id 404"):
        decide_link(session=session, actor=make_staff("bo"), link_id=404, confirm=False)


def test_an_export_checks_the_role_and_is_audited_once_per_export(session, duplicate, make_staff) -> None:
    source, _ = duplicate
    data = export_customer(session=session, actor=make_staff("ann", role="admin"), customer_id=source.id)
    assert data["customer"]["name"] == "Kim M." and data["handles"] == [{"platform": "x", "handle": "kim_m"}]
    with pytest.raises(Forbidden, match="role 'agent' may not export"):
        export_customer(session=session, actor=make_staff("amy"), customer_id=source.id)
    export_customer(session=session, actor=None, customer_id=source.id)
    assert audited(session, "customer.") == [
        ("ann", "customer.export", str(source.id)),
        ("system:cli", "customer.export", str(source.id)),
    ]
