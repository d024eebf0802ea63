"""Drafting replies and the PR review: risky replies wait for a reviewer, the rest go straight out."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from sqlmodel import Session

from dangol.core.errors import ActionError, Conflict, Forbidden, InvalidTransition, NotFound
from dangol.core.permissions import require
from dangol.core.settings import ResponderSettings, Settings
from dangol.core.statuses import ItemStatus, ReplyStatus
from dangol.core.types import utcnow
from responder.assignment import claim
from responder.limits import check_reply_text
from responder.notifications import approval_requested, review_outcome
from responder.routing import _keyword_hit
from responder.senders.base import Sender
from responder.sending import deliver
from responder.statuses import check_transition
from storage import audit
from storage.analyses import analysis_of
from storage.models import Analysis, Author, Post, QueueItem, Reply, Staff
from storage.replies import move_reply

DRAFTABLE = (ItemStatus.NEW, ItemStatus.ASSIGNED, ItemStatus.IN_PROGRESS, ItemStatus.ESCALATED)


def needs_approval(
    item: QueueItem,
    post: Post,
    author: Author | None,
    analysis: Analysis | None,
    responder: ResponderSettings,
    text: str = "",
) -> list[str]:
    """Why a reply to this item needs a PR reviewer (empty when it does not)."""
    cfg = responder
    reasons = []
    if item.approval_required:
        reasons.append("a routing rule requires approval")
    # The cluster's risk counts (its audience together), and it is never below its lead post's.
    risk = max(analysis.risk if analysis is not None else 0.0, item.cluster_risk)
    if risk >= cfg.approval_risk:
        reasons.append(f"risk {risk:.2f} >= {cfg.approval_risk}")
    if author is not None and (author.followers or 0) >= cfg.approval_followers:
        reasons.append(f"author has {author.followers:,} followers (>= {cfg.approval_followers:,})")
    words = [w for w in cfg.approval_words if _keyword_hit(f"{post.text}\n{text}".lower(), w.lower())]
    if words:
        reasons.append(f"mentions {', '.join(words)}")
    return reasons


def submit_reply(
    item_id: int,
    text: str,
    *,
    actor: Staff,
    session: Session,
    settings: Settings,
    source: str = "staff",
    sender: Sender | None = None,
) -> Reply:
    """Draft a reply: pending_approval when a reviewer is needed, otherwise sent at once (then COMMITS)."""
    require(actor, "queue.reply")
    item = session.get(QueueItem, item_id)
    if item is None:
        raise NotFound(f"no queue item with id {item_id}")
    if item.status not in DRAFTABLE:
        raise InvalidTransition(
            f"queue item {item_id} is {item.status!r}; replies can be drafted while it is {', '.join(DRAFTABLE)}"
        )
    post = session.get(Post, item.post_id)
    assert post is not None
    check_reply_text(text, post.platform)
    if item.assignee_id is None:
        claim(item_id, actor=actor, session=session)
    elif item.assignee_id != actor.id and actor.role != "admin":
        raise Conflict(f"queue item {item_id} is assigned to someone else; claim or reassign it first")
    if item.status in (ItemStatus.NEW, ItemStatus.ASSIGNED):
        item.status = ItemStatus.IN_PROGRESS
    author = session.get(Author, post.author_id)
    analysis = analysis_of(session=session, post_id=post.id)
    reasons = needs_approval(item, post, author, analysis, settings.responder, text)
    reply = Reply(
        queue_item_id=item.id or 0, post_id=post.id or 0, author_staff_id=actor.id, text=text, source=source,
        status=ReplyStatus.PENDING_APPROVAL if reasons else ReplyStatus.APPROVED,
        idempotency_key=uuid.uuid4().hex, created_at=utcnow(), dry_run=not settings.responder.send,
    )  # fmt: skip
    session.add(reply)
    if reasons:
        check_transition(item.status, ItemStatus.PENDING_APPROVAL)
        item.status = ItemStatus.PENDING_APPROVAL
    item.updated_at = utcnow()
    session.flush()
    audit.record(
        session, actor=actor, action="reply.submit", entity_type="reply", entity_id=reply.id,
        after={"queue_item_id": item.id, "status": reply.status, "source": source, "approval_reasons": reasons},
    )  # fmt: skip
    if reasons:
        approval_requested(reply, item, session=session, reasons=reasons, now=utcnow())
        return reply
    return deliver(reply.id or 0, actor=actor, session=session, settings=settings, sender=sender)


def review(
    reply_id: int,
    decision: Literal["approve", "reject"],
    *,
    actor: Staff,
    session: Session,
    comment: str = "",
    edited_text: str | None = None,
    settings: Settings | None = None,
    sender: Sender | None = None,
) -> Reply:
    """Approve (optionally edited) or reject a reply awaiting review; with `settings`, an approved reply is sent."""
    require(actor, "reply.review")
    if decision not in ("approve", "reject"):
        raise ActionError(f"unknown decision {decision!r}; valid: approve, reject")
    reply = session.get(Reply, reply_id)
    if reply is None:
        raise NotFound(f"no reply with id {reply_id}")
    if reply.status != ReplyStatus.PENDING_APPROVAL:
        raise InvalidTransition(f"reply {reply_id} is {reply.status!r}; only replies pending approval can be reviewed")
    if reply.author_staff_id == actor.id:
        raise Forbidden("a reply cannot be approved or rejected by the person who wrote it")
    if decision == "reject" and not comment.strip():
        raise ActionError("say why the reply is rejected (comment), so its author can fix it")
    item = session.get(QueueItem, reply.queue_item_id)
    post = session.get(Post, reply.post_id)
    assert item is not None and post is not None
    before = {"status": reply.status, "text": reply.text}
    decided: dict[str, Any] = {
        "status": ReplyStatus.APPROVED if decision == "approve" else ReplyStatus.REJECTED,
        "reviewer_id": actor.id,
        "review_comment": comment.strip() or None,
    }
    if edited_text is not None and decision == "approve":
        check_reply_text(edited_text, post.platform)
        decided["text"] = edited_text
    # One decision per reply: two reviewers deciding at once both read it pending, and only the
    # first UPDATE still finds it so (else both approvals would send it).
    if not move_reply(session, reply, (ReplyStatus.PENDING_APPROVAL,), **decided):
        raise Conflict(f"reply {reply_id} was reviewed by someone else meanwhile; reload to see the decision")
    if item.status == ItemStatus.PENDING_APPROVAL:
        item.status = ItemStatus.IN_PROGRESS
        item.updated_at = utcnow()
    session.flush()
    audit.record(
        session, actor=actor, action=f"reply.{decision}", entity_type="reply", entity_id=reply.id, before=before,
        after={"status": reply.status, "text": reply.text, "comment": reply.review_comment},
    )  # fmt: skip
    review_outcome(reply, actor, session=session, now=utcnow())
    if decision == "approve" and settings is not None:
        return deliver(reply.id or 0, actor=actor, session=session, settings=settings, sender=sender)
    return reply
