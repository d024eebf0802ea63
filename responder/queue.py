"""Queue items: routing analyzed posts into the queue, listing it, and moving items between statuses.

`route_new` is the pipeline's entry point. On PostgreSQL one routing pass runs at a time across
workers (an advisory lock; a worker that finds it taken skips its pass), so posts of one cluster or
thread are never grouped by two passes at once; analyses are claimed with `FOR UPDATE SKIP LOCKED`
and the cluster items read locked. On SQLite the single writer is the guarantee.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from dangol.core.errors import ActionError, DangolError, NotFound
from dangol.core.permissions import require
from dangol.core.risk import cluster_risk, risk_priority
from dangol.core.settings import BrandSettings, ResponderSettings, Settings
from dangol.core.types import PLATFORMS, REVIEW_PLATFORMS, SENTIMENTS, engagement, utcnow
from responder import notifications, routing, sla
from responder.assignment import assign, auto_assign, skilled
from responder.statuses import OPEN_STATUSES, STATUSES, check_transition
from storage import audit
from storage.analyses import claim_unrouted
from storage.authors import mark_brand_accounts
from storage.customer_scores import segments_of
from storage.customers import linked_customers
from storage.models import Analysis, Author, Customer, Note, Post, QueueItem, Staff, Team
from storage.posts import posts_with_authors
from storage.queue import (
    SLA_STATES,
    SORTS,
    Cursor,
    QueueFilters,
    answered_by_brand,
    copy_labels,
    hold_due_snoozed,
    item_in_thread,
    items_by_cluster,
    items_on_posts,
    queue_page,
    take_routing_turn,
)

__all__ = ["Cursor", "QueueFilters", "QueuePage", "RouteResult", "route_new", "list_queue", "get_item", "set_status"]

BATCH = 200
log = logging.getLogger(__name__)


@dataclass
class RouteResult:
    """What one routing pass did (counts, and the ids of items it created or touched)."""

    examined: int = 0
    queued: int = 0
    grouped: int = 0
    reopened: int = 0
    spam: int = 0
    skipped: int = 0
    assigned: int = 0
    woken: int = 0
    breached: int = 0
    item_ids: list[int] = field(default_factory=list)


@dataclass
class QueuePage:
    """One page of the queue, the total count behind it, and the cursors to the pages beside it.

    `page` is the page's number for display; `previous`/`next` are None at either end. The count
    stops at `storage.queue.COUNT_LIMIT`: past it `total_is_exact` is False.
    """

    items: list[QueueItem]
    total: int
    page: int
    page_size: int
    previous: Cursor | None = None
    next: Cursor | None = None
    total_is_exact: bool = True

    @property
    def pages(self) -> int:
        """How many pages the total fills (at least one)."""
        return max(1, -(-self.total // self.page_size))

    def describe(self) -> str:
        """'1,234 items · page 3 of 50', or '10,000+ items · page 3 of 400+' past the count limit."""
        more = "" if self.total_is_exact else "+"
        items = "item" if self.total == 1 and not more else "items"
        return f"{self.total:,}{more} {items} · page {self.page} of {self.pages}{more}"


@dataclass
class BulkResult:
    """Which items a bulk action changed, and why the others were refused."""

    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


# --- routing ---------------------------------------------------------------------------------


def _is_own(author: Author, brand: BrandSettings) -> bool:
    return brand.is_own(author.platform, author.handle)


def _facts(
    post: Post, author: Author, analysis: Analysis, customer: Customer | None, segments: tuple[str, ...] = ()
) -> routing.Facts:
    return routing.Facts(
        text=f"{post.title or ''} {post.text}",
        platform=post.platform,
        language=analysis.language,
        sentiment=analysis.sentiment,
        primary_topic=analysis.primary_topic,
        topics=tuple(analysis.topics),
        tier=customer.tier if customer else None,
        followers=author.followers or 0,
        risk=analysis.risk,
        spam=analysis.is_spam,
        segments=segments,
    )


def is_actionable(analysis: Analysis, customer: Customer | None, responder: ResponderSettings) -> bool:
    """Complaints, questions and risky posts need a response; so do a VIP customer's suggestions
    and negative posts. A VIP's small talk and praise do not: queued, they took the urgent slot."""
    vip = customer is not None and customer.tier.lower() == "vip"
    return (
        analysis.is_complaint
        or analysis.is_question
        or analysis.risk >= responder.actionable_risk
        or (vip and (analysis.intent == "suggestion" or analysis.sentiment == "negative"))
    )


