"""The API's application: `create_app(settings)` builds it, `dangol api` serves it with uvicorn."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from dangol.api import actions, reads
from dangol.api.context import ApiContext, RateLimitExceeded
from dangol.api.ratelimit import RateLimiter
from dangol.core.errors import (
    ActionError,
    ConfigError,
    Conflict,
    DangolError,
    Forbidden,
    InvalidTransition,
    NotFound,
    SendError,
)
from dangol.core.settings import Settings
from dangol.core.types import utcnow
from responder.accounts.api_tokens import InvalidToken

PREFIX = "/api/v1"
# Dangol's errors by HTTP status; the most specific class wins (Forbidden before ActionError).
STATUSES: list[tuple[type[DangolError], int, str]] = [
    (InvalidToken, 401, "unauthorized"),
    (Forbidden, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (InvalidTransition, 409, "conflict"),
    (RateLimitExceeded, 429, "rate_limited"),
    (ActionError, 422, "invalid"),
    (ConfigError, 422, "invalid"),  # a malformed week, a bad value in a query
    (SendError, 502, "send_failed"),
    (DangolError, 400, "refused"),
]


def error(status: int, kind: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The one error shape: {"error": kind, "message": what to do about it}."""
    return JSONResponse({"error": kind, "message": message}, status_code=status, headers=headers)


def _dangol_error(_: Request, exc: Exception) -> JSONResponse:
    status, kind = next((s, k) for cls, s, k in STATUSES if isinstance(exc, cls))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, RateLimitExceeded):
        headers = {"Retry-After": str(exc.retry_after)}
    message = str(exc)
    if isinstance(exc, SendError) and exc.reply_id is not None:
        kept = exc.reply_id
        message += f" (reply {kept} is kept as not sent: POST {PREFIX}/replies/{kept}/send sends it again)"
    return error(status, kind, message, headers)


def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kinds = {404: "not_found", 405: "method_not_allowed"}
    return error(exc.status_code, kinds.get(exc.status_code, "http_error"), str(exc.detail), exc.headers)


def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()]
    return error(422, "invalid", "; ".join(problems) or "invalid request")


async def _refuse_nul(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """A NUL character in the path or a query parameter is refused before any handler runs: no
    stored text holds one, and PostgreSQL refuses it in a bound value (a search for "%00" was a 500)."""
    if "\x00" in request.scope["path"]:  # decoded: %00 is a NUL here
        return error(422, "invalid", "the path contains a NUL character (%00); remove it")
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            shown = name.replace("\x00", "")
            return error(422, "invalid", f"query parameter {shown!r} contains a NUL character (%00); remove it")
    return await call_next(request)


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = utcnow,
    limiter: RateLimiter | None = None,
) -> FastAPI:
    """The API on `settings` (its database unless `engine` is given, migrated to the current schema)."""
    if engine is None:
        from storage.engine import make_engine
        from storage.migrate import upgrade

        engine = make_engine(settings.database.url, echo=settings.database.echo)
        upgrade(engine)
    app = FastAPIOffline(
        title="Dangol API",
        version="1",
        description=(
            "Read the queue, customers, topics, alerts, reports and feeds, and act on items, as the staff "
            "member whose personal token you send (`Authorization: Bearer …`), with that person's role. "
            "Every action is checked and audited exactly as from the dashboard."
        ),
        docs_url="/docs",
        redoc_url=None,
        static_url="/docs/static",  # Swagger UI's files, from the installed package: no CDN
    )
    app.state.api = ApiContext(
        settings=settings,
        engine=engine,
        clock=clock,
        limiter=limiter or RateLimiter(settings.api.rate_limit_per_minute),
    )
    app.middleware("http")(_refuse_nul)
    app.add_exception_handler(DangolError, _dangol_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.include_router(reads.router, prefix=PREFIX)
    app.include_router(actions.router, prefix=PREFIX)
    return app
