"""Links into the dashboard: one URL per page, built from `[dashboard] base_url`.

Every alert, e-mail, webhook message, feed entry and report that mentions an item or a page builds
its link here, so the paths match the ones the dashboard registers (dashboard.navigation)."""

from __future__ import annotations

from urllib.parse import urlencode

# The dashboard's pages by URL path; dashboard.navigation registers exactly these.
PAGES = ("queue", "item", "approvals", "customers", "topics", "reports", "sources", "admin", "inbox")


def page_url(base_url: str, page: str, **params: str | int | None) -> str:
    """`base_url/page?k=v…`; parameters that are None are left out."""
    if page not in PAGES:
        raise ValueError(f"no dashboard page {page!r}; pages: {', '.join(PAGES)}")
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{base_url.rstrip('/')}/{page}" + (f"?{query}" if query else "")


def item_url(base_url: str, item_id: int) -> str:
    """The Item page showing queue item `item_id`."""
    return page_url(base_url, "item", id=item_id)


def topic_url(base_url: str, topic: str | None = None) -> str:
    """The Topics page, showing `topic` when given."""
    return page_url(base_url, "topics", topic=topic)


def report_url(base_url: str, week: str | None = None) -> str:
    """The Reports page, on `week` (2026-W47) when given."""
    return page_url(base_url, "reports", week=week)


def scope_page(scope: str) -> tuple[str, dict[str, str]]:
    """The page (its path) about a spike alert's scope, with its query: `topic:delivery` → that
    topic, `source:…` → Sources."""
    kind, _, name = scope.partition(":")
    return ("topics", {"topic": name}) if kind == "topic" else ("sources", {})


def scope_url(base_url: str, scope: str) -> str:
    """The link to the page about a spike alert's scope (`scope_page`)."""
    page, query = scope_page(scope)
    return page_url(base_url, page, **query)
