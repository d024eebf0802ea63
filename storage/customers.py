"""Customers from the brand's own records, their known handles and orders, identity links, and merges;
search, a customer's 360 view, and the customers authors are linked to."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from dangol.core.errors import ActionError, ConfigError, NotFound
from dangol.core.text import normalize_handle
from dangol.core.types import utcnow
from storage import audit
from storage.models import (
    Analysis,
    AuditEvent,
    Author,
    Customer,
    CustomerHandle,
    CustomerOrder,
    IdentityLink,
    Post,
    QueueItem,
)

HANDLE_COLUMNS = {
    "x_handle": "x",
    "reddit_handle": "reddit",
    "mastodon_handle": "mastodon",
    "bluesky_handle": "bluesky",
    "naver_id": "naver",
}
REQUIRED_COLUMNS = ("external_ref", "name")
TIERS = ("standard", "gold", "vip")
# Who applies the links the linker may apply alone, in the link row and the audit trail.
LINKER = "system:linker"


@dataclass(slots=True)
class ImportResult:
    created: int = 0
    updated: int = 0
    problems: list[str] = field(default_factory=list)


# A customer export of a few hundred thousand rows is tens of MB; anything far larger is a mistake.
MAX_IMPORT_BYTES = 200 * 10**6
# Longer than any name, address, handle or order number; 4 bytes a character at most stays under
# PostgreSQL's ~2,700-byte limit for an index entry (references, e-mails, handles and orders are indexed).
MAX_CELL_CHARS = 500


def import_customers_csv(path: Path, *, session: Session) -> ImportResult:
    """Create or update customers from a CSV (keyed by external_ref); bad rows are reported, not fatal.

    Columns: external_ref, name (required); email, phone, tier (standard|gold|vip), x_handle,
    reddit_handle, mastodon_handle, bluesky_handle, naver_id, order_numbers (';'-separated).
    """
    result = ImportResult()
    try:
        size = path.stat().st_size
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read customers file {path}: {exc.strerror}") from exc
    if size > MAX_IMPORT_BYTES:
        handle.close()
        raise ConfigError(
            f"{path} is {size / 1e6:.0f} MB; the import reads at most {MAX_IMPORT_BYTES // 10**6} MB at once: split it"
        )
    try:
        with handle:
            return _import_rows(path, handle, session=session, result=result)
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f'{path} is not UTF-8 text (byte {exc.start}): save it as "CSV UTF-8" (Excel) or convert it, '
            "e.g. iconv -f cp949 -t utf-8"
        ) from None


def _import_rows(path: Path, handle: Any, *, session: Session, result: ImportResult) -> ImportResult:
    reader = csv.DictReader(handle)
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ConfigError(f"{path}: missing column(s) {', '.join(missing)}; required: {', '.join(REQUIRED_COLUMNS)}")
    for line, row in enumerate(reader, start=2):
        problem = _import_row(row, session=session, result=result)
        if problem:
            result.problems.append(f"{path}:{line}: {problem}")
    return result


def _cell_problem(row: dict[str, str]) -> str | None:
    """What no column can store in a row's cells, if anything. PostgreSQL refuses NUL in text, and
    an index entry beyond ~2,700 bytes: one such cell stopped the whole import there, with an error
    that printed the row's personal data (SQLite stored it)."""
    for column, value in row.items():
        if not isinstance(value, str):  # DictReader's list of cells beyond the header
            continue
        shown = str(column).replace("\x00", "")
        if "\x00" in value:
            return f"column {shown!r} holds a NUL character; remove it"
        # order_numbers holds several, ";"-separated: each is a field of its own.
        longest = max(map(len, value.split(";"))) if column == "order_numbers" else len(value)
        if longest > MAX_CELL_CHARS:
            what = "an order number" if column == "order_numbers" else f"column {shown!r}"
            return f"{what} is {longest:,} characters long; a customer field holds at most {MAX_CELL_CHARS}"
    return None