def route_new(*, session: Session, settings: Settings, now: datetime | None = None) -> RouteResult:
    """Queue every analyzed, unrouted post that needs a response; mark each analysis routed. Idempotent.

    Each pass also wakes snoozed items that are due, records SLA breaches, notifies the SLA
    warnings and breaches (responder.notifications) and auto-assigns the unassigned backlog (most
    urgent, then oldest first) to available staff as far as their capacity allows.
    """
    now = now or utcnow()
    result = RouteResult()
    if not take_routing_turn(session=session):
        log.debug("another worker is routing; this pass leaves it to that one")
        return result
    # Kept in step with brand.own_handles here, every routing pass, for the reports' counts.
    mark_brand_accounts(session=session, own=settings.brand.own_accounts())
    rules = routing.list_rules(session=session, responder=settings.responder)
    while batch := claim_unrouted(session=session, limit=BATCH):
        context = _Batch.load(batch, session=session)
        for analysis in batch:
            _route_one(analysis, rules, result, context, session=session, settings=settings, now=now)
            analysis.routed = True
        session.flush()
        for item, decision in context.created:  # audited once the batch's items have ids
            audit.record(
                session, actor="system:router", action="queue.create", entity_type="queue_item", entity_id=item.id,
                after={"post_id": item.post_id, "status": item.status, "team": item.team, "priority": item.priority,
                       "sla_policy": item.sla_policy, "rules": decision.matched},
                at=now,
            )  # fmt: skip
            result.item_ids.append(item.id or 0)
            if decision.notify:  # rules with notify = true: the team's leads get a notification
                audit.record(
                    session, actor="system:router", action="queue.notify", entity_type="queue_item", entity_id=item.id,
                    after={"team": item.team, "priority": item.priority, "rules": decision.matched}, at=now,
                )  # fmt: skip
                notifications.routed(item, decision.matched, session=session, now=now)
        session.flush()
    # Housekeeping rides on every pass (the worker runs it every few seconds): snoozed items whose
    # time has come return, late ones are marked breached, and freed capacity serves the backlog.
    result.woken = len(wake_snoozed(session=session, now=now))
    result.breached = len(sla.check_breaches(session=session, now=now))
    sla.notify_warnings(session=session, settings=settings, now=now)
    result.assigned = len(auto_assign(session=session, responder=settings.responder, now=now))
    return result


@dataclass
class _Batch:
    """What routing one batch needs, fetched in a few queries instead of several per post."""

    posts: dict[int, tuple[Post, Author]]
    customers: dict[int, Customer]
    clusters: dict[str, QueueItem]
    # Items already on the batch's posts (newest per post): a post analyzed again after an edit.
    on_posts: dict[int, QueueItem] = field(default_factory=dict)
    segments: dict[int, list[str]] = field(default_factory=dict)  # customer id → segment keys
    created: list[tuple[QueueItem, routing.Decision]] = field(default_factory=list)

    @classmethod
    def load(cls, batch: list[Analysis], *, session: Session) -> _Batch:
        posts = posts_with_authors([a.post_id for a in batch], session=session)
        authors = sorted({author.id or 0 for _, author in posts.values()})
        keys = [a.cluster_key for a in batch if a.cluster_key]
        on_posts: dict[int, QueueItem] = {}
        for item in items_on_posts([a.post_id for a in batch], session=session):
            on_posts.setdefault(item.post_id, item)
        customers = linked_customers(authors, session=session)
        return cls(
            posts=posts,
            customers=customers,
            clusters=items_by_cluster(keys, session=session),
            on_posts=on_posts,
            segments=segments_of([c.id or 0 for c in customers.values()], session=session),
        )


