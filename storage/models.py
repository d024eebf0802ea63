"""SQLModel tables. Times are timezone-aware UTC; JSON columns hold small structured values.

The tables follow the data flow: sources → posts/authors → analyses → queue items → replies,
with customers and identity links beside them, and feedback, dead letters and audit events
recording what happened.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from dangol.core.columns import json_column, utc_column
from dangol.core.types import PostBase


class Source(SQLModel, table=True):
    """A configured source and its state: cursor, health, throttling, paid read budget."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    use: str
    cursor: dict[str, Any] = json_column(dict)
    posts_collected: int = 0
    last_run_at: datetime | None = utc_column()
    last_ok_at: datetime | None = utc_column()
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    consecutive_failures: int = 0
    throttled_until: datetime | None = utc_column()
    budget_period: str | None = None  # "2026-11" or "2026-11-03": the period the usage counts against
    budget_used: int = 0  # in the source's billing unit (X: posts read; Naver: calls)
    budget_spent_micros: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    # The worker collecting this source now, and until when its lease holds (renewed every page).
    lease_owner: str | None = None
    lease_until: datetime | None = utc_column()


class JobRun(SQLModel, table=True):
    """One scheduled job's run in one schedule slot, claimed by the worker that runs it: with several
    workers on one database, the weekly report is e-mailed once, not once per worker."""

    __table_args__ = (UniqueConstraint("job", "slot"),)
    id: int | None = Field(default=None, primary_key=True)
    job: str
    slot: str
    worker: str = ""
    started_at: datetime | None = utc_column()


class Author(SQLModel, table=True):
    """A social identity on one platform."""

    __table_args__ = (UniqueConstraint("platform", "platform_id"), Index("ix_author_handle", "platform", "handle"))
    id: int | None = Field(default=None, primary_key=True)
    platform: str
    platform_id: str
    handle: str
    display_name: str = ""
    followers: int | None = None
    url: str | None = None
    bio: str | None = Field(default=None, sa_column=Column(Text))
    first_seen_at: datetime | None = utc_column()
    last_seen_at: datetime | None = utc_column()
    # One of the brand's own accounts (brand.own_handles, kept in step by `mark_brand_accounts`):
    # its posts are never counted as the voice of the customer.
    is_brand: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})


class Post(PostBase, table=True):
    """One public post, unique by platform and external id, with its raw payload.

    The post's own fields are `dangol.core.types.PostBase`'s; here are the keys and what storage
    alone keeps.
    """

    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        Index("ix_post_unanalyzed", "analyzed", "id"),
        Index("ix_post_thread", "platform", "thread_id"),
        # Covers the reports' window scans (created_at range, live posts, grouped by platform/source).
        Index("ix_post_created_live", "created_at", "deleted_at", "platform", "source_id", "author_id"),
        # An author's posts in time order: the customer history, "posted again since" on queue lines.
        Index("ix_post_author_created", "author_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source_id: int | None = Field(default=None, foreign_key="source.id")
    author_id: int = Field(foreign_key="author.id")  # indexed with created_at (ix_post_author_created)
    collected_at: datetime | None = utc_column(nullable=False)
    raw: str | None = Field(default=None, sa_column=Column(Text))
    analyzed: bool = False
    deleted_at: datetime | None = utc_column()
    # When the platform was last asked whether the post still exists (storage.deletions).
    rechecked_at: datetime | None = utc_column()
    # Names only competitors ([brands], dangol.core.brands): analyzed and counted for share of voice,
    # never queued, never linked to a customer, never counted as the own brand's customer voice.
    competitor: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})


class PostBrand(SQLModel, table=True):
    """A brand a post is about (a [brands] key), set at ingest; a post may be about several."""

    __tablename__ = "post_brand"
    post_id: int = Field(foreign_key="post.id", primary_key=True)
    brand: str = Field(primary_key=True, index=True)


class Customer(SQLModel, table=True):
    """A known customer from the brand's own records."""

    id: int | None = Field(default=None, primary_key=True)
    external_ref: str | None = Field(default=None, unique=True)
    name: str
    email: str | None = Field(default=None, index=True)
    phone: str | None = None
    tier: str = "standard"
    created_at: datetime | None = utc_column()
    erased_at: datetime | None = utc_column()