def _import_row(row: dict[str, str], *, session: Session, result: ImportResult) -> str | None:
    if problem := _cell_problem(row):
        return problem  # the row is refused with the column named
    ref, name = (row.get("external_ref") or "").strip(), (row.get("name") or "").strip()
    if not ref or not name:
        return "external_ref and name are required"
    tier = (row.get("tier") or "standard").strip().lower()
    if tier not in TIERS:
        return f"unknown tier {tier!r}; valid: {', '.join(TIERS)}"
    customer = session.exec(select(Customer).where(Customer.external_ref == ref)).first()
    if customer is None:
        customer = Customer(external_ref=ref, name=name, created_at=utcnow())
        result.created += 1
    else:
        result.updated += 1
    customer.name = name
    customer.email = (row.get("email") or "").strip().lower() or None
    customer.phone = (row.get("phone") or "").strip() or None
    customer.tier = tier
    session.add(customer)
    session.flush()
    assert customer.id is not None  # flushed: the database gave it one
    for column, platform in HANDLE_COLUMNS.items():
        value = normalize_handle(row.get(column) or "")
        if value:
            _ensure_handle(session, customer.id, platform, value)
    for order in (row.get("order_numbers") or "").split(";"):
        order = order.strip().upper()
        if order and not session.exec(select(CustomerOrder).where(CustomerOrder.order_number == order)).first():
            session.add(CustomerOrder(customer_id=customer.id, order_number=order))
    return None


def customer_by_ref(*, session: Session, external_ref: str) -> Customer | None:
    """The customer with this external id (the brand CRM's key)."""
    return session.exec(select(Customer).where(Customer.external_ref == external_ref)).first()


def customer_record(customer: Customer, *, session: Session) -> dict[str, Any]:
    """What an import sets on a customer, comparable before and after: fields, handles, orders."""
    handles = session.exec(select(CustomerHandle).where(CustomerHandle.customer_id == customer.id)).all()
    orders = session.exec(select(CustomerOrder.order_number).where(CustomerOrder.customer_id == customer.id)).all()
    return {
        "external_ref": customer.external_ref,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "tier": customer.tier,
        "handles": sorted(f"{h.platform}:{h.handle}" for h in handles),
        "order_numbers": sorted(orders),
    }


def upsert_customer(row: dict[str, str], *, session: Session) -> tuple[Customer, str, dict[str, Any]]:
    """Create or update one customer from a record with the CSV import's columns and checks
    (keyed by external_ref); returns the customer, "created" | "updated" | "unchanged", and the
    record before (empty when created). ActionError says what is wrong with the record."""
    ref = (row.get("external_ref") or "").strip()
    existing = customer_by_ref(session=session, external_ref=ref) if ref else None
    before = customer_record(existing, session=session) if existing is not None else {}
    problem = _import_row(row, session=session, result=ImportResult())
    if problem:
        raise ActionError(problem)
    session.flush()
    customer = customer_by_ref(session=session, external_ref=ref)
    assert customer is not None  # _import_row just created or updated it
    if existing is None:
        return customer, "created", before
    return customer, "unchanged" if customer_record(customer, session=session) == before else "updated", before


def _ensure_handle(session: Session, customer_id: int, platform: str, handle: str) -> None:
    existing = session.exec(
        select(CustomerHandle).where(CustomerHandle.platform == platform, CustomerHandle.handle == handle)
    ).first()
    if existing is None:
        session.add(CustomerHandle(customer_id=customer_id, platform=platform, handle=handle))
    else:
        existing.customer_id = customer_id


@dataclass(slots=True)
class CustomerRecord:
    """A customer with handles and orders, as the linker needs it."""

    customer: Customer
    handles: dict[str, list[str]]
    orders: list[str]


def customer_records(*, session: Session) -> list[CustomerRecord]:
    """Every customer not erased, with known handles and order numbers (three queries in all)."""
    customers = {c.id: c for c in session.exec(select(Customer).where(Customer.erased_at.is_(None)))}  # type: ignore[union-attr]
    handles: dict[int, dict[str, list[str]]] = {}
    for h in session.exec(select(CustomerHandle)):
        handles.setdefault(h.customer_id, {}).setdefault(h.platform, []).append(h.handle)
    orders: dict[int, list[str]] = {}
    for o in session.exec(select(CustomerOrder)):
        orders.setdefault(o.customer_id, []).append(o.order_number)
    return [
        CustomerRecord(customer=c, handles=handles.get(cid, {}), orders=orders.get(cid, []))
        for cid, c in customers.items()
        if cid is not None
    ]


def linked_authors(author_ids: list[int], *, session: Session) -> dict[int, list[IdentityLink]]:
    """Existing links (any status) of these authors, so a decided link is never proposed again."""
    links: dict[int, list[IdentityLink]] = {}
    if author_ids:
        for link in session.exec(select(IdentityLink).where(IdentityLink.author_id.in_(author_ids))):  # type: ignore[attr-defined]
            links.setdefault(link.author_id, []).append(link)
    return links