def _route_one(
    analysis: Analysis,
    rules: list[routing.Rule],
    result: RouteResult,
    batch: _Batch,
    *,
    session: Session,
    settings: Settings,
    now: datetime,
) -> None:
    result.examined += 1
    post, author = batch.posts.get(analysis.post_id, (None, None))
    if post is None or author is None or post.deleted_at is not None or _is_own(author, settings.brand):
        result.skipped += 1
        return
    if post.competitor:  # about competitors only: for the reports, never for a reply
        result.skipped += 1
        return
    customer = batch.customers.get(author.id or 0)
    if (item := batch.on_posts.get(post.id or 0)) is not None:
        # The post already has an item: an edited review, analyzed again (storage.ingest.update_edited).
        # The customer has said something new: its item takes the new labels and is reopened.
        copy_labels(item, post, analysis)
        _customer_wrote_again(item, post, result, session=session, settings=settings, now=now)
        return
    if (post.reply_to_id or post.thread_id) and (item := item_in_thread(post, session=session)) is not None:
        _customer_wrote_again(item, post, result, session=session, settings=settings, now=now)
        return
    # A store review the developer has already answered (the answer is read with it) is done. On
    # social platforms a public reply from the brand's account ("sorry, DM us") opens a
    # conversation: the item is still needed.
    if post.platform in REVIEW_PLATFORMS and answered_by_brand(post, session=session):
        result.skipped += 1
        return
    segments = tuple(batch.segments.get(customer.id or 0, ())) if customer is not None else ()
    decision = routing.decide(rules, _facts(post, author, analysis, customer, segments))
    spam = analysis.is_spam and decision.close_as_spam
    if not spam and (analysis.is_spam or not is_actionable(analysis, customer, settings.responder)):
        result.skipped += 1
        return
    key = analysis.cluster_key or f"post:{post.id}"
    existing = batch.clusters.get(key)
    if existing is not None:
        existing.updated_at = now
        # A louder duplicate makes the whole cluster more urgent, never less, and so does the audience
        # of all its posts together; a rule that asks for approval on any post asks it for the cluster.
        # A member analyzed again after an edit is already counted, its audience too.
        if analysis.counted:
            risk = max(existing.cluster_risk, analysis.risk)
        else:
            existing.cluster_size += 1
            risk = _add_to_cluster_risk(existing, analysis)
        existing.priority = min(existing.priority, decision.priority or risk_priority(risk))
        existing.approval_required = existing.approval_required or decision.approval
        if _should_lead(post, author, existing, session=session):
            # The original, or the post that reaches the most people, stands for the cluster: the
            # reply goes to it, and approval by reach is judged on its author.
            existing.post_id = post.id or existing.post_id
            copy_labels(existing, post, analysis)
        audit.record(
            session, actor="system:router", action="queue.grouped", entity_type="queue_item", entity_id=existing.id,
            after={"post_id": post.id, "cluster_size": existing.cluster_size, "priority": existing.priority}, at=now,
        )  # fmt: skip
        result.grouped += 1
        return
    item = _new_item(post, author, analysis, customer, decision, key, settings=settings, now=now)
    session.add(item)
    batch.clusters[key] = item
    batch.created.append((item, decision))
    if spam:
        result.spam += 1
    else:
        result.queued += 1


def _add_to_cluster_risk(item: QueueItem, analysis: Analysis) -> float:
    """Count the post into the item's cluster risk (kept in `item.routing`); returns the cluster's risk."""
    combined = cluster_risk([b for b in ((item.routing or {}).get("cluster"), analysis.risk_breakdown) if b])
    if combined is None:  # breakdowns of an older formula: the post's own risk alone
        return item.raise_cluster_risk(analysis.risk, None)
    return item.raise_cluster_risk(max(analysis.risk, combined.score), combined.breakdown)