class CustomerHandle(SQLModel, table=True):
    """A handle the brand's records say belongs to a customer (from the CRM import)."""

    __table_args__ = (UniqueConstraint("platform", "handle"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    platform: str
    handle: str


class CustomerOrder(SQLModel, table=True):
    """An order number known to belong to a customer (used to link posts that mention it)."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    order_number: str = Field(unique=True)


class IdentityLink(SQLModel, table=True):
    """An author linked to a customer: how, how sure, on what evidence, and who confirmed it."""

    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="author.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    method: str  # platform_id | handle | email | order | fuzzy_name | manual | merge
    confidence: float
    evidence: str = ""
    status: str = "applied"  # applied | proposed | rejected | undone
    confirmed_by: str | None = None
    created_at: datetime | None = utc_column()
    decided_at: datetime | None = utc_column()


class Analysis(SQLModel, table=True):
    """What the NLP pipeline understood of a post, with the model versions that said so."""

    # Covers the reports' joins from a post window to its labels without reading analysis rows.
    __table_args__ = (
        Index("ix_analysis_post_labels", "post_id", "sentiment", "primary_topic", "is_complaint", "is_spam"),
    )
    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", unique=True)
    language: str
    sentiment: str  # negative | neutral | positive
    sentiment_probs: dict[str, float] = json_column(dict)
    topics: dict[str, float] = json_column(dict)
    primary_topic: str = Field(default="other", index=True)
    is_complaint: bool = False
    is_question: bool = False
    is_spam: bool = False
    # complaint | question | praise | suggestion | other; is_complaint == (intent == "complaint").
    intent: str = Field(default="other", sa_column_kwargs={"server_default": "other"})
    risk: float = 0.0
    risk_breakdown: dict[str, Any] = json_column(dict)
    embedding: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    text_hash: str = Field(default="", index=True)
    cluster_key: str = Field(default="", index=True)
    model_versions: dict[str, str] = json_column(dict)
    analyzed_at: datetime | None = utc_column(index=True)
    routed: bool = Field(default=False, index=True)
    # Analyzed again after its post was edited (a store review), once routed: routing must not count
    # the post into its cluster a second time.
    counted: bool = False


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    name: str


class Staff(SQLModel, table=True):
    """A staff account: role, team, skills and capacity, and login state."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True)
    display_name: str = ""
    password_hash: str = ""
    role: str = "agent"  # agent | pr_reviewer | product | admin
    team_id: int | None = Field(default=None, foreign_key="team.id")
    languages: list[str] = json_column(list)
    topics: list[str] = json_column(list)
    capacity: int = 10
    active: bool = True
    last_login_at: datetime | None = utc_column()
    # Availability, set by each person for themselves: away staff are never auto-assigned.
    available: bool = Field(default=True, sa_column_kwargs={"server_default": "true"})
    available_since: datetime | None = utc_column()
    # Where this person's notifications go besides the dashboard inbox (responder.accounts.preferences):
    # an e-mail address, a personal Slack-compatible webhook, and per channel the kinds sent there
    # (a channel missing from the mapping gets every kind; an empty list none).
    email: str | None = Field(default=None, max_length=320)
    webhook_url: str | None = Field(default=None, sa_column=Column(Text))
    notify_channels: dict[str, Any] = json_column(dict)
    # Quiet hours, "HH:MM" local to `timezone` (the brand's when unset): e-mail and webhook wait
    # until they end; the inbox still gets everything at once. A window may cross midnight.
    quiet_start: str | None = Field(default=None, max_length=5)
    quiet_end: str | None = Field(default=None, max_length=5)
    timezone: str | None = Field(default=None, max_length=64)


class LoginThrottle(SQLModel, table=True):
    """Failed logins for one username (known or not, so the answer never tells which exist) or one
    client address, and the block they earned; each block in a row lasts twice the one before."""

    key: str = Field(primary_key=True, max_length=200)  # "user:<name>" or "client:<address>"
    failures: int = 0
    blocks: int = 0
    blocked_until: datetime | None = utc_column()
    last_failure_at: datetime | None = utc_column()


class DashboardSession(SQLModel, table=True):
    """A dashboard login that survives a browser reload. The browser holds a random token in an
    HttpOnly cookie set by the dashboard server's login route; only the token's SHA-256 is stored,
    so a copy of this table logs nobody in. Revoked at logout; refused after the idle or the
    absolute timeout (responder.accounts.auth.resume_session)."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    created_at: datetime | None = utc_column(nullable=False)
    last_seen_at: datetime | None = utc_column(nullable=False)
    revoked_at: datetime | None = utc_column()


class Presence(SQLModel, table=True):
    """Who has a queue item open in the dashboard right now, and whether their reply box holds
    unsent text: one row per staff member and item, rewritten by the item page's heartbeat
    (responder.presence). It holds no content, only who, where and when; rows older than
    `[dashboard] presence_stale_seconds` mean nothing and are deleted. It goes with the staff
    account or the item (ON DELETE CASCADE)."""

    staff_id: int = Field(foreign_key="staff.id", primary_key=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="queueitem.id", primary_key=True, ondelete="CASCADE", index=True)
    state: str = Field(default="viewing", max_length=16)  # viewing | typing
    updated_at: datetime | None = utc_column(nullable=False, index=True)


class ApiToken(SQLModel, table=True):
    """A personal API token (`dangol api`): it acts as its owner with the owner's role at the time
    of each request. Only the token's SHA-256 is stored, so a copy of this table authenticates
    nobody; the token itself is shown once, when created. Revoked tokens stay as a record."""

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime | None = utc_column(nullable=False)
    last_used_at: datetime | None = utc_column()
    expires_at: datetime | None = utc_column()
    revoked_at: datetime | None = utc_column()


_queue_version = Column("version", Integer, nullable=False, default=1)


class QueueItem(SQLModel, table=True):
    """An actionable post (or near-duplicate cluster) waiting for, or given, a response."""

    __table_args__ = (
        Index("ix_queue_status_priority", "status", "priority", "created_at"),
        # The default page (open statuses by priority) read in order, stopping after one page: with
        # several statuses ix_queue_status_priority needs a sort of every open item (70 ms at 1M posts on PostgreSQL).
        Index("ix_queue_priority_order", "priority", "created_at", "id", "status"),
        # A team's open items with their sort keys: the team's queue page and its count read this index
        # alone (and the team filter's choices are a DISTINCT over its first column).
        Index("ix_queue_team_status_priority", "team", "status", "priority", "created_at"),
        # Every filter the queue page offers on the item's own columns, then every sort key: a filtered
        # page and its count are answered from this index alone, without joining posts or analyses.
        Index(
            "ix_queue_filters",
            *("status", "team", "topic", "language", "sentiment", "platform", "priority", "created_at", "id"),
        ),
        # One topic by priority, and its count: the topic's open items without the team that
        # ix_queue_filters puts before the topic (through which SQLite scanned every open item).
        Index("ix_queue_status_topic_priority", "status", "topic", "priority", "created_at", "id"),
        # The due sort: each open status's items in due order. Status first, not last: closed items have
        # the oldest due times, so a due-first index would step over the whole closed history first.
        Index("ix_queue_status_due", "status", "first_response_due_at", "id"),
        Index("ix_queue_assignee_status", "assignee_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    cluster_key: str = Field(unique=True)
    cluster_size: int = 1
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    status: str = "new"
    priority: int = 3  # 1 = most urgent
    team: str = "support"
    assignee_id: int | None = Field(default=None, foreign_key="staff.id")
    sla_policy: str = "standard"
    first_response_due_at: datetime | None = utc_column()
    resolution_due_at: datetime | None = utc_column()
    first_responded_at: datetime | None = utc_column()
    sla_breached: bool = False
    sla_paused_at: datetime | None = utc_column()
    approval_required: bool = False
    # Copies of the post's platform and the analysis's labels (with staff corrections applied), so
    # the queue's filters read no other table: `storage.queue.copy_labels` keeps them.
    platform: str | None = None
    topic: str | None = None
    sentiment: str | None = None
    language: str | None = None
    snoozed_until: datetime | None = utc_column()
    tags: list[str] = json_column(list)
    routing: dict[str, Any] = json_column(dict)
    created_at: datetime | None = utc_column(nullable=False)
    updated_at: datetime | None = utc_column()
    # Optimistic locking: an UPDATE that finds another version raises StaleDataError.
    version: int = Field(default=1, sa_column=_queue_version)

    __mapper_args__ = {"version_id_col": _queue_version}

    @property
    def running_deadline(self) -> str:
        """Which deadline runs now: "first_response" until someone answers, then "resolution"."""
        return "first_response" if self.first_responded_at is None else "resolution"

    @property
    def due_at(self) -> datetime | None:
        """The running deadline's due time. `storage.queue.due_column` is the same rule in SQL
        (sorting and filtering)."""
        return self.first_response_due_at if self.running_deadline == "first_response" else self.resolution_due_at

    @property
    def cluster_risk(self) -> float:
        """The risk of the item's cluster as routing last set it (0 before it had one)."""
        return float((self.routing or {}).get("risk") or 0.0)

    def raise_cluster_risk(self, score: float, breakdown: dict[str, Any] | None) -> float:
        """Raise the cluster's risk to `score` (never lower it) and keep the breakdown that explains
        it (`dangol.core.risk`); returns the cluster's risk."""
        risk = max(self.cluster_risk, score)
        info = dict(self.routing or {}, risk=risk)
        if breakdown:
            info["cluster"] = breakdown
        self.routing = info  # a new dict: the JSON column notices the change
        return risk


class Reply(SQLModel, table=True):
    """A reply to a post: drafted, reviewed, and sent exactly once."""

    id: int | None = Field(default=None, primary_key=True)
    queue_item_id: int = Field(foreign_key="queueitem.id", index=True)
    post_id: int = Field(foreign_key="post.id")
    author_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    source: str = ""  # where the suggestion came from: template:<key> | similar:<reply id> | staff
    status: str = "draft"  # draft | pending_approval | approved | rejected | sending | sent | failed
    reviewer_id: int | None = Field(default=None, foreign_key="staff.id")
    review_comment: str | None = None
    idempotency_key: str = Field(unique=True)
    external_id: str | None = None
    error: str | None = None
    dry_run: bool = True
    created_at: datetime | None = utc_column()
    sent_at: datetime | None = utc_column()
    # When the latest send attempt began (with status "sending"), and in which process ("host:pid"):
    # until its outcome is recorded, a recent one whose process lives is taken as still running
    # (responder.sending.in_flight).
    attempted_at: datetime | None = utc_column()
    attempted_by: str | None = None


class Note(SQLModel, table=True):
    """An internal note on a queue item; never sent to the customer."""

    id: int | None = Field(default=None, primary_key=True)
    queue_item_id: int = Field(foreign_key="queueitem.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime | None = utc_column()


class RoutingRule(SQLModel, table=True):
    """An ordered routing rule: conditions (`when`) and actions (`then`)."""

    id: int | None = Field(default=None, primary_key=True)
    position: int = Field(index=True)
    name: str
    when: dict[str, Any] = json_column(dict)
    then: dict[str, Any] = json_column(dict)
    enabled: bool = True


class LabelFeedback(SQLModel, table=True):
    """A staff correction of a label, kept for retraining."""

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    kind: str  # sentiment | topic
    old_value: str | None = None
    new_value: str
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime | None = utc_column()


class DeadLetter(SQLModel, table=True):
    """A record that could not be stored, with the reason and the raw bytes."""

    id: int | None = Field(default=None, primary_key=True)
    source_name: str | None = Field(default=None, index=True)
    platform: str
    reason: str = Field(sa_column=Column(Text, nullable=False))
    raw: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime | None = utc_column()


class Alert(SQLModel, table=True):
    """A spike episode: one per topic/source and episode, with what explains it."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # volume | negative_share
    scope: str  # topic:<key> | source:<name>
    started_at: datetime | None = utc_column(index=True)
    ended_at: datetime | None = utc_column()
    observed: float = 0
    expected: float = 0
    explanation: dict[str, Any] = json_column(dict)
    notified_at: datetime | None = utc_column()
    # Channel ("webhook", "email") -> when it was delivered there: a channel that worked is not sent
    # to again while another is retried.
    delivered: dict[str, Any] = json_column(dict)


class Notification(SQLModel, table=True):
    """One thing one staff member is told about, shown in their dashboard inbox.

    (recipient, kind, subject, event) is unique: every worker that notices the same event inserts
    the same row, and the database keeps one (storage.notifications.notify)."""

    __table_args__ = (
        UniqueConstraint("recipient_id", "kind", "subject", "event"),
        Index("ix_notification_inbox", "recipient_id", "read_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    recipient_id: int = Field(foreign_key="staff.id")
    kind: str = Field(max_length=40)  # dangol.core.notifications.KINDS
    subject: str = Field(max_length=80)  # "queue_item:12", "reply:7", "alert:3"
    event: str = Field(max_length=120)  # which occurrence: a due time, a decision, "raised"
    item_id: int | None = None
    alert_id: int | None = None
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime | None = utc_column(nullable=False)
    read_at: datetime | None = utc_column()


class NotificationDelivery(SQLModel, table=True):
    """A notification's delivery by one channel (email, webhook), claimed by one worker at a time
    (FOR UPDATE SKIP LOCKED) and marked delivered in the claim's transaction."""

    __table_args__ = (
        UniqueConstraint("notification_id", "channel"),
        Index("ix_notificationdelivery_pending", "delivered_at", "not_before"),
    )
    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notification.id", index=True)
    channel: str = Field(max_length=20)
    # Quiet hours: not sent before this time (moved on when a delivery falls inside them).
    not_before: datetime | None = utc_column()
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    delivered_at: datetime | None = utc_column()
    # Set when the channel can never deliver (no address, too many failures): not tried again.
    given_up_at: datetime | None = utc_column()


class WebhookOutbox(SQLModel, table=True):
    """One item event for one outbound webhook subscription (`[api.webhooks.<key>]`): enqueued once
    however many workers see the event (unique subscription and event, ON CONFLICT DO NOTHING),
    claimed by one worker at a time, and sent until it is delivered or given up (storage.webhooks).

    The payload is what is POSTed: ids, the event type, its time and the item's link, nothing about
    the customer, so neither a receiver nor this table holds what an erasure must reach."""

    __table_args__ = (
        UniqueConstraint("subscription", "event_id"),
        Index("ix_webhookoutbox_pending", "delivered_at", "given_up_at", "not_before"),
    )
    id: int | None = Field(default=None, primary_key=True)
    subscription: str = Field(max_length=40)
    # The audit event's id: the event's identity (not a foreign key: the audit trail is purged by age).
    event_id: int
    event_type: str = Field(max_length=40)
    item_id: int = Field(index=True)
    occurred_at: datetime | None = utc_column(nullable=False, index=True)
    payload: dict[str, Any] = json_column(dict)
    created_at: datetime | None = utc_column(nullable=False)
    # A retry waits until this time (exponential backoff with jitter).
    not_before: datetime | None = utc_column()
    # A worker sending it holds it until then; a worker that died mid-send lets it go by this time.
    claimed_until: datetime | None = utc_column()
    claimed_by: str | None = Field(default=None, max_length=64)
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    delivered_at: datetime | None = utc_column()
    # Set after webhook_max_attempts failures: not tried again (and audited as webhook.given_up).
    given_up_at: datetime | None = utc_column()


class AuditEvent(SQLModel, table=True):
    """Who did what, when, with the values before and after."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime | None = utc_column(nullable=False, index=True)
    actor: str
    action: str = Field(index=True)
    entity_type: str
    entity_id: str
    before: dict[str, Any] = json_column(dict)
    after: dict[str, Any] = json_column(dict)


class ComplaintTopic(SQLModel, table=True):
    """A complaint topic added or edited on the Admin page; it overrides config.toml's topic of the same key.

    Retired topics are disabled, never deleted, so analyses that name them stay readable.
    `revision` goes up by one on every change: the worker compares the sum over all rows to
    notice edits without trusting clocks of other machines.
    """

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    name: str
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    examples: list[str] = json_column(list)
    team: str = "support"
    languages: list[str] = json_column(list)
    enabled: bool = True
    revision: int = 1
    updated_by: str = ""
    updated_at: datetime | None = utc_column()


class CustomerScore(SQLModel, table=True):
    """A customer's scores (dangol.core.customer_scores), each 0..1, with their inputs and breakdown,
    the segments they fell in and when they were computed; one row per customer, replaced each run."""

    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    computed_at: datetime | None = utc_column(nullable=False)
    activity: float = 0.0
    mood: float = 0.0
    service: float = 0.0
    reach: float = 0.0
    value: float = 0.0
    trend: str = "unknown"  # improving | worsening | steady | unknown
    segments: list[str] = json_column(list)
    breakdown: dict[str, Any] = json_column(dict)


class CustomerSegment(SQLModel, table=True):
    """A customer in a segment now (the queue's segment filter reads this), and since when."""

    __table_args__ = (UniqueConstraint("segment", "customer_id"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    segment: str
    since: datetime | None = utc_column(nullable=False)


class CustomerSegmentChange(SQLModel, table=True):
    """A customer joining or leaving a segment: the segments' movement over time."""

    __table_args__ = (Index("ix_customersegmentchange_segment_at", "segment", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    segment: str
    change: str  # joined | left
    at: datetime | None = utc_column(nullable=False)