def lock_authors(author_ids: list[int], *, session: Session) -> None:
    """Hold these authors' rows until the transaction ends, in id order (PostgreSQL; SQLite has one
    writer at a time): two workers linking the same author take turns, and the second reads the
    first's links once it has its turn (`linked_authors` after this), instead of adding them again."""
    if author_ids and session.get_bind().dialect.name == "postgresql":
        ids = sorted(set(author_ids))
        session.execute(select(Author.id).where(col(Author.id).in_(ids)).order_by(col(Author.id)).with_for_update())


class LinkEvidence(Protocol):
    """What a link is made from: who, how, how sure, on what evidence (`nlp.base.LinkCandidate`,
    which storage does not import)."""

    @property
    def customer_id(self) -> int: ...

    @property
    def method(self) -> str: ...

    @property
    def confidence(self) -> float: ...

    @property
    def evidence(self) -> str: ...


def save_link_candidates(
    *,
    session: Session,
    author_id: int,
    links: list[IdentityLink],
    candidates: Iterable[tuple[LinkEvidence, bool]],
) -> list[IdentityLink]:
    """Store an author's link candidates, best first: each with True (the linker decided it applies
    alone) is applied and audited, and ends the list; the others are proposed for staff to confirm.

    `links` are the author's links so far (`linked_authors`): a customer already linked, proposed
    or decided is never proposed again, and an author with an applied link gets no new link at all
    (`candidates`, which may be a lazy generator, is then not read). New links are appended to
    `links`, so a later post by the same author in the batch sees them. Returns the new links.
    """
    if any(link.status == "applied" for link in links):
        return []
    decided = {link.customer_id for link in links}
    new: list[IdentityLink] = []
    for candidate, applied in candidates:
        if candidate.customer_id in decided:
            continue
        link = IdentityLink(
            author_id=author_id,
            customer_id=candidate.customer_id,
            method=candidate.method,
            confidence=candidate.confidence,
            evidence=candidate.evidence,
            status="applied" if applied else "proposed",
            confirmed_by=LINKER if applied else None,
            created_at=utcnow(),
            decided_at=utcnow() if applied else None,
        )
        session.add(link)
        session.flush()
        links.append(link)
        new.append(link)
        decided.add(candidate.customer_id)
        if applied:
            audit.record(
                session, actor=LINKER, action="identity.link", entity_type="identity_link", entity_id=link.id,
                after={"author_id": link.author_id, "customer_id": link.customer_id, "method": link.method},
            )  # fmt: skip
            break
    return new


def applied_customer_ids(author_ids: list[int], *, session: Session) -> dict[int, int]:
    """author id → customer id for links that are applied."""
    rows = session.exec(
        select(IdentityLink.author_id, IdentityLink.customer_id).where(
            IdentityLink.author_id.in_(author_ids),  # type: ignore[attr-defined]
            IdentityLink.status == "applied",
        )
    )
    return dict(rows.all())


# --- merges and identity-link decisions (checked and audited by responder.customers) -----------

# Rows that belong to a customer and move with a merge (typed Any: the loop treats them alike).
_MOVABLE: tuple[tuple[str, Any], ...] = (
    ("handles", CustomerHandle),
    ("orders", CustomerOrder),
    ("links", IdentityLink),
    ("items", QueueItem),
)