def _reach(post: Post, author: Author | None) -> int:
    metrics = post.metrics if isinstance(post.metrics, dict) else {}
    return (author.followers or 0 if author else 0) + engagement(metrics)


def _should_lead(post: Post, author: Author, item: QueueItem, *, session: Session) -> bool:
    """True when `post` should replace the item's lead post: the lead repeats it (a retweet or
    quote of it), or it reaches more people and is not itself a repeat of the lead."""
    lead = session.get(Post, item.post_id)
    if lead is None or lead.id == post.id:
        return False
    if lead.referenced_id and lead.referenced_id == post.external_id and lead.platform == post.platform:
        return True
    if post.referenced_id and post.referenced_id == lead.external_id:
        return False
    return _reach(post, author) > _reach(lead, session.get(Author, lead.author_id))


def _new_item(
    post: Post,
    author: Author,
    analysis: Analysis,
    customer: Customer | None,
    decision: routing.Decision,
    key: str,
    *,
    settings: Settings,
    now: datetime,
) -> QueueItem:
    priority = decision.priority or risk_priority(analysis.risk)
    item = QueueItem(
        post_id=post.id or 0,
        cluster_key=key,
        customer_id=customer.id if customer else None,
        status="spam" if analysis.is_spam and decision.close_as_spam else "new",
        priority=priority,
        team=decision.team or "support",
        sla_policy=decision.sla or sla.policy_name_for_priority(priority, settings.responder),
        approval_required=decision.approval,
        routing={
            "rules": decision.matched,
            "notify": decision.notify,
            "risk": analysis.risk,
            "cluster": analysis.risk_breakdown or None,
        },
        created_at=now,
        updated_at=now,
    )
    copy_labels(item, post, analysis)
    item.sla_policy = sla.policy_for(item.sla_policy, post.platform, settings.responder)[0]
    # The customer has waited since we could first see the post.
    sla.start_clock(
        item, start=min(post.collected_at or now, now), responder=settings.responder, platform=post.platform
    )
    return item


def _customer_wrote_again(
    item: QueueItem, post: Post, result: RouteResult, *, session: Session, settings: Settings, now: datetime
) -> None:
    """A new post in the thread by the same customer, or its post edited: reopen a replied/closed
    item, restart a paused clock."""
    before = {"status": item.status, "sla_paused_at": item.sla_paused_at}
    if item.status in ("replied", "closed"):
        item.status = "assigned" if item.assignee_id else "new"
        result.reopened += 1
    sla.resume(item, responder=settings.responder, platform=post.platform, now=now)
    item.updated_at = now
    audit.record(
        session, actor="system:router", action="queue.customer_replied", entity_type="queue_item", entity_id=item.id,
        before=before, after={"status": item.status, "post_id": post.id}, at=now,
    )  # fmt: skip
    result.item_ids.append(item.id or 0)


# --- reading ---------------------------------------------------------------------------------


def list_queue(
    filters: QueueFilters | None = None,
    *,
    session: Session,
    sort: str = "priority",
    page: int = 1,
    page_size: int = 25,
    cursor: Cursor | None = None,
    now: datetime | None = None,
    warn_before: timedelta = timedelta(minutes=30),
) -> QueuePage:
    """A page of the queue with the total count; sort is priority | oldest | newest | due.

    The one queue query the dashboard and `dangol queue list` share. Paging goes by `cursor`
    (a previous page's `next` or `previous`; `page` is then only the number shown), which costs
    the same anywhere in the queue; without a cursor, `page` jumps that many pages in (OFFSET,
    slower the deeper it goes). `now` and `warn_before` place the SLA-state filter
    (`QueueFilters.sla`: ok | warning | breached).
    """
    if sort not in SORTS:
        raise ActionError(f"unknown sort {sort!r}; valid: {', '.join(SORTS)}")
    if page < 1 or not 1 <= page_size <= 500:
        raise ActionError("page starts at 1 and page_size must be between 1 and 500")
    if filters is not None:
        _check_vocabulary(filters)
    found = queue_page(
        filters or QueueFilters(),
        session=session,
        sort=sort,
        cursor=cursor,
        offset=0 if cursor else (page - 1) * page_size,
        page_size=page_size,
        now=now,
        warn_before=warn_before,
    )
    return QueuePage(
        items=found.items,
        total=found.total,
        total_is_exact=found.total_is_exact,
        page=1 if cursor and not found.previous else page,  # a cursor that ran off either end: the first page
        page_size=page_size,
        previous=found.previous,
        next=found.next,
    )


