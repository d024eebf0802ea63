"""Authors as a whole: which of them are the brand's own accounts."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, func, or_, select, update
from sqlmodel import Session, col

from storage.models import Author, Post


def mark_brand_accounts(*, session: Session, own: list[tuple[str | None, str]]) -> None:
    """Set `Author.is_brand` from the configured own accounts ((platform or None, lowercase handle)),
    clearing it where an account left the list. Two UPDATEs; run before anything counts posts."""
    matches = [
        and_(func.lower(col(Author.handle)) == handle, *([col(Author.platform) == platform] if platform else []))
        for platform, handle in own
    ]
    is_own = or_(*matches) if matches else false()
    session.execute(update(Author).where(is_own, col(Author.is_brand).is_(False)).values(is_brand=True))
    session.execute(update(Author).where(~is_own, col(Author.is_brand).is_(True)).values(is_brand=False))


def customer_voice() -> ColumnElement[bool]:
    """Posts not written by one of the brand's own accounts (for queries over Post)."""
    brand = select(col(Author.id)).where(col(Author.is_brand).is_(True))
    return col(Post.author_id).not_in(brand)


def own_voice() -> ColumnElement[bool]:
    """Customer voice about the own brand: also not a post that names only competitors."""
    return and_(customer_voice(), col(Post.competitor).is_(False))