def live_customer(*, session: Session, customer_id: int) -> Customer:
    """The customer, or NotFound when there is none or it was erased."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.erased_at is not None:
        raise NotFound(f"no customer with id {customer_id} (or it was erased)")
    return customer


def identity_link(*, session: Session, link_id: int) -> IdentityLink:
    """The identity link, or NotFound."""
    link = session.get(IdentityLink, link_id)
    if link is None:
        raise NotFound(f"no identity link with id {link_id}")
    return link


def move_customer_rows(*, session: Session, source_id: int, target_id: int) -> dict[str, list[int]]:
    """Give the source customer's handles, orders, identity links and queue items to the target;
    returns the ids moved by kind ("handles", "orders", "links", "items"), for `move_rows_back`."""
    moved: dict[str, list[int]] = {}
    for name, table in _MOVABLE:
        moved[name] = list(session.exec(select(table.id).where(table.customer_id == source_id)))
        _reassign(session, table, moved[name], source_id=None, to=target_id)
    return moved


def move_rows_back(*, session: Session, moved: dict[str, Any], source_id: int, target_id: int) -> None:
    """Return to the source customer the rows a merge `moved`, those the target still holds (rows
    changed since stay put)."""
    for name, table in _MOVABLE:
        _reassign(session, table, moved.get(name) or [], source_id=target_id, to=source_id)


def _reassign(session: Session, table: Any, ids: list[int], *, source_id: int | None, to: int) -> None:
    if not ids:
        return
    stmt = update(table).where(table.id.in_(ids))
    if source_id is not None:
        stmt = stmt.where(table.customer_id == source_id)
    session.execute(stmt.values(customer_id=to).execution_options(synchronize_session=False))


def last_merge(*, session: Session, customer_id: int) -> AuditEvent | None:
    """The customer's last merge event (it lists the rows moved), unless an unmerge came after it."""
    event = session.exec(
        select(AuditEvent)
        .where(
            col(AuditEvent.entity_type) == "customer",
            col(AuditEvent.entity_id) == str(customer_id),
            col(AuditEvent.action).in_(["customer.merge", "customer.unmerge"]),
        )
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
    ).first()
    return event if event is not None and event.action == "customer.merge" else None


def merged_into(*, session: Session, customer_id: int) -> int | None:
    """The customer this one was merged into, unless the merge was undone."""
    event = last_merge(session=session, customer_id=customer_id)
    return None if event is None else int(event.after["merged_into"])