# How far down the unassigned queue "next item" looks for one the person can answer.
NEXT_LOOKAHEAD = 100


def _check_vocabulary(filters: QueueFilters) -> None:
    """Filters over a fixed vocabulary name one of its words: a typo ("asigned") is refused with
    the valid words, not answered with an empty queue that looks like no work."""
    fixed: list[tuple[str, Sequence[str], Sequence[str]]] = [
        ("status", list(filters.status or ()), STATUSES),
        ("platform", [filters.platform] if filters.platform else [], PLATFORMS),
        ("sentiment", [filters.sentiment] if filters.sentiment else [], SENTIMENTS),
        ("SLA state", [filters.sla] if filters.sla is not None else [], SLA_STATES),
    ]
    for name, given, valid in fixed:
        unknown = [value for value in given if value not in valid]
        if unknown:
            raise ActionError(f"unknown {name} {unknown[0]!r}; valid: {', '.join(valid)}")


def next_item_for(staff: Staff, *, session: Session, current: int | None = None) -> int | None:
    """The item `staff` should work on next, other than `current`: their own most urgent open item;
    else the most urgent unassigned one they can answer, as auto-assignment would give it (their
    team's, in their languages and topics), then one they can answer from any team, then any."""
    mine = list_queue(QueueFilters(status=OPEN_STATUSES, assignee_id=staff.id), session=session, page_size=2)
    own = [i.id for i in mine.items if i.id != current]
    if own:
        return own[0]
    waiting = list_queue(QueueFilters(status=OPEN_STATUSES, unassigned=True), session=session, page_size=NEXT_LOOKAHEAD)
    # The item's own labels (staff corrections included) say who can answer it, as in routing.
    items = [i for i in waiting.items if i.id != current]
    own_team = session.get(Team, staff.team_id) if staff.team_id is not None else None
    team = own_team.key if own_team is not None else None
    answerable = [i for i in items if skilled(staff, i.language, i.topic)]
    for choice in ([i for i in answerable if i.team == team], answerable, items):
        if choice:
            return choice[0].id
    return None


def get_item(item_id: int, *, session: Session) -> QueueItem:
    """The queue item, or NotFound."""
    item = session.get(QueueItem, item_id)
    if item is None:
        raise NotFound(f"no queue item with id {item_id}")
    return item


# --- changing --------------------------------------------------------------------------------


def transition(
    item: QueueItem, status: str, *, actor: Staff | str, session: Session, now: datetime, **extra: Any
) -> QueueItem:
    """Move an item to `status` (checked against the table) and audit it; callers check permissions."""
    check_transition(item.status, status)
    before = {"status": item.status}
    item.status = status
    item.updated_at = now
    session.flush()
    audit.record(
        session, actor=actor, action=f"queue.{status}", entity_type="queue_item", entity_id=item.id,
        before=before, after={"status": status, **extra}, at=now,
    )  # fmt: skip
    return item


def set_status(item_id: int, status: str, *, actor: Staff, session: Session, now: datetime | None = None) -> QueueItem:
    """Change an item's status; InvalidTransition names the allowed ones."""
    require(actor, "queue.close" if status in ("closed", "spam") else "queue.reply")
    return transition(get_item(item_id, session=session), status, actor=actor, session=session, now=now or utcnow())


