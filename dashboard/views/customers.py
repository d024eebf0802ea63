"""Customers page: search, the 360 view, proposed identity links, merge and undo, export, erase;
segments: their counts and movement over time, each segment's members and an audited CSV of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dangol.core.customer_scores import SCORES, breakdown_summary
from dangol.core.permissions import allowed
from dangol.core.types import MAX_ROW_ID, utcnow
from dashboard.context import Ctx, act, read
from dashboard.safe import author_md, md, short
from dashboard.times import utc_minute
from dashboard.views.scores import render_scores
from reports.erasure import erase_customer
from responder.customers import decide_link, export_customer, merge_customers, undo_merge
from storage.customer_scores import segment_counts, segment_members, segment_members_by_day
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
        st.info(
            "No customers match." if text.strip() else "No customers yet: `dangol customers import FILE` adds them."
        )
    else:
        if not text.strip():
            st.caption(f"The {len(found)} customers heard from most recently; search to find anyone else.")
        names = {c.id: f"#{c.id} {c.name} ({c.tier})" for c in found}
        chosen = st.selectbox("Customer", list(names), format_func=lambda i: names[i], key="customer_pick")
        if chosen is not None:
            _customer(ctx, actor, int(chosen))
    _proposed(ctx, actor)
    _segments(ctx, actor)


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
                        "when": utc_minute(p.created_at),
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
            target = st.number_input("Merge this customer into customer #", min_value=1, max_value=MAX_ROW_ID, step=1)
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
                f"{md(author.platform)} {author_md(author.handle, author.display_name)} → "
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


SHOWN_MEMBERS = 200  # members listed on the page; the CSV holds them all


def _segments(ctx: Ctx, actor: Staff) -> None:
    """Members per segment now and per day over the last weeks (from the segment history), then one
    segment's members with their scores, and their CSV."""
    st.subheader("Segments")
    names = {key: segment.name for key, segment in ctx.settings.segments.items()}
    if not names:
        st.caption("No segments are configured ([segments.*] in config.toml).")
        return
    weeks = int(st.number_input("Weeks shown", min_value=1, max_value=52, value=8, step=1, key="segment_weeks"))
    today = utcnow().date()
    first = today - timedelta(days=7 * weeks - 1)
    counts, by_day = read(
        ctx, lambda s: (segment_counts(session=s), segment_members_by_day(session=s, first_day=first, last_day=today))
    )
    st.dataframe(pd.DataFrame([{"segment": names[k], "members now": counts.get(k, 0)} for k in names]), hide_index=True)
    frame = pd.DataFrame(
        [
            {"day": day, "segment": names.get(key, key), "members": n}
            for key, days in by_day.items()
            for day, n in days.items()
            if key in names
        ],
        columns=["day", "segment", "members"],
    )
    if frame.empty:
        st.caption("No segment history yet: it starts with the first scoring run.")
    else:
        st.line_chart(frame, x="day", y="members", color="segment")
    key = st.selectbox("Segment", list(names), format_func=lambda k: names[k], key="segment_pick")
    if key is None:
        return
    members = read(ctx, lambda s: segment_members(key, session=s, limit=SHOWN_MEMBERS))
    if not members:
        st.caption(f"Nobody is in {md(names[key])} now.")
    else:
        more = f" (the first {SHOWN_MEMBERS}; the CSV holds all)" if len(members) == SHOWN_MEMBERS else ""
        st.caption(f"Members of {md(names[key])}, highest value first{more}")
        st.dataframe(
            pd.DataFrame(
                [
                    {"customer": f"#{m.customer_id}", "public handles": ", ".join(m.handles), "tier": m.tier}
                    | {name: round(m.scores[name], 2) for name in SCORES}
                    | {"trend": m.trend, "segments": ", ".join(m.segments), "mainly": breakdown_summary(m.breakdown)}
                    for m in members
                ]
            ),
            hide_index=True,
        )
    if allowed(actor, "segment.export"):
        _segment_csv(ctx, key)


def _segment_csv(ctx: Ctx, key: str) -> None:
    """Prepare (audited: it lists customers by their public handles), then download."""
    from reports.segments import export_segment

    ready = f"segment_csv_{key}"
    why = "The CSV lists customers by public handle with their scores; each export is recorded in the audit trail."
    if st.button("Prepare segment CSV", key=f"prepare_{ready}", help=why):
        data = act(ctx, "segment.export", lambda s, a: export_segment(key, session=s, actor=a), rerun=False)
        if data is not None:
            st.session_state[ready] = data
    if st.session_state.get(ready):
        st.download_button(
            "Download segment CSV", st.session_state[ready], file_name=f"segment-{key}.csv", mime="text/csv"
        )
