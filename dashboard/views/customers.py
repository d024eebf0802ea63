"""Customers page: search, the 360 view, proposed identity links, merge and undo, export, erase."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from dangol.core.permissions import allowed
from dashboard.context import Ctx, act, read
from dashboard.safe import md, short
from dashboard.views.scores import render_scores
from reports.erasure import erase_customer
from responder.customers import decide_link, export_customer, merge_customers, undo_merge
from storage.customers import CustomerView, customer_view, proposed_links, search_customers
from storage.models import Staff


def render(ctx: Ctx, actor: Staff) -> None:
    """Search on the left, the chosen customer on the right; proposed links below."""
    st.header("Customers")
    with st.form("customer_search"):
        text = st.text_input("Search by name, email, handle or customer reference", key="customer_query")
        st.form_submit_button("Search")
    found = read(ctx, lambda s: search_customers(session=s, text=text))
    if not found:
        st.info("No customers match.")
    else:
        names = {c.id: f"#{c.id} {c.name} ({c.tier})" for c in found}
        chosen = st.selectbox("Customer", list(names), format_func=lambda i: names[i], key="customer_pick")
        if chosen is not None:
            _customer(ctx, actor, int(chosen))
    _proposed(ctx, actor)


def _customer(ctx: Ctx, actor: Staff, customer_id: int) -> None:
    view = read(ctx, lambda s: customer_view(session=s, customer_id=customer_id))
    if view is None:
        return
    c = view.customer
    st.subheader(md(c.name))
    st.markdown(f"tier **{md(c.tier)}** · email {md(c.email or '–')} · ref {md(c.external_ref or '–')}")
    if view.merged_into:
        st.warning(f"Merged into customer #{view.merged_into}.")
    if view.handles:
        st.caption("Known handles: " + ", ".join(f"{md(h.platform)}:{md(h.handle)}" for h in view.handles))
    if view.orders:
        st.caption("Orders: " + md(", ".join(view.orders)))
    if c.erased_at is None:
        render_scores(ctx, customer_id)
    if view.links:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "platform": a.platform,
                        "handle": a.handle,
                        "method": link.method,
                        "confidence": round(link.confidence, 2),
                        "status": link.status,
                    }
                    for link, a in view.links
                ]
            ),
            hide_index=True,
        )
    if view.posts:
        st.caption("History (newest first)")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "when": p.created_at,
                        "platform": p.platform,
                        "sentiment": an.sentiment if an else "",
                        "text": short(p.text, 120),
                    }
                    for p, an in view.posts
                ]
            ),
            hide_index=True,
        )
    _privacy(ctx, actor, customer_id, view)


def _privacy(ctx: Ctx, actor: Staff, customer_id: int, view: CustomerView) -> None:
    if allowed(actor, "customer.merge"):
        with st.form(f"merge_{customer_id}"):
            target = st.number_input("Merge this customer into customer #", min_value=1, step=1)
            if st.form_submit_button("Merge"):
                act(
                    ctx,
                    "customer.merge",
                    lambda s, a: merge_customers(session=s, actor=a, source_id=customer_id, target_id=int(target)),
                    f"Merged #{customer_id} into #{int(target)}",
                )
        if view.merged_into and st.button("Undo merge", key=f"unmerge_{customer_id}"):
            act(
                ctx,
                "customer.merge",
                lambda s, a: undo_merge(session=s, actor=a, source_id=customer_id),
                "Merge undone",
            )
    if allowed(actor, "customer.export"):
        if st.button("Prepare export (JSON)", key=f"export_{customer_id}"):
            data = act(ctx, "customer.export", lambda s, a: _export(s, a, customer_id), rerun=False)
            if data is not None:
                st.session_state[f"export_{customer_id}_data"] = data
        data = st.session_state.get(f"export_{customer_id}_data")
        if data:
            st.download_button(
                "Download export", data, file_name=f"customer-{customer_id}.json", mime="application/json"
            )
    if allowed(actor, "customer.erase"):
        with st.form(f"erase_{customer_id}"):
            sure = st.checkbox("I understand erasure cannot be undone")
            if st.form_submit_button("Erase this customer") and sure:
                act(
                    ctx,
                    "customer.erase",
                    lambda s, a: erase_customer(customer_id, session=s, settings=ctx.settings, actor=a),
                    "Customer erased",
                )


def _export(session: Any, actor: Staff, customer_id: int) -> str:
    data = export_customer(session=session, actor=actor, customer_id=customer_id)
    return json.dumps(data, ensure_ascii=False, indent=2)


def _proposed(ctx: Ctx, actor: Staff) -> None:
    st.subheader("Proposed identity links")
    links = read(ctx, lambda s: proposed_links(session=s))
    if not links:
        st.caption("Nothing waiting for confirmation.")
        return
    for link, author, customer in links:
        with st.container(border=True):
            st.markdown(
                f"{md(author.platform)} **@{md(author.handle)}** ({md(author.display_name)}) → "
                f"customer **{md(customer.name)}** · {md(link.method)} · confidence {link.confidence:.2f}"
            )
            if link.evidence:
                st.text(link.evidence)
            if allowed(actor, "customer.link"):
                cols = st.columns(2)
                if cols[0].button("Confirm", key=f"confirm_{link.id}"):
                    act(
                        ctx,
                        "customer.link",
                        _decide(link.id, True),  # type: ignore[arg-type]
                        "Link confirmed",
                    )
                if cols[1].button("Reject", key=f"reject_{link.id}"):
                    act(
                        ctx,
                        "customer.link",
                        _decide(link.id, False),  # type: ignore[arg-type]
                        "Link rejected",
                    )


def _decide(link_id: int, confirm: bool) -> Callable[[Any, Staff], Any]:
    """The action confirming or rejecting one proposed link (bound now, run on the click)."""
    return lambda session, actor: decide_link(session=session, actor=actor, link_id=link_id, confirm=confirm)
