"""Sending a reply exactly once: recorded as "sending" before the platform call, confirmed after.

If a worker dies between the two, or the platform call ends without an answer (a sender raises
`SendOutcomeUnknown`: a timeout, a dropped connection), the reply stays "sending". A retry then asks the platform
whether our reply is already there (and records it), or marks the reply failed for a person to
check; it never posts blindly a second time. A failed reply sent again is looked for on the
platform first too: some clients report a timeout as a refusal although the post went through.
The move to "sending" (and a review's decision, in responder.approval) is a conditional UPDATE
(storage.replies.move_reply): of two people sending or approving the same reply at once, one
reaches the platform and the other is told someone else is sending it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from dangol.core.errors import ActionError, Conflict, NotFound, SendError, SendOutcomeUnknown
from dangol.core.permissions import require
from dangol.core.registry import parse_options
from dangol.core.settings import ResponderSettings, Settings
from dangol.core.statuses import ItemStatus, ReplyStatus
from dangol.core.types import utcnow
from dangol.core.workers import died_here, this_process
from responder import sla
from responder.senders.base import ReplyTarget, Sender, senders
from responder.senders.dry_run import DryRunSender
from storage import audit
from storage.models import Post, QueueItem, Reply, Staff
from storage.replies import move_reply


def sender_for(platform: str, responder: ResponderSettings) -> Sender:
    """The platform's configured sender, or the dry-run sender unless `send = true` and credentials are set."""
    if not responder.send:
        return DryRunSender()
    for name, impl in responder.senders.items():
        if impl.use != platform:
            continue
        cls = senders.get(impl.use)
        options = parse_options(cls.Options, impl.options(), f"responder.senders.{name}")
        if options.complete():
            return cls.from_options(options)  # type: ignore[no-any-return]
    return DryRunSender()


def target_of(post: Post) -> ReplyTarget:
    """What a sender needs to know about the post being answered."""
    try:
        raw = json.loads(post.raw) if post.raw else {}
    except json.JSONDecodeError:
        raw = {}
    return ReplyTarget(
        platform=post.platform,
        external_id=post.external_id,
        thread_id=post.thread_id,
        url=post.url,
        raw=raw if isinstance(raw, dict) else {},
    )


def _load(reply_id: int, session: Session) -> tuple[Reply, QueueItem, Post]:
    reply = session.get(Reply, reply_id)
    if reply is None:
        raise NotFound(f"no reply with id {reply_id}")
    item = session.get(QueueItem, reply.queue_item_id)
    post = session.get(Post, reply.post_id)
    assert item is not None and post is not None  # foreign keys guarantee both
    return reply, item, post


def send_reply(
    reply_id: int, *, actor: Staff, session: Session, settings: Settings, sender: Sender | None = None
) -> Reply:
    """Send an approved reply (COMMITS twice: before and after the platform call). Sent replies are returned as is."""
    require(actor, "queue.reply")
    return deliver(reply_id, actor=actor, session=session, settings=settings, sender=sender)


def deliver(
    reply_id: int,
    *,
    actor: Staff | str,
    session: Session,
    settings: Settings,
    sender: Sender | None = None,
    now: datetime | None = None,
) -> Reply:
    """The sending itself, for callers that have already checked permission (submit, review)."""
    reply, item, post = _load(reply_id, session)
    if reply.status == ReplyStatus.SENT:
        return reply
    sender = sender or sender_for(post.platform, settings.responder)
    target = target_of(post)
    if reply.status == ReplyStatus.SENDING:
        if in_flight(reply, now or utcnow()):
            raise Conflict(f"reply {reply.id} is being sent right now; reload in a minute to see how it went")
        return _settle_unknown(reply, item, target, sender, actor=actor, session=session, now=now)
    if reply.status not in (ReplyStatus.APPROVED, ReplyStatus.FAILED):
        raise ActionError(f"reply {reply.id} is {reply.status!r}; only approved (or failed) replies can be sent")
    failed_before = reply.status == ReplyStatus.FAILED
    # Taken by a conditional UPDATE, not on the status read above: two people sending the same
    # reply at once (two "Send again" clicks, two reviewers approving) both read it approved or
    # failed, and only one of them may reach the platform.
    sendable = (ReplyStatus.APPROVED, ReplyStatus.FAILED)
    attempt = {"attempted_at": now or utcnow(), "attempted_by": this_process()}
    if not move_reply(session, reply, sendable, status=ReplyStatus.SENDING, error=None, **attempt):
        raise Conflict(f"reply {reply.id} is being sent by someone else; reload to see how it went")
    audit.record(
        session,
        actor=actor,
        action="reply.sending",
        entity_type="reply",
        entity_id=reply.id,
        after={"key": reply.idempotency_key},
    )
    session.commit()  # the attempt is recorded, and the reply ours, before the platform sees anything
    if failed_before and _posted_before(reply, item, post, target, sender, actor=actor, session=session, now=now):
        return reply
    try:
        sent = sender.send(target, reply.text)
    except SendOutcomeUnknown as exc:
        # The platform may have it: the reply stays "sending", so a retry asks before posting again.
        reply.error = str(exc)
        audit.record(
            session,
            actor=actor,
            action="reply.unknown",
            entity_type="reply",
            entity_id=reply.id,
            after={"error": str(exc), "status": ReplyStatus.SENDING},
        )
        session.commit()
        exc.reply_id = reply.id
        raise
    except SendError as exc:
        _fail(reply, str(exc), actor=actor, session=session)
        exc.reply_id = reply.id
        raise
    _confirm(
        reply,
        item,
        post,
        sent.external_id,
        sender.dry_run or sent.dry_run,
        actor=actor,
        session=session,
        settings=settings,
        now=now,
    )
    session.commit()
    return reply