def snooze(item_id: int, until: datetime, *, actor: Staff, session: Session, now: datetime | None = None) -> QueueItem:
    """Hide an item until `until`; `wake_snoozed` brings it back."""
    require(actor, "queue.reply")
    now = now or utcnow()
    if until <= now:
        raise ActionError(f"snooze until {until.isoformat()} is not in the future")
    item = get_item(item_id, session=session)
    item.snoozed_until = until
    return transition(item, "snoozed", actor=actor, session=session, now=now, until=until)


def wake_snoozed(*, session: Session, now: datetime | None = None) -> list[QueueItem]:
    """Return snoozed items whose time has come to the queue (to their assignee when they have one)."""
    now = now or utcnow()
    # Rows another worker's pass is waking are skipped (it wakes them), never updated twice.
    woken = []
    for item in hold_due_snoozed(session=session, now=now):
        item.snoozed_until = None
        woken.append(
            transition(item, "assigned" if item.assignee_id else "new", actor="system:snooze", session=session, now=now)
        )
    return woken


def close(item_id: int, *, actor: Staff, session: Session, now: datetime | None = None) -> QueueItem:
    """Close an item as resolved."""
    return set_status(item_id, "closed", actor=actor, session=session, now=now)


def mark_spam(item_id: int, *, actor: Staff, session: Session, now: datetime | None = None) -> QueueItem:
    """Close an item as spam."""
    return set_status(item_id, "spam", actor=actor, session=session, now=now)


def add_note(item_id: int, text: str, *, actor: Staff, session: Session, now: datetime | None = None) -> Note:
    """Add an internal note (never sent to the customer)."""
    require(actor, "queue.note")
    if not text.strip():
        raise ActionError("a note needs some text")
    item = get_item(item_id, session=session)
    note = Note(queue_item_id=item.id or 0, staff_id=actor.id, text=text.strip(), created_at=now or utcnow())
    session.add(note)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="queue.note",
        entity_type="queue_item",
        entity_id=item.id,
        after={"note_id": note.id},
    )
    return note


def add_tag(item_id: int, tag: str, *, actor: Staff, session: Session) -> QueueItem:
    """Tag an item (tags are lower-case, without spaces at the ends)."""
    require(actor, "queue.note")
    tag = tag.strip().lower()
    if not tag:
        raise ActionError("a tag needs some text")
    item = get_item(item_id, session=session)
    if tag not in item.tags:
        before = {"tags": list(item.tags)}
        item.tags = [*item.tags, tag]  # a new list, so the JSON column sees the change
        item.updated_at = utcnow()
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="queue.tag",
            entity_type="queue_item",
            entity_id=item.id,
            before=before,
            after={"tags": item.tags},
        )
    return item


def bulk(item_ids: Sequence[int], action: str, *, actor: Staff, session: Session, **kwargs: Any) -> BulkResult:
    """Apply one action to many items; each item succeeds or fails on its own (reason kept)."""
    require(actor, "queue.bulk")
    actions = {
        "close": lambda i: close(i, actor=actor, session=session),
        "mark_spam": lambda i: mark_spam(i, actor=actor, session=session),
        "assign": lambda i: assign(i, int(kwargs["staff_id"]), actor=actor, session=session),
        "add_tag": lambda i: add_tag(i, str(kwargs["tag"]), actor=actor, session=session),
        "snooze": lambda i: snooze(i, kwargs["until"], actor=actor, session=session),
    }
    if action not in actions:
        raise ActionError(f"unknown bulk action {action!r}; valid: {', '.join(actions)}")
    result = BulkResult()
    for item_id in item_ids:
        try:
            with session.begin_nested():
                actions[action](item_id)
            result.done.append(item_id)
        except DangolError as exc:
            result.failed[item_id] = str(exc)
    return result
