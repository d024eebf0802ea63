"""Which pages exist, their URLs, and which a role sees (a page needs its `view` action).

Each page has its own URL (`/queue`, `/item?id=12`, …; the paths are dangol.core.links.PAGES, the
same ones alerts, e-mails, feeds and reports link to). State worth sharing lives in the query
string: a page reads it with `from_url` before drawing its widgets and writes it back with `to_url`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from dangol.core.links import PAGES as URL_PATHS
from dangol.core.permissions import allowed
from storage.models import Staff


@dataclass(frozen=True, slots=True)
class PageSpec:
    module: str
    needs: tuple[str, ...]  # any one of these actions shows the page

    @property
    def url_path(self) -> str:
        return self.module

    def render(self, ctx: Any, actor: Staff) -> None:
        import importlib

        page: ModuleType = importlib.import_module(f"dashboard.views.{self.module}")
        page.render(ctx, actor)


PAGES: dict[str, PageSpec] = {
    "Queue": PageSpec("queue", ("queue.view",)),
    "Item": PageSpec("item", ("queue.view",)),
    "Approvals": PageSpec("approvals", ("reply.review",)),
    "Customers": PageSpec("customers", ("customer.view",)),
    "Topics": PageSpec("topics", ("topic.view",)),
    "Reports": PageSpec("reports", ("report.view",)),
    "Sources": PageSpec("sources", ("source.view",)),
    "Admin": PageSpec("admin", ("admin.staff", "admin.teams", "admin.rules", "admin.topics")),
    "Inbox": PageSpec("inbox", ("notifications.self",)),
}
assert tuple(spec.url_path for spec in PAGES.values()) == URL_PATHS, "dangol.core.links.PAGES must match"


def visible_pages(actor: Staff) -> list[str]:
    """Page names the actor's role can open, in menu order."""
    return [name for name, spec in PAGES.items() if any(allowed(actor, a) for a in spec.needs)]


def refused_page(url: str, actor: Staff) -> str | None:
    """The page a link to `url` asks for when the actor's role may not open it, else None (a link to
    no page, or to one the role may open). Streamlit serves its default page for such a link, and a
    person who followed it would otherwise see another page under that address without a word."""
    from urllib.parse import urlsplit

    last = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    name = next((name for name, spec in PAGES.items() if spec.url_path == last), None)
    return name if name is not None and name not in visible_pages(actor) else None


def open_item(item_id: int) -> None:
    """Switch to the Item page showing `item_id` (on the next run; safe in a button callback,
    where st.switch_page is not allowed)."""
    import streamlit as st

    st.session_state["item_id"] = item_id
    st.session_state["page"] = "Item"


def open_page(url_path: str, **query: str) -> None:
    """Switch to the page at `url_path` with `query` in its URL on the next run (safe in a button
    callback): the page reads the query as it reads an opened link's (`from_url`)."""
    import streamlit as st

    st.session_state["page"] = next(name for name, spec in PAGES.items() if spec.url_path == url_path)
    st.session_state["page_query"] = query


def open_paths(actor: Staff) -> set[str]:
    """The URL paths of the pages the actor's role can open."""
    return {PAGES[name].url_path for name in visible_pages(actor)}


def scope_button(where: Any, scope: str, paths: set[str], *, key: str, verb: str) -> None:
    """In `where` (a container), a "<verb> topic" (or "<verb> sources") button to the page about a
    spike alert's scope, when it is among the `paths` the reader may open."""
    from dangol.core.links import scope_page

    path, query = scope_page(scope)
    if path in paths:
        label = f"{verb} topic" if query else f"{verb} sources"
        where.button(label, key=key, on_click=open_page, args=(path,), kwargs=query)


def remember_page(url_path: str) -> None:
    """Note the page this full run draws (fragment reruns do not come through main()), so a page
    can tell a new visit from a rerun of itself (`arrived`)."""
    import streamlit as st

    st.session_state["page_before"] = st.session_state.get("page_now")
    st.session_state["page_now"] = url_path


def arrived() -> bool:
    """True on the first full run of a visit to the current page (from another page, or the first)."""
    import streamlit as st

    return bool(st.session_state.get("page_before") != st.session_state.get("page_now"))


def _seen() -> dict[str, tuple[str, ...]]:
    import streamlit as st

    seen: dict[str, tuple[str, ...]] = st.session_state.setdefault("url_seen", {})
    return seen


def from_url(param: str, key: str, options: Sequence[str] | None = None, *, many: bool = False) -> None:
    """Before the widget `key` is drawn: when the URL's `param` changed since this session last saw
    it (a link was opened, or the browser went back), put its value in the widget.

    Values not among `options` are dropped: a stale link must not break the page. A URL without
    the parameter leaves the widget as the session had it."""
    import streamlit as st

    values = tuple(st.query_params.get_all(param))
    seen = _seen()
    if not values or values == seen.get(param):
        return
    seen[param] = values
    if many:
        st.session_state[key] = [] if values == ("all",) else [v for v in values if options is None or v in options]
    elif options is None or values[-1] in options:
        st.session_state[key] = values[-1]


def to_url(param: str, value: str | Sequence[str] | None, default: str | Sequence[str] | None = None) -> None:
    """Show the widget's value in the URL (left out when it is the default), so the address bar can
    be copied and shared. An empty multi-choice is written as `all` (no filter)."""
    import streamlit as st

    if value is None or (
        default is not None and (value == default if isinstance(value, str) else list(value) == list(default))
    ):
        if param in st.query_params:
            del st.query_params[param]
        _seen()[param] = ()
        return
    values = [value] if isinstance(value, str) else (list(value) or ["all"])
    if tuple(st.query_params.get_all(param)) != tuple(values):
        st.query_params[param] = values
    _seen()[param] = tuple(values)
