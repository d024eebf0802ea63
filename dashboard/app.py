"""Dangol dashboard entry point: `streamlit run dashboard/app.py -- --config FILE`.

Logs the user in, then shows the pages their role may see, each at its own URL (`/queue`,
`/item?id=12`, …). Each page re-checks permissions on every action on the server
(dashboard.context.act), so hiding a page is only a convenience.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Streamlit puts this file's folder on sys.path, not the repository root the packages live in.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from dashboard.context import Ctx, flash, load_ctx, log_out, logged_in_actor, session_token, show_flash  # noqa: E402
from dashboard.navigation import PAGES, refused_page, remember_page, visible_pages  # noqa: E402
from dashboard.safe import md  # noqa: E402
from storage.models import Staff  # noqa: E402


def main() -> None:
    """One run of the app: settings, login gate, navigation, sidebar, the chosen page."""
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

        # Every page is registered, hidden and never run, so the address the browser came with
        # (/item?id=12 from an alert) is kept and the login's rerun lands on it.
        st.navigation([_home(), *(_page(name, ctx, None) for name in PAGES)], position="hidden")
        login.render(ctx)
        return
    names = visible_pages(actor)
    pages = {name: _page(name, ctx, actor, title=_title(name, ctx, actor)) for name in names}
    # The root URL is a hidden page that forwards to the role's first page, so every real page
    # keeps its own path (st.navigation would serve its default page at "/" only).
    current = st.navigation([_home(), *pages.values()])
    # A page asked for by a button (navigation.open_item: callbacks may not switch pages) or by a test.
    requested = st.session_state.pop("page", None)
    if current.url_path == "" or requested in pages:
        target = requested if requested in pages else names[0]
        refused = refused_page(st.context.url or "", actor) if requested is None else None
        if refused is not None:
            flash("error", f"{refused} is not open to your role ({actor.role}); here is {target} instead.")
        query = st.session_state.pop("page_query", None) or None  # navigation.open_page
        item = st.session_state.get("item_id") if target == "Item" else None
        st.switch_page(pages[target], query_params={"id": str(item)} if item else query)
    with st.sidebar:
        st.markdown(f"**{md(actor.display_name or actor.username)}** · {md(actor.role)}")
        st.caption("available" if actor.available else "away")
        if st.button("Log out", key="logout"):
            _logout(ctx, actor.id)
        from dashboard.views import alerts

        alerts.sidebar(ctx, actor)
        if "Inbox" in pages:
            from dashboard.views.inbox import watch_unread

            watch_unread(ctx, actor)
    show_flash()
    remember_page(current.url_path)
    current.run()


def _home() -> st.Page:
    # Never drawn: main() switches away from it before running a page.
    return st.Page(lambda: None, title="Dangol", url_path="home", default=True, visibility="hidden")


def _page(name: str, ctx: Ctx, actor: Staff | None, title: str | None = None) -> st.Page:
    spec = PAGES[name]

    def render() -> None:
        assert actor is not None, "pages run only after login"
        spec.render(ctx, actor)

    return st.Page(render, title=title or name, url_path=spec.url_path)


def _title(name: str, ctx: Ctx, actor: Staff) -> str:
    """The menu's name for a page: the Inbox carries the unread count, read on every run."""
    if name != "Inbox":
        return name
    from dashboard.views.inbox import unread

    count = unread(ctx, actor)
    return f"Inbox ({count})" if count else name


def _logout(ctx: Ctx, staff_id: int | None) -> None:
    from responder.accounts.auth import end_session, record_logout
    from responder.presence import leave
    from storage.engine import session_scope

    token = session_token()
    with session_scope(ctx.engine) as session:
        if token is not None:  # revoked in the database: the cookie the browser keeps is now worthless
            end_session(session=session, token=token)
        record_logout(session=session, staff_id=staff_id)  # type: ignore[arg-type]
        if staff_id is not None:  # gone from every item at once, not after the stale timeout
            leave(session=session, staff_id=staff_id)
    log_out()
    st.rerun()


main()
