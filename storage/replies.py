"""Replies to posts: an item's thread, a customer's history, sent replies to reuse, those awaiting approval."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from storage.models import Analysis, Author, Customer, IdentityLink, Post, Reply, Staff

# Replies that went, or will go, out: the ones a customer saw or is about to see.
GIVEN = ("sent", "approved")


def move_reply(session: Session, reply: Reply, from_statuses: Sequence[str], **values: Any) -> bool:
    """Set `values` (a new status and what goes with it) on the reply only if its status in the
    database is still one of `from_statuses`: one conditional UPDATE, so of two people acting on
    the same reply at once only one moves it (the other's UPDATE matches no row once the first has
    committed). True when it moved; `reply` then holds the values too."""
    result = session.execute(
        update(Reply)
        .where(col(Reply.id) == reply.id, col(Reply.status).in_(list(from_statuses)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    for name, value in values.items():
        # As stored, without marking the object changed (the UPDATE above wrote them).
        set_committed_value(reply, name, value)
    return True


def replies_to_item(item_id: int | None, *, session: Session) -> list[Reply]:
    """Every reply drafted on the queue item, oldest first."""
    return list(session.exec(select(Reply).where(Reply.queue_item_id == item_id).order_by(col(Reply.created_at))))


def given_replies_on_posts(post_ids: Sequence[int], *, session: Session) -> list[Reply]:
    """Sent or approved replies to these posts, newest first."""
    stmt = (
        select(Reply)
        .where(col(Reply.post_id).in_(list(post_ids)), col(Reply.status).in_(GIVEN))
        .order_by(col(Reply.created_at).desc())
    )
    return list(session.exec(stmt))


def given_replies_with_embeddings(
    *, session: Session, exclude_item: int, limit: int, language: str | None = None
) -> list[tuple[Reply, bytes, str | None, str | None, str | None]]:
    """The newest `limit` sent or approved replies on other items to analyzed posts (in `language`
    when given), each with (reply, the post's embedding, its author's display name and handle,
    their linked customer's name): what a suggestion may reuse and the names it must take out of it."""
    linked = and_(col(IdentityLink.author_id) == col(Author.id), col(IdentityLink.status) == "applied")
    stmt = (
        select(Reply, col(Analysis.embedding), col(Author.display_name), col(Author.handle), col(Customer.name))  # type: ignore[call-overload]
        .join(Analysis, col(Analysis.post_id) == Reply.post_id)
        .join(Post, col(Post.id) == Reply.post_id)
        .join(Author, col(Author.id) == Post.author_id)
        .join(IdentityLink, linked, isouter=True)
        .join(Customer, col(Customer.id) == IdentityLink.customer_id, isouter=True)
        .where(
            col(Reply.status).in_(GIVEN),
            Reply.queue_item_id != exclude_item,
            col(Analysis.embedding).is_not(None),
        )
        .order_by(col(Reply.id).desc())
        .limit(limit)
    )
    if language is not None:
        stmt = stmt.where(col(Analysis.language) == language)
    return [(reply, blob, display, handle, name) for reply, blob, display, handle, name in session.exec(stmt).all()]


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
