"""The dashboard with logins that survive a browser reload: `streamlit run dashboard/server.py --
--config FILE` (what `dangol dashboard` runs).

Streamlit's own script cannot set a cookie (it talks over a websocket), so this st.App adds two
plain HTTP pieces around dashboard/app.py:

- `/login`: a small HTML form. Its POST checks the password (throttled and audited like the
  dashboard's form), stores a new session (responder.accounts.auth.start_session: the database
  keeps only the token's hash) and answers with the token in an HttpOnly, SameSite=Lax cookie
  and a redirect to the page asked for (`next`, a local path only). The token never appears in a
  URL, in the page, or where the page's scripts can read it.
- a gate on the page URLs (`/`, `/queue`, `/item`, …): a browser without a live session is sent
  to `/login?next=<the page>`, so a link from an alert lands on its item after the login.

The app reads the cookie from the websocket's handshake (st.context.cookies) on every run, so a
logout (which revokes the session in the database), the idle and the absolute timeout apply at
once in every tab.
"""

from __future__ import annotations

import html
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402
from starlette.concurrency import run_in_threadpool  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import HTMLResponse, RedirectResponse, Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from dangol.core.links import PAGES  # noqa: E402
from dashboard.context import SESSION_COOKIE, config_path  # noqa: E402

LOGIN_PATH = "/login"  # not /auth/…: Streamlit serves its own OIDC routes there
MAX_FORM_BYTES = 4096  # a username, a password and a path; anything bigger is not a login


@cache
def _backend() -> tuple[Any, Any]:
    """Settings and an engine, once per process (the same config file the app reads)."""
    from dangol.core.settings import load_settings
    from storage.engine import make_engine
    from storage.migrate import upgrade

    settings = load_settings(config_path(sys.argv[1:]))
    engine = make_engine(settings.database.url, echo=settings.database.echo)
    upgrade(engine)  # the login may come before the app's first run, which migrates too
    return settings, engine


def safe_next(target: str | None) -> str:
    """`next` as a local path (with its query), else "/": never another site (`//evil`, `https:`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _page(message: str = "", next_path: str = "/", username: str = "", status: int = 200) -> HTMLResponse:
    settings, _ = _backend()
    notice = f'<p class="error">{html.escape(message)}</p>' if message else ""
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in · Dangol</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:sans-serif;max-width:22rem;margin:4rem auto}}label,input,button{{display:block;width:100%;
margin:.4rem 0}}input{{padding:.4rem}}button{{padding:.5rem}}.error{{color:#b71c1c}}</style></head>
<body><h1>{html.escape(settings.brand.name)} · Dangol</h1>{notice}
<form method="post" action="{LOGIN_PATH}">
<input type="hidden" name="next" value="{html.escape(next_path)}">
<label>Username <input name="username" autocomplete="username" value="{html.escape(username)}" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button></form></body></html>"""
    # Never framed (clickjacking) nor cached (a shared machine's back button).
    headers = {
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
        "Content-Security-Policy": "frame-ancestors 'none'",
    }
    return HTMLResponse(body, status_code=status, headers=headers)


async def login_form(request: Request) -> Response:
    return _page(next_path=safe_next(request.query_params.get("next")))


def _same_origin(request: Request) -> bool:
    """A login POST must come from a page of this site (login CSRF): browsers send Origin on every
    form POST; it must be this server as the browser reached it, or the configured base_url."""
    settings, _ = _backend()
    origin = request.headers.get("origin")
    if not origin:
        return False
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    base = urlsplit(settings.dashboard.base_url)
    return origin in (own, f"{base.scheme}://{base.netloc}")


async def login_submit(request: Request) -> Response:
    if not _same_origin(request):
        return Response("cross-site login refused", status_code=403)
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        return Response("too large", status_code=413)
    form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    username, password = form.get("username", ""), form.get("password", "")
    next_path = safe_next(form.get("next"))
    client = request.client.host if request.client else "unknown"
    ok, message, token = await run_in_threadpool(_log_in, username, password, client)
    if not ok:
        return _page(message, next_path, username, status=401)
    settings, _ = _backend()
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=settings.dashboard.session_max_hours * 3600, path="/", httponly=True,
        samesite="lax",  # sent when a link from an e-mail or chat is followed; not on cross-site POSTs
        secure=settings.dashboard.base_url.startswith("https://"),
    )  # fmt: skip
    return response


def _log_in(username: str, password: str, client: str) -> tuple[bool, str, str]:
    from responder.accounts.auth import attempt_login, start_session
    from storage.engine import session_scope

    settings, engine = _backend()
    with session_scope(engine) as session:
        attempt = attempt_login(
            session=session, username=username, password=password, settings=settings.dashboard, client=client
        )
        if not attempt.ok or attempt.staff is None or attempt.staff.id is None:
            return False, attempt.message, ""
        return True, "", start_session(session=session, staff_id=attempt.staff.id, settings=settings.dashboard)


def live_session(token: str | None) -> bool:
    """True when the cookie's token is a session still alive (it is marked as used)."""
    from dangol.core.errors import Forbidden
    from responder.accounts.auth import resume_session
    from storage.engine import session_scope

    if not token:
        return False
    settings, engine = _backend()
    with session_scope(engine) as session:
        try:
            resume_session(session=session, token=token, settings=settings.dashboard)
        except Forbidden:
            return False
    return True


_GATED = {"/", *(f"/{page}" for page in PAGES)}


class LoginGate:
    """Sends a page request without a live session to the login form, keeping where it was going.
    Only the page URLs are gated: Streamlit's assets, health check and websocket pass through (the
    app checks the session itself on every run)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].rstrip("/") in _GATED | {""}:
            request = Request(scope)
            if not await run_in_threadpool(live_session, request.cookies.get(SESSION_COOKIE)):
                wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                target = f"{LOGIN_PATH}?next={quote(safe_next(wanted), safe='')}"
                await RedirectResponse(target, status_code=303)(scope, receive, send)
                return
        await self.app(scope, receive, send)


@asynccontextmanager
async def _serving(_app: Any) -> AsyncIterator[None]:
    # Only while this server runs (not when a test imports the module): the app's logged-out view
    # then points at /login instead of offering its own form.
    import dashboard.context

    if st.get_option("server.baseUrlPath").strip("/"):
        # The gate and the login form work on root paths; under a prefix the gate would let page
        # URLs through and the app would send the browser to a form it cannot reach.
        raise RuntimeError(
            "dashboard/server.py serves at the root of its host: unset server.baseUrlPath (give the "
            "dashboard its own host name), or run dashboard/app.py, which does not keep logins"
        )
    dashboard.context.KEPT_LOGINS = True
    yield


# Assigned at module level in one call: that is how `streamlit run` recognises an st.App (it reads
# this file's syntax before running it).
app = st.App(
    str(Path(__file__).resolve().parent / "app.py"),
    routes=[Route(LOGIN_PATH, login_form, methods=["GET"]), Route(LOGIN_PATH, login_submit, methods=["POST"])],
    middleware=[Middleware(LoginGate)],
    lifespan=_serving,
)
