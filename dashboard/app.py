"""Dangol dashboard entry point: `streamlit run dashboard/app.py -- --config FILE`.

Logs the user in, then shows the pages their role may see. Each page re-checks permissions on
every action on the server (dashboard.context.act), so hiding a page is only a convenience.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Streamlit puts this file's folder on sys.path, not the repository root the packages live in.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from dashboard.context import load_ctx, log_out, logged_in_actor, show_flash  # noqa: E402
from dashboard.navigation import PAGES, visible_pages  # noqa: E402
from dashboard.safe import md  # noqa: E402


def main() -> None:
    """One run of the app: settings, login gate, sidebar, the chosen page."""
    st.set_page_config(page_title="Dangol", layout="wide")
    from dangol.core.errors import ConfigError

    try:
        ctx = load_ctx(sys.argv[1:])
    except ConfigError as exc:
        st.error("The configuration could not be loaded:")
        st.text("\n".join(exc.problems))
        st.stop()
    actor = logged_in_actor(ctx)
    if actor is None:
        from dashboard.views import login

        login.render(ctx)
        return
    pages = visible_pages(actor)
    with st.sidebar:
        st.markdown(f"**{md(actor.display_name or actor.username)}** · {md(actor.role)}")
        if st.button("Log out", key="logout"):
            _logout(ctx, actor.id)
        # A page asked for by a link or a button (navigation.open_item) is set before the radio exists.
        requested = st.session_state.pop("page", None)
        if requested in pages:
            st.session_state["nav"] = requested
        elif st.session_state.get("nav") not in pages:
            st.session_state["nav"] = pages[0]
        choice = st.radio("Page", pages, key="nav")
        from dashboard.views import alerts

        alerts.sidebar(ctx, actor)
    show_flash()
    PAGES[choice].render(ctx, actor)


def _logout(ctx: object, staff_id: int | None) -> None:
    from responder.accounts.auth import record_logout
    from storage.engine import session_scope

    with session_scope(ctx.engine) as session:  # type: ignore[attr-defined]
        record_logout(session=session, staff_id=staff_id)  # type: ignore[arg-type]
    log_out()
    st.rerun()


main()
