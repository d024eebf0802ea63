"""What became of a reply after a person wrote, approved or sent it again, in the words the
dashboard shows: a platform that refuses a reply, or never answers, is no refusal of the person's
action (responder.sending has recorded it; the Item page offers to send it again)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from sqlmodel import Session

from dangol.core.errors import SendError
from dangol.core.statuses import ReplyStatus
from dashboard.context import flash
from dashboard.safe import md
from storage.models import Reply


def sent_or_kept(session: Session, send: Callable[[], Reply]) -> Reply | None:
    """`send()`'s reply; when the platform did not take it, the reply as responder.sending has
    recorded it (failed, with the reason, already committed), for the page to say so: a platform
    that refuses or never answers is no refusal of the person's action."""
    try:
        return send()
    except SendError as exc:
        if exc.reply_id is None:
            raise  # refused before any reply was kept: a refusal, as act() shows it
        return session.get(Reply, exc.reply_id)


def reply_outcome(reply: Reply, *, approved: bool = False) -> tuple[str, str]:
    """What became of a reply just written, reviewed (`approved` by this person) or sent again, as
    a message: (kind, text)."""
    if reply.status == ReplyStatus.PENDING_APPROVAL:
        return "success", "Sent for approval"
    if reply.status == ReplyStatus.REJECTED:
        return "success", f"Reply #{reply.id} returned to its author"
    if reply.status == ReplyStatus.SENT:
        sent = f"Reply #{reply.id} approved and sent" if approved else "Reply sent"
        return "success", sent + (" (dry run: nothing was posted)" if reply.dry_run else "")
    again = f"“Send again” on item #{reply.queue_item_id} looks on the platform first, so it is never posted twice."
    if reply.status == ReplyStatus.SENDING:  # the platform never answered: the post may be there
        why = md(reply.error or "no answer")
        return "warning", f"Reply #{reply.id}: the platform did not answer ({why}); it may be posted or not. {again}"
    return "warning", f"Reply #{reply.id} was not sent: {md(reply.error or 'no reason given')}. It is kept. {again}"


def report_reply(reply: Reply | None) -> None:
    """Show what became of the reply at the top of the page's next run, and run it."""
    if reply is None:
        return  # refused: act has said why
    flash(*reply_outcome(reply))
    st.rerun()
