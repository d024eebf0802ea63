"""Approvals page (PR reviewers): read the post, edit the reply, approve or reject with a comment."""

from __future__ import annotations

from typing import Any, Literal

import streamlit as st

from dangol.core.types import web_link
from dashboard.context import Ctx, act, flash, read
from dashboard.navigation import open_item
from dashboard.reply_outcome import reply_outcome, sent_or_kept
from dashboard.safe import md
from storage.audit import approval_reasons
from storage.models import Staff
from storage.replies import pending_replies


def render(ctx: Ctx, actor: Staff) -> None:
    """Replies waiting for approval, oldest first."""
    st.header("Approvals")
    pending = read(ctx, lambda s: pending_replies(session=s))
    if not pending:
        st.info("No replies are waiting for approval.")
        return
    ids = [reply.id for reply, *_ in pending if reply.id is not None]
    reasons = read(ctx, lambda s: approval_reasons(session=s, reply_ids=ids))
    for reply, post, author, drafter in pending:
        with st.container(border=True):
            st.markdown(
                f"Reply #{reply.id} to **@{md(author.handle)}** on {md(post.platform)} · "
                f"drafted by {md(drafter or 'system')} · item #{reply.queue_item_id}"
            )
            why = reasons.get(reply.id or 0)
            if why:
                st.caption("Needs approval: " + md("; ".join(why)))
            st.caption("Their post")
            st.text(post.text)
            # The whole context (thread, customer history, why it was queued) is on the item's page.
            links = st.container(horizontal=True)
            links.button(
                f"Open item #{reply.queue_item_id}",
                key=f"review_open_{reply.id}",
                on_click=open_item,
                args=(reply.queue_item_id,),
            )
            if url := web_link(post.url):
                links.link_button("Open the original post ↗", url)
            with st.form(f"review_{reply.id}"):
                text = st.text_area(
                    "Reply (edit before approving if needed)", value=reply.text, key=f"review_text_{reply.id}"
                )
                comment = st.text_input("Comment for the agent", key=f"review_comment_{reply.id}")
                cols = st.columns(2)
                approve = cols[0].form_submit_button("Approve")
                reject = cols[1].form_submit_button("Reject")
            if approve or reject:
                _review(ctx, reply.id, "approve" if approve else "reject", text, comment, reply.text)  # type: ignore[arg-type]


def _review(
    ctx: Ctx, reply_id: int, decision: Literal["approve", "reject"], text: str, comment: str, original: str
) -> None:
    from responder.approval import review

    def run(session: Any, who: Staff) -> Any:
        edited = text.strip() if text.strip() and text.strip() != original else None
        # With settings, an approved reply is sent at once (dry-run unless sending is configured);
        # the approval stands when the platform does not take it.
        return sent_or_kept(
            session,
            lambda: review(
                reply_id,
                decision,
                actor=who,
                comment=comment.strip(),
                edited_text=edited,
                session=session,
                settings=ctx.settings,
            ),
        )

    reply = act(ctx, "reply.review", run, rerun=False)
    if reply is not None:
        flash(*reply_outcome(reply, approved=decision == "approve"))
        st.rerun()
