"""Customer memory: everything a customer said and was told, on every platform, for the person answering."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from dangol.core.errors import NotFound
from responder.statuses import OPEN_STATUSES
from storage.analyses import analysis_of
from storage.customers import authors_of, linked_customer
from storage.feedback import corrections_of_post
from storage.models import Analysis, Author, Customer, LabelFeedback, Note, Post, QueueItem, Reply, Staff
from storage.posts import live_posts_of_authors
from storage.queue import items_on_posts, notes_on_item
from storage.replies import given_replies_on_posts, replies_to_item
from storage.staff import usernames

SENTIMENT_SCORE = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}


@dataclass(frozen=True)
class HistoryPost:
    """One post by the customer, with what we understood of it."""

    post_id: int
    author_id: int
    platform: str
    handle: str
    text: str
    created_at: datetime | None
    sentiment: str | None
    topic: str | None
    url: str | None


@dataclass
class CustomerHistory:
    """A customer's posts and our replies across platforms, their mood over time, and open items."""

    customer: Customer | None
    authors: list[Author]
    posts: list[HistoryPost] = field(default_factory=list)  # newest first
    replies: list[Reply] = field(default_factory=list)  # sent or approved, newest first
    sentiment_by_day: list[tuple[date, float, int]] = field(default_factory=list)  # (day, mean -1..1, posts)
    open_items: list[QueueItem] = field(default_factory=list)
    items: list[QueueItem] = field(default_factory=list)  # every queue item on these posts, newest first

    def last_contact(self, *, apart_from_item: int | None = None) -> datetime | None:
        """When we last sent this customer a reply; with `apart_from_item`, on another item than
        that one (a follow-up on one thread is no "again since we spoke" to thank them for)."""
        sent = [
            r.sent_at
            for r in self.replies
            if r.status == "sent" and r.sent_at and (apart_from_item is None or r.queue_item_id != apart_from_item)
        ]
        return max(sent) if sent else None


@dataclass
class ItemContext:
    """Everything the dashboard shows beside one queue item."""

    item: QueueItem
    post: Post
    author: Author
    analysis: Analysis | None
    customer: Customer | None
    history: CustomerHistory
    notes: list[Note]
    replies: list[Reply]
    assignee: Staff | None = None
    note_authors: dict[int, str] = field(default_factory=dict)  # staff id → username, for notes and corrections
    feedback: list[LabelFeedback] = field(default_factory=list)  # staff label corrections of the post

    @property
    def posted_since(self) -> list[HistoryPost]:
        """What this post's author wrote after it, on the same account, oldest first. A "sorted, thanks"
        or "still waiting" changes what a reply should say; in the history table beside it such a
        post was one cut-off row among the customer's others."""
        if self.post.created_at is None:
            return []
        since = self.post.created_at
        return [
            p
            for p in reversed(self.history.posts)  # the history is newest first
            if p.post_id != self.post.id
            and p.author_id == self.post.author_id
            and p.created_at is not None
            and p.created_at > since
        ]


def history_for_authors(
    authors: list[Author], customer: Customer | None, *, session: Session, limit: int = 200
) -> CustomerHistory:
    """History over a set of social identities (one customer's, or a single unlinked author)."""
    history = CustomerHistory(customer=customer, authors=authors)
    ids = [a.id for a in authors if a.id is not None]
    if not ids:
        return history
    handles = {a.id: a.handle for a in authors}
    rows = live_posts_of_authors(ids, session=session, limit=limit)
    days: dict[date, list[float]] = defaultdict(list)
    for post, analysis in rows:
        history.posts.append(
            HistoryPost(
                post_id=post.id or 0, author_id=post.author_id, platform=post.platform,
                handle=handles.get(post.author_id, ""), text=post.text,
                created_at=post.created_at, sentiment=analysis.sentiment if analysis else None,
                topic=analysis.primary_topic if analysis else None, url=post.url,
            )
        )  # fmt: skip
        if analysis is not None and post.created_at is not None:
            days[post.created_at.date()].append(SENTIMENT_SCORE.get(analysis.sentiment, 0.0))
    history.sentiment_by_day = [(d, sum(v) / len(v), len(v)) for d, v in sorted(days.items())]
    post_ids = [p.post_id for p in history.posts]
    if post_ids:
        history.replies = given_replies_on_posts(post_ids, session=session)
        history.items = items_on_posts(post_ids, session=session)
        history.open_items = [i for i in history.items if i.status in OPEN_STATUSES]
    return history


def customer_history(customer_id: int, *, session: Session) -> CustomerHistory:
    """Posts and replies on every platform linked to the customer (applied identity links only)."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}")
    return history_for_authors(authors_of(customer_id, session=session), customer, session=session)


def item_people(item_id: int, *, session: Session) -> tuple[QueueItem, Post, Author, Customer | None]:
    """The item, its post and author, and its customer (the item's own, else the author's linked one)."""
    item = session.get(QueueItem, item_id)
    if item is None:
        raise NotFound(f"no queue item with id {item_id}")
    post = session.get(Post, item.post_id)
    author = session.get(Author, post.author_id) if post else None
    assert post is not None and author is not None
    customer = (
        session.get(Customer, item.customer_id)
        if item.customer_id
        else linked_customer(author.id or 0, session=session)
    )
    return item, post, author, customer


def item_history(author: Author, customer: Customer | None, *, session: Session) -> CustomerHistory:
    """The customer's history on every linked identity, or the author's alone when not linked."""
    authors = authors_of(customer.id or 0, session=session) if customer is not None else []
    return history_for_authors(authors or [author], customer, session=session)


def item_context(item_id: int, *, session: Session) -> ItemContext:
    """The item's post, author, analysis, linked customer and history, notes and replies."""
    item, post, author, customer = item_people(item_id, session=session)
    history = item_history(author, customer, session=session)
    notes = notes_on_item(item.id, session=session)
    feedback = corrections_of_post(session=session, post_id=post.id)
    staff_ids = {n.staff_id for n in notes} | {f.staff_id for f in feedback}
    names = usernames({i for i in staff_ids if i is not None}, session=session)
    return ItemContext(
        item=item,
        post=post,
        author=author,
        analysis=analysis_of(session=session, post_id=post.id),
        customer=customer,
        history=history,
        notes=notes,
        replies=replies_to_item(item.id, session=session),
        assignee=session.get(Staff, item.assignee_id) if item.assignee_id else None,
        note_authors=names,
        feedback=feedback,
    )
