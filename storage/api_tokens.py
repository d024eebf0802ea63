"""Personal API tokens: stored by SHA-256 (never the token), listed per owner, touched on use."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import ApiToken, Staff


def add_token(
    *, session: Session, staff_id: int, name: str, token_hash: str, now: datetime, expires_at: datetime | None
) -> ApiToken:
    row = ApiToken(staff_id=staff_id, name=name, token_hash=token_hash, created_at=now, expires_at=expires_at)
    session.add(row)
    session.flush()
    return row


def token_and_owner(*, session: Session, token_hash: str) -> tuple[ApiToken, Staff | None] | None:
    """The token with this hash and its owner, in one query: it runs before every API request."""
    stmt = select(ApiToken, Staff).outerjoin(Staff, col(Staff.id) == col(ApiToken.staff_id))
    found = session.exec(stmt.where(ApiToken.token_hash == token_hash)).first()
    return None if found is None else (found[0], found[1])


def token_by_id(*, session: Session, token_id: int) -> ApiToken | None:
    return session.get(ApiToken, token_id)


def list_tokens(*, session: Session, staff_id: int | None = None) -> list[ApiToken]:
    """Tokens (revoked ones too: they are the record of what existed), oldest first; one owner's when given."""
    stmt = select(ApiToken).order_by(col(ApiToken.id))
    if staff_id is not None:
        stmt = stmt.where(ApiToken.staff_id == staff_id)
    return list(session.exec(stmt))
