"""Personal API tokens (`dangol api`): created by staff for themselves, revoked by their owner or an
admin, and turned back into their owner on every request.

A token carries no permissions of its own: it authenticates as its owner, whose row is loaded
afresh on each request, so a role change or a deactivation applies to the next call. Only the
token's SHA-256 is stored; the token is returned once, by `create_token`. Creating and revoking
are staff actions (`api.token`), each audited once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session

from dangol.core.errors import ActionError, Conflict, DangolError, Forbidden, NotFound
from dangol.core.permissions import allowed, require
from dangol.core.types import utcnow
from storage import api_tokens, audit
from storage.models import ApiToken, Staff

# A prefix makes a leaked token recognisable to secret scanners and to people reading a log.
PREFIX = "dgl_"
MAX_NAME = 100
# The last use is written at most this often: a busy integration would otherwise write a row per call.
TOUCH_EVERY = timedelta(seconds=60)


class InvalidToken(DangolError):
    """The bearer token is unknown, revoked, expired, or its owner can no longer log in (HTTP 401)."""


def token_hash(token: str) -> str:
    """The stored form of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    *,
    session: Session,
    actor: Staff | None,
    owner: Staff,
    name: str,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `owner`, labelled `name`; returns the row and the token (shown once, never stored).

    Tokens are personal: staff create their own (`actor` is `owner`); `actor=None` only from the
    CLI, which is trusted like `dangol staff add`. The owner's role must allow `api.token` either way."""
    now = now or utcnow()
    if actor is not None and actor.id != owner.id:
        raise Forbidden("API tokens are personal: each staff member creates their own")
    require(owner, "api.token")
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise ActionError(f"a token needs a name of 1 to {MAX_NAME} characters (what uses it, e.g. 'crm-sync')")
    if expires_at is not None and expires_at <= now:
        raise ActionError("a token's expiry must lie in the future")
    token = PREFIX + secrets.token_urlsafe(32)
    row = api_tokens.add_token(
        session=session, staff_id=owner.id or 0, name=name, token_hash=token_hash(token), now=now,
        expires_at=expires_at,
    )  # fmt: skip
    audit.record(
        session, actor=actor or "system:cli", action="api_token.create", entity_type="api_token", entity_id=row.id,
        after={"owner": owner.username, "name": name, "expires_at": expires_at},
    )  # fmt: skip
    return row, token


def revoke_token(*, session: Session, actor: Staff | None, token_id: int, now: datetime | None = None) -> ApiToken:
    """Revoke a token: its owner may (`api.token`), an admin may revoke anyone's (`admin.staff`);
    `actor=None` only from the CLI. Conflict when it is already revoked."""
    row = api_tokens.token_by_id(session=session, token_id=token_id)
    if actor is not None:
        require(actor, "api.token")
        if row is None or row.staff_id != actor.id:
            # Someone else's token, or none: only an admin may learn which, or revoke it.
            require(actor, "admin.staff")
    if row is None:
        raise NotFound(f"no API token with id {token_id}")
    if row.revoked_at is not None:
        raise Conflict(f"API token {token_id} was already revoked at {row.revoked_at:%Y-%m-%d %H:%M} UTC")
    row.revoked_at = now or utcnow()
    session.add(row)
    audit.record(
        session, actor=actor or "system:cli", action="api_token.revoke", entity_type="api_token", entity_id=token_id,
        after={"owner_id": row.staff_id, "name": row.name},
    )  # fmt: skip
    session.flush()
    return row


def list_tokens(*, session: Session, staff_id: int | None = None) -> list[ApiToken]:
    """Tokens oldest first (revoked ones included), one owner's when `staff_id` is given."""
    return api_tokens.list_tokens(session=session, staff_id=staff_id)


def authenticate(*, session: Session, token: str, now: datetime | None = None) -> tuple[Staff, ApiToken]:
    """The staff member behind a bearer token, freshly loaded, and the token's row (its last use
    recorded); InvalidToken when the token is unknown, revoked, expired, or its owner inactive."""
    now = now or utcnow()
    found = api_tokens.token_and_owner(session=session, token_hash=token_hash(token))
    if found is None:
        raise InvalidToken("unknown API token")
    row, staff = found
    if row.revoked_at is not None:
        raise InvalidToken("this API token was revoked; create a new one with `dangol api token create`")
    if row.expires_at is not None and row.expires_at <= now:
        raise InvalidToken(f"this API token expired at {row.expires_at:%Y-%m-%d %H:%M} UTC")
    if staff is None or not staff.active or not allowed(staff, "api.token"):
        raise InvalidToken("the account behind this API token can no longer log in")
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        row.last_used_at = now
        session.add(row)
    return staff, row
