"""Queries behind the response queue: filtered pages, staff load, atomic claims, thread look-ups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from dangol.types import utcnow
from storage.models import Analysis, Author, Customer, IdentityLink, Post, QueueItem

SORTS = ("priority", "oldest", "newest", "due")
SLA_STATES = ("ok", "warning", "breached")


@dataclass(frozen=True)
class QueueFilters:
    """What the queue list can be narrowed by; None means "any".

    `sla` is the clock's state now (ok | warning | breached, as the dashboard shows it);
    `sla_breached` is the stored breach flag alone.
    """

    status: Sequence[str] | None = None
    team: str | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    priority: int | None = None
    platform: str | None = None
    topic: str | None = None
    sentiment: str | None = None
    language: str | None = None
    tag: str | None = None
    customer_id: int | None = None
    sla_breached: bool | None = None
    sla: str | None = None
    text: str | None = None


def due_column() -> ColumnElement[Any]:
    """The clock that matters now: first response until answered, then resolution."""
    return case(
        (col(QueueItem.first_responded_at).is_(None), col(QueueItem.first_response_due_at)),
        else_=col(QueueItem.resolution_due_at),
    )


def _conditions(f: QueueFilters, now: datetime, warn: timedelta) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.status:
        conditions.append(col(QueueItem.status).in_(list(f.status)))
    if f.team:
        conditions.append(col(QueueItem.team) == f.team)
    if f.unassigned:
        conditions.append(col(QueueItem.assignee_id).is_(None))
    elif f.assignee_id is not None:
        conditions.append(col(QueueItem.assignee_id) == f.assignee_id)
    if f.priority is not None:
        conditions.append(col(QueueItem.priority) == f.priority)
    if f.customer_id is not None:
        conditions.append(col(QueueItem.customer_id) == f.customer_id)
    if f.sla_breached is not None:
        conditions.append(col(QueueItem.sla_breached) == f.sla_breached)
    if f.platform:
        conditions.append(col(Post.platform) == f.platform)
    if f.text:
        conditions.append(func.lower(col(Post.text)).contains(f.text.lower()))
    if f.topic:
        conditions.append(col(Analysis.primary_topic) == f.topic)
    if f.sentiment:
        conditions.append(col(Analysis.sentiment) == f.sentiment)
    if f.language:
        conditions.append(col(Analysis.language) == f.language)
    due = due_column()
    if f.sla == "breached":
        conditions.append(or_(col(QueueItem.sla_breached).is_(True), due <= now))
    elif f.sla == "warning":
        conditions.append(and_(col(QueueItem.sla_breached).is_(False), due > now, due <= now + warn))
    elif f.sla == "ok":
        conditions.append(and_(col(QueueItem.sla_breached).is_(False), or_(due.is_(None), due > now + warn)))
    return conditions


def _joined(stmt: Any, f: QueueFilters) -> Any:
    # Posts and analyses are joined only when a filter reads them, so most pages stay on the queue's indexes.
    if f.platform or f.text:
        stmt = stmt.join(Post, col(Post.id) == col(QueueItem.post_id))
    if f.topic or f.sentiment or f.language:
        stmt = stmt.join(Analysis, col(Analysis.post_id) == col(QueueItem.post_id))
    return stmt


def _order(sort: str) -> tuple[Any, ...]:
    # Priority, then age: both in ix_queue_status_priority, so the default page is read off the index.
    # (Ordering by the due time instead costs a table read per open item: 0.5 s at 100k open.)
    return {
        "priority": (col(QueueItem.priority), col(QueueItem.created_at), col(QueueItem.id)),
        "oldest": (col(QueueItem.created_at), col(QueueItem.id)),
        "newest": (col(QueueItem.created_at).desc(), col(QueueItem.id).desc()),
        "due": (col(QueueItem.first_response_due_at), col(QueueItem.id)),
    }[sort]


def queue_page(
    filters: QueueFilters,
    *,
    session: Session,
    sort: str = "priority",
    page: int = 1,
    page_size: int = 25,
    now: datetime | None = None,
    warn_before: timedelta = timedelta(minutes=30),
) -> tuple[list[QueueItem], int]:
    """One page of queue items matching `filters`, in `sort` order, and how many match in all.

    Two steps keep a page cheap on a large queue: the ids of the page are chosen on the queue
    table (joined to posts/analyses only when a filter needs them), then those rows are loaded
    by primary key. Measured at 1M posts: 17-95 ms for the common pages (BENCHMARKS.md).
    """
    conditions = _conditions(filters, now or utcnow(), warn_before)
    offset = (max(1, page) - 1) * page_size
    ids = _joined(select(col(QueueItem.id)).select_from(QueueItem), filters).where(*conditions)
    if filters.tag:
        # JSON list containment differs between SQLite and PostgreSQL; tags are few, so filter the
        # (id, tags) pairs here instead of loading whole rows.
        pairs = session.exec(
            _joined(select(col(QueueItem.id), col(QueueItem.tags)).select_from(QueueItem), filters)
            .where(*conditions)
            .order_by(*_order(sort))
        ).all()
        tagged = [item_id for item_id, tags in pairs if filters.tag in (tags or [])]
        chosen, total = tagged[offset : offset + page_size], len(tagged)
    else:
        counted = _joined(select(func.count()).select_from(QueueItem), filters).where(*conditions)
        total = int(session.exec(counted).one())
        chosen = list(session.exec(ids.order_by(*_order(sort)).limit(page_size).offset(offset)))
    loaded = {i.id: i for i in session.exec(select(QueueItem).where(col(QueueItem.id).in_(chosen or [-1])))}
    return [loaded[i] for i in chosen if i in loaded], total


def open_loads(statuses: Sequence[str], *, session: Session) -> dict[int, int]:
    """Staff id → number of items assigned to them in `statuses`."""
    stmt = (
        select(QueueItem.assignee_id, func.count())
        .where(col(QueueItem.assignee_id).is_not(None), col(QueueItem.status).in_(list(statuses)))
        .group_by(col(QueueItem.assignee_id))
    )
    return {int(staff_id): int(n) for staff_id, n in session.exec(stmt)}  # type: ignore[arg-type]


def claim_if_free(
    item_id: int,
    *,
    staff_id: int,
    version: int,
    from_statuses: Sequence[str],
    status: str,
    now: datetime,
    session: Session,
) -> bool:
    """Assign the item only if nobody holds it and nobody changed it since `version`; True if this call won.

    One conditional UPDATE: under concurrency the database lets exactly one such statement match.
    """
    stmt = (
        update(QueueItem)
        .where(
            col(QueueItem.id) == item_id,
            col(QueueItem.assignee_id).is_(None),
            col(QueueItem.version) == version,
            col(QueueItem.status).in_(list(from_statuses)),
        )
        .values(assignee_id=staff_id, status=status, updated_at=now, version=QueueItem.version + 1)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]


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


def items_by_cluster(keys: Sequence[str], *, session: Session) -> dict[str, QueueItem]:
    """Cluster key → its queue item, for the keys that have one."""
    if not keys:
        return {}
    return {i.cluster_key: i for i in session.exec(select(QueueItem).where(col(QueueItem.cluster_key).in_(list(keys))))}


def posts_with_authors(post_ids: Sequence[int], *, session: Session) -> dict[int, tuple[Post, Author]]:
    """Post id → (post, author) for a batch."""
    if not post_ids:
        return {}
    stmt = select(Post, Author).join(Author, col(Author.id) == Post.author_id).where(col(Post.id).in_(list(post_ids)))
    return {post.id or 0: (post, author) for post, author in session.exec(stmt)}


def item_in_thread(post: Post, *, session: Session) -> QueueItem | None:
    """The queue item whose post this one answers or shares a thread with, written by the same author."""
    refs = {r for r in (post.reply_to_id, post.thread_id) if r}
    if not refs:
        return None
    stmt = (
        select(QueueItem)
        .join(Post, col(Post.id) == QueueItem.post_id)
        .where(
            Post.platform == post.platform,
            Post.author_id == post.author_id,
            col(Post.id) != post.id,
            (col(Post.external_id).in_(refs)) | (col(Post.thread_id).in_(refs)),
        )
        .order_by(col(QueueItem.id).desc())
    )
    return session.exec(stmt.limit(1)).first()


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
