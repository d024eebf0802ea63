"""The login form: username and password, throttling and audit handled by responder.accounts.auth."""

from __future__ import annotations

import streamlit as st

from dangol.core.types import utcnow
from dashboard import context
from dashboard.context import LAST_ACTIVITY, STAFF_ID, Ctx
from dashboard.safe import md


def render(ctx: Ctx) -> None:
    """Show the login form; on success remember the staff id and the time of activity."""
    from responder.accounts.auth import attempt_login
    from storage.engine import session_scope

    st.title(f"{md(ctx.settings.brand.name)} · Dangol")
    notice = st.session_state.pop("login_notice", None)
    if notice:
        st.warning(md(notice))
    if context.KEPT_LOGINS:
        # Served by dashboard/server.py: logging in means getting its cookie, which only its own
        # form can set; reloading sends the browser there and back to this page afterwards.
        st.info("You are logged out. Reload the page to log in again.")
        return
    with st.form("login"):
        username = st.text_input("Username", key="login_username")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in")
    if not submitted:
        return
    with session_scope(ctx.engine) as session:
        attempt = attempt_login(
            session=session,
            username=username,
            password=password,
            settings=ctx.settings.dashboard,
            client=_client_address(),
        )
        staff_id = attempt.staff.id if attempt.staff else None
    if not attempt.ok:
        st.error(md(attempt.message))
        return
    st.session_state[STAFF_ID] = staff_id
    st.session_state[LAST_ACTIVITY] = utcnow()
    st.rerun()


def _client_address() -> str:
    """The browser's address as Streamlit's server sees it (behind a reverse proxy: the proxy's),
    or "unknown" where there is none (a test run)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "unknown"