def search_customers(*, session: Session, text: str, limit: int = 25) -> list[Customer]:
    """Customers whose name, email, external ref or a known handle starts with / equals `text`;
    with no text, those heard from most recently (`recently_heard_from`)."""
    text = text.strip()
    if not text:
        return recently_heard_from(session=session, limit=limit)
    lowered = text.lower().lstrip("@")
    by_handle = select(col(CustomerHandle.customer_id)).where(col(CustomerHandle.handle) == lowered)
    stmt = (
        select(Customer)
        .where(
            col(Customer.erased_at).is_(None),
            or_(
                func.lower(col(Customer.name)).startswith(lowered, autoescape=True),
                col(Customer.email) == lowered,
                col(Customer.external_ref) == text,
                col(Customer.id).in_(by_handle),
            ),
        )
        .order_by(col(Customer.name))
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


# How many of the newest posts "heard from recently" reads: one index range, however large the
# table (an aggregate over every linked post took seconds at a million posts).
RECENT_POSTS_SCANNED = 5000


def recently_heard_from(*, session: Session, limit: int = 25) -> list[Customer]:
    """Customers by their newest live post among the newest posts (through an applied identity
    link), newest first; then the newest customer records. What staff opening the Customers page
    look for is who has just spoken, not who was imported last."""
    newest_posts = (
        select(col(Post.author_id), col(Post.created_at))
        .where(col(Post.deleted_at).is_(None))
        .order_by(col(Post.created_at).desc())
        .limit(RECENT_POSTS_SCANNED)
        .subquery()
    )
    heard = func.max(newest_posts.c.created_at)
    spoke = (
        select(col(IdentityLink.customer_id))
        .join(newest_posts, newest_posts.c.author_id == col(IdentityLink.author_id))
        .join(Customer, col(Customer.id) == col(IdentityLink.customer_id))
        .where(col(IdentityLink.status) == "applied", col(Customer.erased_at).is_(None))
        .group_by(col(IdentityLink.customer_id))
        .order_by(heard.desc(), col(IdentityLink.customer_id).desc())
        .limit(limit)
    )
    order = [int(i) for i in session.execute(spoke).scalars()]
    found = {c.id: c for c in session.execute(select(Customer).where(col(Customer.id).in_(order))).scalars()}
    customers = [found[i] for i in order if i in found]
    if len(customers) < limit:
        rest = (
            select(Customer)
            .where(col(Customer.erased_at).is_(None), col(Customer.id).not_in(order))
            .order_by(col(Customer.id).desc())
            .limit(limit - len(customers))
        )
        customers += list(session.execute(rest).scalars())
    return customers


@dataclass(slots=True)
class CustomerView:
    customer: Customer
    handles: list[CustomerHandle]
    orders: list[str]
    links: list[tuple[IdentityLink, Author]]
    posts: list[tuple[Post, Analysis | None]]
    items: list[QueueItem]
    merged_into: int | None


def links_with_authors(customer_id: int, *, session: Session) -> list[tuple[IdentityLink, Author]]:
    """The customer's identity links (any status), each with its social account, oldest first."""
    rows = session.execute(
        select(IdentityLink, Author)
        .join(Author, col(Author.id) == col(IdentityLink.author_id))
        .where(col(IdentityLink.customer_id) == customer_id)
        .order_by(col(IdentityLink.id))
    ).all()
    return [(link, author) for link, author in rows]


def customer_view(*, session: Session, customer_id: int, posts_limit: int = 50) -> CustomerView | None:
    """A customer's 360: handles, orders, identity links, recent posts and queue items."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    links = links_with_authors(customer_id, session=session)
    author_ids = [a.id for link, a in links if link.status == "applied"]
    posts = session.execute(
        select(Post, Analysis)
        .outerjoin(Analysis, col(Analysis.post_id) == col(Post.id))
        # Posts about competitors only are not shown in a customer's record (never tied to a person).
        .where(col(Post.author_id).in_(author_ids or [-1]), col(Post.competitor).is_(False))
        .order_by(col(Post.created_at).desc())
        .limit(posts_limit)
    ).all()
    return CustomerView(
        customer=customer,
        handles=list(
            session.execute(select(CustomerHandle).where(col(CustomerHandle.customer_id) == customer_id)).scalars()
        ),
        orders=list(
            session.execute(
                select(col(CustomerOrder.order_number)).where(col(CustomerOrder.customer_id) == customer_id)
            ).scalars()
        ),
        links=[(link, a) for link, a in links],
        posts=[(p, an) for p, an in posts],
        items=list(
            session.execute(
                select(QueueItem)
                .where(col(QueueItem.customer_id) == customer_id)
                .order_by(col(QueueItem.created_at).desc())
                .limit(50)
            ).scalars()
        ),
        merged_into=merged_into(session=session, customer_id=customer_id),
    )


def proposed_links(*, session: Session, limit: int = 50) -> list[tuple[IdentityLink, Author, Customer]]:
    """Identity links the linker proposed and nobody decided yet, most confident first."""
    stmt = (
        select(IdentityLink, Author, Customer)
        .join(Author, col(Author.id) == col(IdentityLink.author_id))
        .join(Customer, col(Customer.id) == col(IdentityLink.customer_id))
        .where(col(IdentityLink.status) == "proposed")
        .order_by(col(IdentityLink.confidence).desc(), col(IdentityLink.id))
        .limit(limit)
    )
    return [(link, a, c) for link, a, c in session.execute(stmt).all()]


def linked_customer(author_id: int, *, session: Session) -> Customer | None:
    """The customer an author is linked to (applied links only, the most confident first)."""
    stmt = (
        select(Customer)
        .join(IdentityLink, col(IdentityLink.customer_id) == Customer.id)
        .where(IdentityLink.author_id == author_id, IdentityLink.status == "applied", col(Customer.erased_at).is_(None))
        .order_by(col(IdentityLink.confidence).desc(), col(IdentityLink.id).desc())
    )
    return session.exec(stmt.limit(1)).first()


def linked_customers(author_ids: Sequence[int], *, session: Session) -> dict[int, Customer]:
    """Author id → linked customer (applied links, the most confident), for a batch of authors."""
    if not author_ids:
        return {}
    stmt = (
        select(IdentityLink.author_id, Customer)
        .join(Customer, col(Customer.id) == IdentityLink.customer_id)
        .where(col(IdentityLink.author_id).in_(list(author_ids)), IdentityLink.status == "applied")
        .where(col(Customer.erased_at).is_(None))
        .order_by(col(IdentityLink.confidence), col(IdentityLink.id))
    )
    return dict(session.exec(stmt).all())  # ordered by confidence: the most confident link wins


def author_post_ids(customer_id: int, *, session: Session) -> list[int]:
    """Ids of authors linked (applied) to the customer."""
    stmt = select(IdentityLink.author_id).where(
        IdentityLink.customer_id == customer_id, IdentityLink.status == "applied"
    )
    return sorted(set(session.exec(stmt)))


def authors_of(customer_id: int, *, session: Session) -> list[Author]:
    """The social identities applied-linked to a customer."""
    ids = author_post_ids(customer_id, session=session)
    return list(session.exec(select(Author).where(col(Author.id).in_(ids)))) if ids else []
