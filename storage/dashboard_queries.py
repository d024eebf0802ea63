"""Queries behind the dashboard pages: one page of rows at a time, on indexed columns only.

Every list here is bounded (LIMIT/OFFSET or a small LIMIT), filters land on indexed columns
(queue status/team/assignee, analysis topic, post time), and aggregates are GROUP BY, so a
page costs the same with a thousand posts as with a million. The queue page itself is chosen
by `storage.queue_queries.queue_page` (through `responder.queue.list_queue`); `queue_rows` adds
what a line shows. Customer merges and link decisions are `storage.customers`' (checked and audited by
`responder.customers`); privacy export and erasure are `storage.privacy`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from storage.customers import merged_into
from storage.models import (
    Alert,
    Analysis,
    Author,
    Customer,
    CustomerHandle,
    CustomerOrder,
    DeadLetter,
    IdentityLink,
    Post,
    QueueItem,
    Reply,
    Source,
    Staff,
)
from storage.report_queries import live_between

SNIPPET = 280


@dataclass(slots=True)
class QueueRow:
    """One queue line: enough to triage without opening the item."""

    item_id: int
    status: str
    priority: int
    team: str
    assignee: str | None
    assignee_id: int | None
    due_at: datetime | None
    sla_breached: bool
    platform: str
    handle: str
    snippet: str
    sentiment: str | None
    topic: str | None
    language: str | None
    risk: float | None
    tags: list[str]
    created_at: datetime


def queue_rows(*, session: Session, items: list[QueueItem]) -> list[QueueRow]:
    """Queue lines for a page of items (from `responder.queue.list_queue`), in the items' order.

    One query by primary key brings each item's post, author, analysis and assignee name.
    """
    post_ids = [i.post_id for i in items]
    rows = session.execute(
        select(Post, Author, Analysis)
        .join(Author, col(Author.id) == col(Post.author_id))
        .outerjoin(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(col(Post.id).in_(post_ids or [-1]))
    ).all()
    by_post = {post.id: (post, author, analysis) for post, author, analysis in rows}
    staff_ids = {i.assignee_id for i in items if i.assignee_id is not None}
    names = dict(
        session.execute(select(col(Staff.id), col(Staff.username)).where(col(Staff.id).in_(staff_ids or [-1]))).all()
    )
    return [
        _queue_row(i, *by_post[i.post_id], names.get(i.assignee_id) if i.assignee_id else None)
        for i in items
        if i.post_id in by_post
    ]


def _queue_row(
    item: QueueItem, post: Post, author: Author, analysis: Analysis | None, assignee: str | None
) -> QueueRow:
    due = item.first_response_due_at if item.first_responded_at is None else item.resolution_due_at
    return QueueRow(
        item_id=item.id,  # type: ignore[arg-type]
        status=item.status,
        priority=item.priority,
        team=item.team,
        assignee=assignee,
        assignee_id=item.assignee_id,
        due_at=due,
        sla_breached=item.sla_breached,
        platform=post.platform,
        handle=author.handle,
        snippet=post.text[:SNIPPET],
        sentiment=item.sentiment,  # the item's labels carry staff corrections
        topic=item.topic,
        language=item.language,
        risk=analysis.risk if analysis else None,
        tags=list(item.tags),
        created_at=item.created_at,  # type: ignore[arg-type]
    )


def queue_facets(*, session: Session, topics: list[str]) -> dict[str, list[str]]:
    """Values offered in the queue filters, read from indexes and small tables only: teams in the
    queue (ix_queue_team_status_priority), the configured topics plus "other", and the languages staff
    handle (a DISTINCT over every analysis would read the whole table)."""
    teams = session.execute(select(col(QueueItem.team)).distinct().order_by(col(QueueItem.team)).limit(200)).scalars()
    languages: set[str] = set()
    for codes in session.execute(select(col(Staff.languages)).where(col(Staff.active).is_(True))).scalars():
        languages.update(codes or [])
    return {"team": list(teams), "topic": [*topics, "other"], "language": sorted(languages)}


# --- item ------------------------------------------------------------------------------------


def pending_replies(*, session: Session, limit: int = 50) -> list[tuple[Reply, Post, Author, str | None]]:
    """Replies waiting for approval, oldest first, with the post they answer and who drafted them."""
    stmt = (
        select(Reply, Post, Author, col(Staff.username))
        .join(Post, col(Post.id) == col(Reply.post_id))
        .join(Author, col(Author.id) == col(Post.author_id))
        .outerjoin(Staff, col(Staff.id) == col(Reply.author_staff_id))
        .where(col(Reply.status) == "pending_approval")
        .order_by(col(Reply.id))
        .limit(limit)
    )
    return [(r, p, a, name) for r, p, a, name in session.execute(stmt).all()]


# --- customers -------------------------------------------------------------------------------


def search_customers(*, session: Session, text: str, limit: int = 25) -> list[Customer]:
    """Customers whose name, email, external ref or a known handle starts with / equals `text`."""
    text = text.strip()
    if not text:
        stmt = select(Customer).where(col(Customer.erased_at).is_(None)).order_by(col(Customer.id).desc())
        return list(session.execute(stmt.limit(limit)).scalars())
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


@dataclass(slots=True)
class CustomerView:
    customer: Customer
    handles: list[CustomerHandle]
    orders: list[str]
    links: list[tuple[IdentityLink, Author]]
    posts: list[tuple[Post, Analysis | None]]
    items: list[QueueItem]
    merged_into: int | None


def customer_view(*, session: Session, customer_id: int, posts_limit: int = 50) -> CustomerView | None:
    """A customer's 360: handles, orders, identity links, recent posts and queue items."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    links = session.execute(
        select(IdentityLink, Author)
        .join(Author, col(Author.id) == col(IdentityLink.author_id))
        .where(col(IdentityLink.customer_id) == customer_id)
        .order_by(col(IdentityLink.id))
    ).all()
    author_ids = [a.id for link, a in links if link.status == "applied"]
    posts = session.execute(
        select(Post, Analysis)
        .outerjoin(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(col(Post.author_id).in_(author_ids or [-1]))
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


# --- topics, sources, alerts -----------------------------------------------------------------


def topic_daily_counts(
    *, session: Session, since: datetime, until: datetime, complaints_only: bool = True
) -> list[tuple[str, str, int]]:
    """(day 'YYYY-MM-DD' in UTC, topic, posts) for each day and topic in the window."""
    day = _day(session, col(Post.created_at))
    stmt = (
        select(day, col(Analysis.primary_topic), func.count())
        .join(Post, col(Post.id) == col(Analysis.post_id))
        .where(live_between(since, until))
        .group_by(day, col(Analysis.primary_topic))
        .order_by(day, col(Analysis.primary_topic))
    )
    if complaints_only:
        stmt = stmt.where(col(Analysis.is_complaint).is_(True))
    return [(str(d), str(t), int(n)) for d, t, n in session.execute(stmt).all()]


def sentiment_daily_counts(*, session: Session, since: datetime, until: datetime) -> list[tuple[str, str, int]]:
    """(day 'YYYY-MM-DD' in UTC, sentiment, posts) for each day in the window."""
    day = _day(session, col(Post.created_at))
    stmt = (
        select(day, col(Analysis.sentiment), func.count())
        .join(Post, col(Post.id) == col(Analysis.post_id))
        .where(live_between(since, until))
        .group_by(day, col(Analysis.sentiment))
        .order_by(day, col(Analysis.sentiment))
    )
    return [(str(d), str(s), int(n)) for d, s, n in session.execute(stmt).all()]


def _day(session: Session, column: Any) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp column as 'YYYY-MM-DD' text, per dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)  # SQLite stores UTC as ISO text


def topic_customers(
    *, session: Session, topic: str, since: datetime, until: datetime, limit: int = 25
) -> list[tuple[Customer, int]]:
    """Customers whose linked authors complained about `topic` in the window, with how many complaints
    (posts still up, as the page's chart and summary count them)."""
    stmt = (
        select(Customer, func.count(col(Post.id)))
        .join(
            IdentityLink, and_(col(IdentityLink.customer_id) == col(Customer.id), col(IdentityLink.status) == "applied")
        )
        .join(Post, col(Post.author_id) == col(IdentityLink.author_id))
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(col(Analysis.primary_topic) == topic, col(Analysis.is_complaint).is_(True), live_between(since, until))
        .group_by(col(Customer.id))
        .order_by(func.count(col(Post.id)).desc())
        .limit(limit)
    )
    return [(c, int(n)) for c, n in session.execute(stmt).all()]


def sources_health(*, session: Session) -> list[Source]:
    """Every source row with its health, throttling and budget."""
    return list(session.execute(select(Source).order_by(col(Source.name))).scalars())


def dead_letters(*, session: Session, limit: int = 50) -> list[DeadLetter]:
    """The newest dead letters."""
    stmt = select(DeadLetter).order_by(col(DeadLetter.id).desc()).limit(limit)
    return list(session.execute(stmt).scalars())


def recent_alerts(*, session: Session, limit: int = 10) -> list[Alert]:
    """The newest spike alerts."""
    stmt = select(Alert).order_by(col(Alert.started_at).desc(), col(Alert.id).desc()).limit(limit)
    return list(session.execute(stmt).scalars())


def sla_attainment_daily(*, session: Session, since: datetime, until: datetime) -> list[tuple[str, int, int]]:
    """(day, answered in time, answered late) by the day items were first answered."""
    day = _day(session, col(QueueItem.first_responded_at))
    on_time = func.sum(case((col(QueueItem.first_responded_at) <= col(QueueItem.first_response_due_at), 1), else_=0))
    stmt = (
        select(day, on_time, func.count())
        .where(col(QueueItem.first_responded_at) >= since, col(QueueItem.first_responded_at) < until)
        .group_by(day)
        .order_by(day)
    )
    return [(str(d), int(ok or 0), int(n) - int(ok or 0)) for d, ok, n in session.execute(stmt).all()]
