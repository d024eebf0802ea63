"""Storing the linker's candidates: proposals until one applies alone, which is audited and ends
the list; an author already linked gets nothing new, and their candidates are not even looked up."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlmodel import Session, select

from storage import customers
from storage.models import AuditEvent, Author, Customer, IdentityLink


@dataclass(frozen=True)
class Candidate:
    customer_id: int
    method: str
    confidence: float
    evidence: str


def _author_and_customers(session: Session, n: int) -> tuple[int, list[int]]:
    author = Author(platform="x", platform_id="a1", handle="fan")
    people = [Customer(name=f"Customer {i}") for i in range(n)]
    session.add_all([author, *people])
    session.flush()
    return author.id or 0, [c.id or 0 for c in people]


def test_proposals_then_the_applied_link_which_ends_the_list(session: Session) -> None:
    author_id, (first, second, third) = _author_and_customers(session, 3)
    links: list[IdentityLink] = []
    new = customers.save_link_candidates(
        session=session,
        author_id=author_id,
        links=links,
        candidates=[
            (Candidate(first, "email", 0.8, "e-mail in post"), False),
            (Candidate(second, "handle", 1.0, "x handle @fan"), True),
            (Candidate(third, "fuzzy_name", 0.5, "name"), False),
        ],
    )
    assert [(link.customer_id, link.status) for link in new] == [(first, "proposed"), (second, "applied")]
    assert links == new and new[1].confirmed_by == "system:linker" and new[1].decided_at is not None
    assert new[0].confirmed_by is None and new[0].decided_at is None
    events = list(session.exec(select(AuditEvent).where(AuditEvent.action == "identity.link")))
    assert [(e.actor, e.entity_id, e.after["customer_id"]) for e in events] == [
        ("system:linker", str(new[1].id), second)
    ]


def test_a_customer_already_linked_is_not_proposed_again(session: Session) -> None:
    author_id, (first, second) = _author_and_customers(session, 2)
    links: list[IdentityLink] = []
    customers.save_link_candidates(
        session=session, author_id=author_id, links=links, candidates=[(Candidate(first, "email", 0.8, "e"), False)]
    )
    new = customers.save_link_candidates(
        session=session,
        author_id=author_id,
        links=links,
        candidates=[(Candidate(first, "email", 0.8, "e"), False), (Candidate(second, "order", 0.8, "o"), False)],
    )
    assert [link.customer_id for link in new] == [second] and len(links) == 2


def test_an_author_with_an_applied_link_is_not_looked_up(session: Session) -> None:
    author_id, (first,) = _author_and_customers(session, 1)
    links = [IdentityLink(author_id=author_id, customer_id=first, method="handle", confidence=1.0, status="applied")]
    read = []

    def candidates() -> Iterator[tuple[Candidate, bool]]:
        read.append(True)
        yield Candidate(first, "email", 0.8, "e"), False

    new = customers.save_link_candidates(session=session, author_id=author_id, links=links, candidates=candidates())
    assert new == []
    assert read == [] and session.exec(select(IdentityLink)).first() is None
