"""What every request needs: the settings, the engine, the clock, the rate limiter, and the caller.

The caller is resolved in two steps: the bearer token is checked (and its use counted) in its own
short transaction, then each endpoint loads the staff row again in the transaction of its work and
checks the permission there, so a role changed a moment ago applies to this request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol.api.ratelimit import RateLimiter
from dangol.core.errors import DangolError
from dangol.core.permissions import require
from dangol.core.settings import Settings
from dangol.core.types import MAX_ROW_ID
from responder.accounts.api_tokens import InvalidToken, authenticate
from storage.engine import session_scope
from storage.models import Staff


class RateLimitExceeded(DangolError):
    """Too many requests with one token in this window (HTTP 429 with Retry-After)."""

    def __init__(self, retry_after: int, limit: int) -> None:
        super().__init__(f"rate limit of {limit} requests per minute per token reached; retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ApiContext:
    settings: Settings
    engine: Engine
    clock: Callable[[], datetime]
    limiter: RateLimiter


# auto_error=False: a missing header gets our own 401 message, not FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="A personal API token: `dangol api token create`.")


def api_context(request: Request) -> ApiContext:
    ctx = request.app.state.api
    assert isinstance(ctx, ApiContext)
    return ctx


def caller_id(
    ctx: Annotated[ApiContext, Depends(api_context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> int:
    """The id of the staff member whose token authorised this request; 401 and 429 otherwise."""
    if credentials is None:
        raise InvalidToken(
            "missing header 'Authorization: Bearer <token>'; create a token with `dangol api token create`"
        )
    with session_scope(ctx.engine) as session:
        staff, token = authenticate(session=session, token=credentials.credentials, now=ctx.clock())
        staff_id, token_id = staff.id or 0, token.id
    wait = ctx.limiter.hit(token_id)
    if wait is not None:
        raise RateLimitExceeded(wait, ctx.limiter.per_minute)
    return staff_id


# What endpoints declare: the API's context, and the id of the staff member calling.
Ctx = Annotated[ApiContext, Depends(api_context)]
Caller = Annotated[int, Depends(caller_id)]
# A row's id in a URL: beyond MAX_ROW_ID it is invalid (422), not a database error (500).
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


@contextmanager
def acting(ctx: ApiContext, staff_id: int, action: str) -> Iterator[tuple[Session, Staff]]:
    """One transaction as the caller, freshly loaded, after `require(caller, action)`."""
    with session_scope(ctx.engine) as session:
        actor = session.get(Staff, staff_id)
        if actor is None or not actor.active:
            raise InvalidToken("the account behind this API token can no longer log in")
        require(actor, action)
        yield session, actor