# A send attempt begun less than this long ago, with no outcome recorded, is taken as still running
# unless its process is known to be gone: longer than any sender's request timeout (30 s by default).
IN_FLIGHT = timedelta(minutes=5)


def in_flight(reply: Reply, now: datetime) -> bool:
    """True while the reply's send attempt may still be running (no outcome recorded yet, begun
    lately, its process not known dead): asking the platform then would find nothing and fail the
    reply under the running attempt. A process killed on this host is known dead at once."""
    return (
        reply.status == ReplyStatus.SENDING
        and reply.error is None
        and reply.attempted_at is not None
        and now - reply.attempted_at < IN_FLIGHT
        and not (reply.attempted_by and died_here(reply.attempted_by))
    )


def _fail(reply: Reply, reason: str, *, actor: Staff | str, session: Session) -> None:
    """The reply did not go out: failed, with the reason, for a person to send again (committed)."""
    reply.status, reply.error = ReplyStatus.FAILED, reason
    audit.record(
        session, actor=actor, action="reply.failed", entity_type="reply", entity_id=reply.id, after={"error": reason}
    )
    session.commit()


def _posted_before(
    reply: Reply,
    item: QueueItem,
    post: Post,
    target: ReplyTarget,
    sender: Sender,
    *,
    actor: Staff | str,
    session: Session,
    now: datetime | None,
) -> bool:
    """Before a failed reply is sent again: True (and the reply recorded as sent) when the platform
    already has it. A platform client can report a timeout or a dropped connection as a refusal
    although the post went through; asking first keeps "never twice" for every sender. When the
    platform cannot be asked, nothing is posted: the reply is failed again, with why (SendError)."""
    try:
        found = sender.find_existing(target, reply.text)
    except SendError as exc:
        reason = f"not resent: could not check the platform for an earlier copy of this reply ({exc})"
        _fail(reply, reason, actor=actor, session=session)
        refused = SendError(reason)
        refused.reply_id = reply.id
        raise refused from exc
    if found is None:
        return False
    _confirm(reply, item, post, found, sender.dry_run, actor=actor, session=session, settings=None, now=now)
    session.commit()
    return True


def _settle_unknown(
    reply: Reply,
    item: QueueItem,
    target: ReplyTarget,
    sender: Sender,
    *,
    actor: Staff | str,
    session: Session,
    now: datetime | None,
) -> Reply:
    """A reply left "sending": find it on the platform, or fail it for a person to check. Never re-post."""
    try:
        found = sender.find_existing(target, reply.text)
    except SendError as exc:
        found, reason = (
            None,
            f"send outcome unknown and the platform could not be checked ({exc}); check before resending",
        )
    else:
        reason = "send outcome unknown and no such reply was found on the platform; check before resending"
    if found is None:
        reply.status, reply.error = ReplyStatus.FAILED, reason
        audit.record(
            session,
            actor=actor,
            action="reply.unknown",
            entity_type="reply",
            entity_id=reply.id,
            after={"error": reason},
        )
        session.commit()
        return reply
    post = session.get(Post, reply.post_id)
    assert post is not None
    _confirm(reply, item, post, found, sender.dry_run, actor=actor, session=session, settings=None, now=now)
    session.commit()
    return reply


def _confirm(
    reply: Reply,
    item: QueueItem,
    post: Post,
    external_id: str,
    dry_run: bool,
    *,
    actor: Staff | str,
    session: Session,
    settings: Settings | None,
    now: datetime | None,
) -> None:
    now = now or utcnow()
    reply.status, reply.external_id, reply.dry_run, reply.sent_at = ReplyStatus.SENT, external_id, dry_run, now
    before: dict[str, Any] = {"status": item.status}
    # The reply is out: that is a fact, so the item records it from any open status.
    if item.status not in (ItemStatus.REPLIED, ItemStatus.CLOSED, ItemStatus.SPAM):
        item.status = ItemStatus.REPLIED
    if item.first_responded_at is None:
        item.first_responded_at = now
    sla.pause(item, now=now)  # now it is the customer's turn
    item.updated_at = now
    audit.record(
        session, actor=actor, action="reply.sent", entity_type="reply", entity_id=reply.id,
        after={"external_id": external_id, "dry_run": dry_run, "queue_item_id": item.id}, at=now,
    )  # fmt: skip
    audit.record(
        session,
        actor=actor,
        action="queue.replied",
        entity_type="queue_item",
        entity_id=item.id,
        before=before,
        after={"status": "replied"},
        at=now,
    )
