"""Which pages exist and which a role sees (a page needs its `view` action)."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from dangol.core.permissions import allowed
from storage.models import Staff


@dataclass(frozen=True, slots=True)
class PageSpec:
    module: str
    needs: tuple[str, ...]  # any one of these actions shows the page

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
}


def visible_pages(actor: Staff) -> list[str]:
    """Page names the actor's role can open, in menu order."""
    return [name for name, spec in PAGES.items() if any(allowed(actor, a) for a in spec.needs)]


def open_item(item_id: int) -> None:
    """Switch to the Item page showing `item_id` (on the next run)."""
    import streamlit as st

    st.session_state["item_id"] = item_id
    st.session_state["page"] = "Item"
