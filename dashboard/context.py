"""What every page needs: settings (loaded once per session), a cached engine, the logged-in
staff member re-read from the database on every run, and `act` for server-checked actions."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import streamlit as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol.core.errors import DangolError
from dangol.core.settings import DEFAULT_CONFIG, Settings, load_settings
from dangol.core.types import utcnow
from dashboard.safe import md
from storage.models import Staff

T = TypeVar("T")
STAFF_ID = "staff_id"
LAST_ACTIVITY = "last_activity"
# The HttpOnly cookie dashboard/server.py sets at login; the app only ever reads it.
SESSION_COOKIE = "dangol_session"
# Set by dashboard/server.py: logins happen on its /login form and are kept across reloads.
KEPT_LOGINS = False


@dataclass(frozen=True, slots=True)
class Ctx:
    settings: Settings
    engine: Engine


def config_path(argv: list[str]) -> Path | None:
    """The config file: `--config FILE` after `--`, else $DANGOL_CONFIG, else ./config.toml if present."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--config", type=Path)
    known, _ = parser.parse_known_args(argv)
    if known.config:
        return known.config
    if os.environ.get("DANGOL_CONFIG"):
        return Path(os.environ["DANGOL_CONFIG"])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


@st.cache_resource(show_spinner=False)
def _engine(url: str, echo: bool) -> Engine:
    from storage.engine import make_engine
    from storage.migrate import upgrade

    engine = make_engine(url, echo=echo)
    upgrade(engine)
    return engine


def cached_engine(settings: Settings) -> Engine:
    """The process-wide engine for these settings' database."""
    return _engine(settings.database.url, settings.database.echo)


def load_ctx(argv: list[str]) -> Ctx:
    """Settings once per browser session; the engine once per process and database URL."""
    if "settings" not in st.session_state:
        st.session_state["settings"] = load_settings(config_path(argv))
    settings: Settings = st.session_state["settings"]
    return Ctx(settings=settings, engine=cached_engine(settings))


def logged_in_actor(ctx: Ctx, now: datetime | None = None, *, active: bool = True) -> Staff | None:
    """The logged-in staff row, fresh from the database; None (and logged out) when expired.

    Logged in either by the form in this browser tab (st.session_state) or by the session cookie
    dashboard/server.py set; a cookie's session is checked on every run, so a logout in another
    tab or its timeouts apply at once. `active=False` (a live refresh, not a click) checks the
    login without counting as activity, so an open page does not keep an idle login alive."""
    from responder.accounts.auth import SessionExpired, current_staff, record_logout, resume_session
    from storage.engine import session_scope

    token = session_token()
    if token is not None:
        with session_scope(ctx.engine) as session:
            try:
                staff = resume_session(
                    session=session, token=token, settings=ctx.settings.dashboard, now=now, touch=active
                )
            except SessionExpired as exc:
                staff = None
                if st.session_state.get(STAFF_ID) is not None:
                    st.session_state["login_notice"] = str(exc)
            if staff is not None:
                st.session_state[STAFF_ID] = staff.id
                if active or LAST_ACTIVITY not in st.session_state:
                    st.session_state[LAST_ACTIVITY] = now or utcnow()
                return staff
        if KEPT_LOGINS:
            log_out()
            return None
    staff_id = st.session_state.get(STAFF_ID)
    if staff_id is None:
        return None
    with session_scope(ctx.engine) as session:
        try:
            staff = current_staff(
                session=session,
                staff_id=staff_id,
                last_activity=st.session_state[LAST_ACTIVITY],
                settings=ctx.settings.dashboard,
                now=now,
            )
        except SessionExpired as exc:
            record_logout(session=session, staff_id=staff_id, reason="timeout")
            log_out()
            st.session_state["login_notice"] = str(exc)
            return None
    if active:
        st.session_state[LAST_ACTIVITY] = now or utcnow()
    return staff


def in_fragment_rerun() -> bool:
    """True while only a fragment runs (its timer or one of its widgets): main() and its login
    check did not run this time."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    run = get_script_run_ctx(suppress_warning=True)
    return bool(run is not None and run.fragment_ids_this_run)


def live_actor(ctx: Ctx, actor: Staff) -> Staff:
    """For a fragment: the actor main() checked on a full run; on the fragment's own rerun, the
    login checked again (without counting as activity), and the whole app run again when it has
    ended or a page switch is waiting (callbacks ask for one; only main() can make it)."""
    if not in_fragment_rerun():
        return actor
    fresh = logged_in_actor(ctx, active=False)
    if fresh is None or st.session_state.get("page"):
        st.rerun(scope="app")
    assert fresh is not None
    return fresh


def session_token() -> str | None:
    """The session cookie's token, when the browser sent one with the websocket's handshake."""
    try:
        token = st.context.cookies.get(SESSION_COOKIE)
    except Exception:  # noqa: BLE001 - no browser behind this run (a test, bare mode)
        return None
    return token if isinstance(token, str) and token else None


def log_out() -> None:
    """Forget the login (the settings stay)."""
    for key in (STAFF_ID, LAST_ACTIVITY, "item_id", "page", "url_seen", "page_now", "page_before", "queue_look"):
        st.session_state.pop(key, None)


def flash(kind: str, text: str) -> None:
    """Queue a message for the top of the next page run (it survives st.rerun). The same message
    is queued once: a new browser session may run the page again before the first run's switch to
    another page lands (seen once in Chromium: "not open to your role" shown twice)."""
    queued = st.session_state.setdefault("flash", [])
    if (kind, text) not in queued:
        queued.append((kind, text))


def show_flash() -> None:
    """Show and clear the queued messages."""
    shows = {"error": st.error, "warning": st.warning}
    for kind, text in st.session_state.pop("flash", []):
        shows.get(kind, st.success)(text)


def act(
    ctx: Ctx, action: str | None, func: Callable[[Session, Staff], T], done: str = "", *, rerun: bool = True
) -> T | None:
    """Run one change on the server: reload the actor, `require(action)`, run `func` in one
    transaction, and report the outcome; refusals and errors are shown, never raised.

    With `rerun` the page runs again at once, so it shows the data as changed."""
    from dangol.core.permissions import require
    from storage.engine import session_scope

    staff_id = st.session_state.get(STAFF_ID)
    if staff_id is None:
        st.error("You are not logged in.")
        return None
    try:
        with session_scope(ctx.engine) as session:
            actor = session.get(Staff, staff_id)
            if actor is None:
                raise DangolError("your account no longer exists")
            if action is not None:
                require(actor, action)
            result = func(session, actor)
    except DangolError as exc:
        flash("error", f"Refused: {md(exc)}")
        if rerun:
            st.rerun()
        show_flash()
        return None
    if done:
        flash("success", done)
    if rerun:
        st.rerun()
    show_flash()
    return result


def read(ctx: Ctx, func: Callable[[Session], T]) -> T:
    """Run a read-only query in its own session."""
    with Session(ctx.engine, expire_on_commit=False) as session:
        return func(session)
