"""The reports' read side: SQL aggregates for the weekly report, feeds, spike detection and the
dashboard's Topics and Reports pages.

Everything that scales with the number of posts is a GROUP BY or an ORDER BY … LIMIT in the
database; Python only sees per-group counts or a bounded number of rows. Windows are half-open
`[since, until)` in timezone-aware UTC. Deleted posts never count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, func, literal, literal_column, not_, select, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col

from dangol.core.redact import redact_pii
from dangol.core.types import RATING, REVIEW_PLATFORMS
from storage.authors import customer_voice, own_voice
from storage.models import Analysis, Author, Customer, DeadLetter, IdentityLink, Post, PostBrand, QueueItem, Source

# Engagement is the sum of the integer metrics the platform reported (likes, reposts, replies …);
# the keys differ per platform, so the JSON object is summed whole, as PostIn.engagement does.
_ENGAGEMENT_SQL = {
    "sqlite": "(SELECT COALESCE(SUM(value), 0) FROM json_each(post.metrics) WHERE type = 'integer')",
    "postgresql": (
        "(SELECT COALESCE(SUM(value::numeric), 0) FROM json_each_text(post.metrics) WHERE value ~ '^-?[0-9]+$')"
    ),
}
_HOUR_SQL = {
    "sqlite": "strftime('%Y-%m-%d %H', post.created_at)",
    "postgresql": "to_char(post.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')",
}


@dataclass(frozen=True, slots=True)
class ReachPost:
    """A post with the figures that rank it: reach = author's followers + engagement."""

    post_id: int
    platform: str
    text: str
    url: str | None
    created_at: datetime
    handle: str
    author_id: int
    followers: int
    engagement: int
    sentiment: str
    primary_topic: str
    cluster_key: str
    risk: float

    @property
    def reach(self) -> int:
        return self.followers + self.engagement

    @property
    def shared_text(self) -> str:
        """The text as it leaves the response team, in reports, feeds, alerts and exports: e-mail
        addresses, phone numbers and resident registration numbers masked. Customers write them
        into public complaints ("my account email is …") for the agent who answers; the product
        team reading a topic feed, a report's e-mail recipients and a feed reader need none of them."""
        return redact_pii(self.text)


@dataclass(frozen=True, slots=True)
class HourlyCount:
    """Analyzed, non-spam posts in one UTC hour for one topic and source, split by negativity."""

    hour: datetime
    topic: str
    source: str
    negative: bool
    count: int


@dataclass(frozen=True, slots=True)
class SlaCounts:
    """Queue items with a first-response deadline: met it, missed it, or still within it."""

    met: int
    missed: int
    pending: int


def _dialect(session: Session) -> str:
    name = session.get_bind().dialect.name
    if name not in _ENGAGEMENT_SQL:
        raise NotImplementedError(f"reports support sqlite and postgresql, not {name}")
    return name


def engagement_expr(session: Session) -> ColumnElement[Any]:
    """SQL for a post's engagement (the integer metrics added up), for the session's database."""
    return literal_column(_ENGAGEMENT_SQL[_dialect(session)])


def live_between(since: datetime, until: datetime) -> ColumnElement[bool]:
    """Posts of the window that are still up and are the own brand's customer voice (not the brand's
    own accounts, not posts about competitors only)."""
    return and_(
        col(Post.created_at) >= since, col(Post.created_at) < until, col(Post.deleted_at).is_(None), own_voice()
    )


def _source_key() -> ColumnElement[Any]:
    # Posts without a configured source (imports, demo data) are grouped by platform instead.
    return func.coalesce(col(Source.name), col(Post.platform))


def volume_by_platform(*, session: Session, since: datetime, until: datetime) -> dict[str, int]:
    """Posts per platform created in the window."""
    stmt = select(col(Post.platform), func.count()).where(live_between(since, until)).group_by(Post.platform)
    return {platform: int(n) for platform, n in session.execute(stmt)}


def volume_by_source(*, session: Session, since: datetime, until: datetime) -> dict[str, int]:
    """Posts per source name (the platform when the post has no source) created in the window."""
    key = _source_key().label("source")
    stmt = (
        select(key, func.count())
        .select_from(Post)
        .outerjoin(Source, col(Source.id) == col(Post.source_id))
        .where(live_between(since, until))
        .group_by(key)
    )
    return {source: int(n) for source, n in session.execute(stmt)}


def sentiment_counts(*, session: Session, since: datetime, until: datetime) -> dict[str, int]:
    """Analyzed posts per sentiment label created in the window."""
    stmt = (
        select(col(Analysis.sentiment), func.count())
        .join(Post, col(Post.id) == col(Analysis.post_id))
        .where(live_between(since, until))
        .group_by(Analysis.sentiment)
    )
    return {label: int(n) for label, n in session.execute(stmt)}


def _window_label(windows: list[tuple[str, datetime, datetime]]) -> Any:
    # Contiguous ascending windows: the first end a post is before names its window.
    return case(*[(col(Post.created_at) < end, label) for label, _start, end in windows]).label("window")


def sentiment_counts_by_window(
    *, session: Session, windows: list[tuple[str, datetime, datetime]]
) -> dict[str, dict[str, int]]:
    """Sentiment counts per window in ONE scan; `windows` are (label, since, until), contiguous, oldest first."""
    window = _window_label(windows)
    stmt = (
        select(window, col(Analysis.sentiment), func.count())
        .select_from(Post)
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(live_between(windows[0][1], windows[-1][2]))
        .group_by(window, col(Analysis.sentiment))
    )
    counts: dict[str, dict[str, int]] = {label: {} for label, _, _ in windows}
    for label, sentiment, n in session.execute(stmt):
        counts[label][sentiment] = int(n)
    return counts


def complaint_topics_by_window(
    *, session: Session, windows: list[tuple[str, datetime, datetime]]
) -> dict[str, dict[str, int]]:
    """Complaints per primary topic per window in ONE scan (windows as for sentiment_counts_by_window)."""
    window = _window_label(windows)
    stmt = (
        select(window, col(Analysis.primary_topic), func.count())
        .select_from(Post)
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(live_between(windows[0][1], windows[-1][2]), col(Analysis.is_complaint).is_(True))
        .group_by(window, col(Analysis.primary_topic))
    )
    counts: dict[str, dict[str, int]] = {label: {} for label, _, _ in windows}
    for label, topic, n in session.execute(stmt):
        counts[label][topic] = int(n)
    return counts


def refresh_statistics(*, session: Session) -> bool:
    """On SQLite, sample planner statistics for posts and analyses when missing or far out of date.

    Without them SQLite joins through the unique post_id index and reads every analysis row
    instead of using the covering index; a sampled ANALYZE costs tens of milliseconds.
    PostgreSQL's autovacuum keeps its own statistics. Returns True when it refreshed them.
    """
    if session.get_bind().dialect.name != "sqlite":
        return False
    rows = session.execute(text("SELECT max(id) FROM analysis")).scalar_one() or 0
    try:
        stat = session.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'analysis' LIMIT 1")).scalar()
    except OperationalError:  # no ANALYZE has ever run: the table does not exist yet
        stat = None
    known = int(str(stat).split()[0]) if stat else 0
    if rows < 1000 or (known and known * 2 > rows):
        return False
    session.execute(text("PRAGMA analysis_limit = 1000"))
    session.execute(text("ANALYZE post"))
    session.execute(text("ANALYZE analysis"))
    return True


def complaint_topic_counts(*, session: Session, since: datetime, until: datetime) -> dict[str, int]:
    """Complaints per primary topic created in the window."""
    stmt = (
        select(col(Analysis.primary_topic), func.count())
        .join(Post, col(Post.id) == col(Analysis.post_id))
        .where(live_between(since, until), col(Analysis.is_complaint).is_(True))
        .group_by(Analysis.primary_topic)
    )
    return {topic: int(n) for topic, n in session.execute(stmt)}


def _reach_select(session: Session) -> Any:
    engagement = engagement_expr(session).label("engagement")
    followers = func.coalesce(col(Author.followers), 0)
    return (
        select(
            col(Post.id),
            col(Post.platform),
            col(Post.text),
            col(Post.url),
            col(Post.created_at),
            col(Author.handle),
            col(Author.id),
            followers.label("followers"),
            engagement,
            col(Analysis.sentiment),
            col(Analysis.primary_topic),
            col(Analysis.cluster_key),
            col(Analysis.risk),
        )
        .select_from(Post)
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .join(Author, col(Author.id) == col(Post.author_id))
    ), followers + engagement_expr(session)


def _reach_rows(rows: Any) -> list[ReachPost]:
    return [
        ReachPost(
            post_id=r[0],
            platform=r[1],
            text=r[2],
            url=r[3],
            created_at=r[4],
            handle=r[5],
            author_id=r[6],
            followers=int(r[7]),
            engagement=int(r[8]),
            sentiment=r[9],
            primary_topic=r[10],
            cluster_key=r[11],
            risk=float(r[12]),
        )
        for r in rows
    ]


def top_posts_by_reach(
    *,
    session: Session,
    since: datetime,
    until: datetime,
    sentiment: str,
    limit: int = 3,
    exclude_accounts: Sequence[tuple[str | None, str]] = (),
) -> list[ReachPost]:
    """The posts of one sentiment with the largest reach in the window, largest first.

    Spam and the `exclude_accounts` (platform or None, handle) — the brand's own — are left out.
    """
    stmt, reach = _reach_select(session)
    for platform, handle in exclude_accounts:
        own = func.lower(col(Author.handle)) == handle
        stmt = stmt.where(not_(and_(own, col(Author.platform) == platform) if platform else own))
    stmt = (
        stmt.where(live_between(since, until), col(Analysis.sentiment) == sentiment, col(Analysis.is_spam).is_(False))
        .order_by(reach.desc(), col(Post.id))
        .limit(limit)
    )
    return _reach_rows(session.execute(stmt))


def scoped_posts(
    *,
    session: Session,
    since: datetime,
    until: datetime,
    topic: str | None = None,
    source: str | None = None,
    limit: int = 500,
    order: str = "reach",
) -> list[ReachPost]:
    """Analyzed, non-spam posts of a topic and/or source in the window, by reach (or newest first)."""
    stmt, reach = _reach_select(session)
    stmt = stmt.outerjoin(Source, col(Source.id) == col(Post.source_id)).where(
        live_between(since, until), col(Analysis.is_spam).is_(False)
    )
    if topic is not None:
        stmt = stmt.where(col(Analysis.primary_topic) == topic)
    if source is not None:
        stmt = stmt.where(_source_key() == source)
    ordering = [reach.desc(), col(Post.id)] if order == "reach" else [col(Post.created_at).desc(), col(Post.id).desc()]
    return _reach_rows(session.execute(stmt.order_by(*ordering).limit(limit)))


def first_response_minutes(*, session: Session, since: datetime, until: datetime) -> list[float]:
    """Minutes from queueing to first response, for items queued in the window and answered.

    Only queue items are loaded (a small fraction of posts), two timestamps each.
    """
    stmt = select(col(QueueItem.created_at), col(QueueItem.first_responded_at)).where(
        col(QueueItem.created_at) >= since,
        col(QueueItem.created_at) < until,
        col(QueueItem.first_responded_at).is_not(None),
    )
    return [max(0.0, (answered - queued).total_seconds() / 60) for queued, answered in session.execute(stmt)]


def sla_counts(*, session: Session, since: datetime, until: datetime, now: datetime) -> SlaCounts:
    """First-response SLA outcomes of the items queued in the window, as of `now`.

    Met: answered by the deadline and not flagged breached. Missed: flagged breached, answered
    late, or unanswered past the deadline. Pending: unanswered and the deadline is still ahead.
    """
    due, answered = col(QueueItem.first_response_due_at), col(QueueItem.first_responded_at)
    met = and_(col(QueueItem.sla_breached).is_(False), answered.is_not(None), answered <= due)
    pending = and_(col(QueueItem.sla_breached).is_(False), answered.is_(None), due > now)
    outcome = case((met, "met"), (pending, "pending"), else_="missed").label("outcome")
    stmt = (
        select(outcome, func.count())
        .where(col(QueueItem.created_at) >= since, col(QueueItem.created_at) < until, due.is_not(None))
        .group_by(outcome)
    )
    counts = {name: int(n) for name, n in session.execute(stmt)}
    return SlaCounts(met=counts.get("met", 0), missed=counts.get("missed", 0), pending=counts.get("pending", 0))


def hourly_counts(*, session: Session, since: datetime, until: datetime) -> list[HourlyCount]:
    """Per UTC hour, topic, source and negativity: how many analyzed, non-spam posts."""
    hour: Any = literal_column(_HOUR_SQL[_dialect(session)]).label("hour")
    source = _source_key().label("source")
    negative = case((col(Analysis.sentiment) == "negative", 1), else_=0).label("negative")
    stmt = (
        select(hour, col(Analysis.primary_topic), source, negative, func.count())
        .select_from(Post)
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .outerjoin(Source, col(Source.id) == col(Post.source_id))
        .where(live_between(since, until), col(Analysis.is_spam).is_(False))
        .group_by(hour, col(Analysis.primary_topic), source, negative)
    )
    return [
        HourlyCount(
            hour=datetime.strptime(h, "%Y-%m-%d %H").replace(tzinfo=UTC),
            topic=topic,
            source=src,
            negative=bool(neg),
            count=int(n),
        )
        for h, topic, src, neg, n in session.execute(stmt)
    ]


def topic_posts(
    *,
    session: Session,
    topic: str,
    since: datetime,
    until: datetime,
    limit: int | None = None,
    complaints_only: bool = False,
) -> list[ReachPost]:
    """Posts whose primary topic is `topic` in the window, newest first (spam included, as stored)."""
    stmt, _reach = _reach_select(session)
    stmt = stmt.where(live_between(since, until), col(Analysis.primary_topic) == topic).order_by(
        col(Post.created_at).desc(), col(Post.id).desc()
    )
    if complaints_only:
        stmt = stmt.where(col(Analysis.is_complaint).is_(True))
    if limit is not None:
        stmt = stmt.limit(limit)
    return _reach_rows(session.execute(stmt))


def topic_cluster_counts(
    *, session: Session, topic: str, since: datetime, until: datetime, complaints_only: bool = False
) -> tuple[int, int]:
    """(posts, distinct clusters) of a topic in the window; posts without a cluster count alone."""
    own = literal("post:", String) + cast(col(Post.id), String)
    cluster = case((col(Analysis.cluster_key) == "", own), else_=col(Analysis.cluster_key))
    stmt = (
        select(func.count(), func.count(func.distinct(cluster)))
        .join(Post, col(Post.id) == col(Analysis.post_id))
        .where(live_between(since, until), col(Analysis.primary_topic) == topic)
    )
    if complaints_only:
        stmt = stmt.where(col(Analysis.is_complaint).is_(True))
    posts, clusters = session.execute(stmt).one()
    return int(posts), int(clusters)


def database_totals(*, session: Session) -> dict[str, int]:
    """Whole-database counts: posts, analyzed posts, queue items, customers with an applied link,
    dead letters (what `dangol demo` reports once the demo is built)."""

    def count(stmt: Any) -> int:
        return int(session.execute(stmt).scalar_one())

    return {
        "posts": count(select(func.count()).select_from(Post)),
        "analyzed": count(select(func.count()).select_from(Analysis)),
        "queued": count(select(func.count()).select_from(QueueItem)),
        "linked_customers": count(
            select(func.count(func.distinct(IdentityLink.customer_id))).where(col(IdentityLink.status) == "applied")
        ),
        "dead_letters": count(select(func.count()).select_from(DeadLetter)),
    }


def topic_daily_counts(
    *, session: Session, since: datetime, until: datetime, complaints_only: bool = True
) -> list[tuple[str, str, int]]:
    """(day 'YYYY-MM-DD' in UTC, topic, posts) for each day and topic in the window."""
    day = utc_day(session, col(Post.created_at))
    stmt = (
        select(day, col(Analysis.primary_topic), func.count())
        .join(Post, col(Post.id) == col(Analysis.post_id))
        .where(live_between(since, until))
        .group_by(day, col(Analysis.primary_topic))
        .order_by(day, col(Analysis.primary_topic))
    )
    if complaints_only:
        stmt = stmt.where(col(Analysis.is_complaint).is_(True))
    return [(str(d), str(t), int(n)) for d, t, n in session.execute(stmt).all()]


def sentiment_daily_counts(*, session: Session, since: datetime, until: datetime) -> list[tuple[str, str, int]]:
    """(day 'YYYY-MM-DD' in UTC, sentiment, posts) for each day in the window."""
    day = utc_day(session, col(Post.created_at))
    stmt = (
        select(day, col(Analysis.sentiment), func.count())
        .join(Post, col(Post.id) == col(Analysis.post_id))
        .where(live_between(since, until))
        .group_by(day, col(Analysis.sentiment))
        .order_by(day, col(Analysis.sentiment))
    )
    return [(str(d), str(s), int(n)) for d, s, n in session.execute(stmt).all()]


def utc_day(session: Session, column: Any) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp column as 'YYYY-MM-DD' text, per dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)  # SQLite stores UTC as ISO text


def topic_customers(
    *, session: Session, topic: str, since: datetime, until: datetime, limit: int = 25
) -> list[tuple[Customer, int]]:
    """Customers whose linked authors complained about `topic` in the window, with how many complaints
    (posts still up, as the page's chart and summary count them)."""
    stmt = (
        select(Customer, func.count(col(Post.id)))
        .join(
            IdentityLink, and_(col(IdentityLink.customer_id) == col(Customer.id), col(IdentityLink.status) == "applied")
        )
        .join(Post, col(Post.author_id) == col(IdentityLink.author_id))
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(col(Analysis.primary_topic) == topic, col(Analysis.is_complaint).is_(True), live_between(since, until))
        .group_by(col(Customer.id))
        .order_by(func.count(col(Post.id)).desc())
        .limit(limit)
    )
    return [(c, int(n)) for c, n in session.execute(stmt).all()]


def sla_attainment_daily(*, session: Session, since: datetime, until: datetime) -> list[tuple[str, int, int]]:
    """(day, answered in time, answered late) by the day items were first answered."""
    day = utc_day(session, col(QueueItem.first_responded_at))
    on_time = func.sum(case((col(QueueItem.first_responded_at) <= col(QueueItem.first_response_due_at), 1), else_=0))
    stmt = (
        select(day, on_time, func.count())
        .where(col(QueueItem.first_responded_at) >= since, col(QueueItem.first_responded_at) < until)
        .group_by(day)
        .order_by(day)
    )
    return [(str(d), int(ok or 0), int(n) - int(ok or 0)) for d, ok, n in session.execute(stmt).all()]


# Where the store collectors keep a review's app and version in the raw payload (listener.appstore
# and listener.googleplay: PostIn has no field for them): `raw["dangol:<platform>"]["app_id" | "version"]`,
# and the App Store's `app_name` where its feed named the app.
_STORE_FIELD_SQL = {
    "sqlite": (
        "COALESCE(json_extract(post.raw, '$.\"dangol:appstore\".{field}'), "
        "json_extract(post.raw, '$.\"dangol:googleplay\".{field}'), '')"
    ),
    "postgresql": (
        "COALESCE(CAST(post.raw AS json) -> 'dangol:appstore' ->> '{field}', "
        "CAST(post.raw AS json) -> 'dangol:googleplay' ->> '{field}', '')"
    ),
}


def _store_field(session: Session, name: str) -> ColumnElement[Any]:
    """A store review's `app_id`, `app_name` or `version` from its raw payload ('' when unknown or erased)."""
    return literal_column(_STORE_FIELD_SQL[_dialect(session)].format(field=name))


def _is_review() -> ColumnElement[bool]:
    return and_(col(Post.platform).in_(sorted(REVIEW_PLATFORMS)), col(Post.raw).is_not(None))


@dataclass(frozen=True, slots=True)
class RatingCount:
    """Store reviews of one app, version and window that gave one star rating."""

    window: str
    platform: str
    app: str  # the store's app id; '' when the payload did not say
    version: str  # the app version the review was written on; '' when unknown
    rating: int
    count: int
    app_name: str = ""  # the app's name as its store feed gave it on any of these reviews; '' when none did


def review_ratings_by_window(*, session: Session, windows: list[tuple[str, datetime, datetime]]) -> list[RatingCount]:
    """Store reviews still up per window, platform, app, version and star rating, in ONE scan
    (windows contiguous and ascending, as for sentiment_counts_by_window). Reviews count whether or
    not they were analyzed: a rating is the reviewer's own figure."""
    window = _window_label(windows)
    app, version = _store_field(session, "app_id").label("app"), _store_field(session, "version").label("version")
    rating = col(Post.metrics)[RATING].as_integer().label("rating")
    app_name = func.max(_store_field(session, "app_name"))
    stmt = (
        select(window, col(Post.platform), app, version, rating, func.count(), app_name)
        .where(live_between(windows[0][1], windows[-1][2]), _is_review(), rating.between(1, 5))
        .group_by(window, col(Post.platform), app, version, rating)
    )
    rows = [
        RatingCount(str(w), str(p), str(a or ""), str(v or ""), int(r), int(n), str(name or ""))
        for w, p, a, v, r, n, name in session.execute(stmt)
    ]
    return sorted(rows, key=lambda r: (r.window, r.platform, r.app, r.version, r.rating))


def complaint_topics_by_version(
    *, session: Session, since: datetime, until: datetime, topic: str | None = None
) -> list[tuple[str, str, str, str, int]]:
    """(topic, platform, app, version, complaints) of the store reviews in the window that are
    complaints, per primary topic and app version; only `topic` when given."""
    app, version = _store_field(session, "app_id").label("app"), _store_field(session, "version").label("version")
    stmt = (
        select(col(Analysis.primary_topic), col(Post.platform), app, version, func.count())
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(live_between(since, until), _is_review(), col(Analysis.is_complaint).is_(True))
        .group_by(col(Analysis.primary_topic), col(Post.platform), app, version)
    )
    if topic is not None:
        stmt = stmt.where(col(Analysis.primary_topic) == topic)
    rows = [(str(t), str(p), str(a or ""), str(v or ""), int(n)) for t, p, a, v, n in session.execute(stmt)]
    return sorted(rows)


def review_versions(*, session: Session, post_ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
    """post id → (platform, app, version) for those of `post_ids` that are store reviews."""
    if not post_ids:
        return {}
    app, version = _store_field(session, "app_id"), _store_field(session, "version")
    stmt = select(col(Post.id), col(Post.platform), app, version).where(col(Post.id).in_(list(post_ids)), _is_review())
    return {int(i): (str(p), str(a or ""), str(v or "")) for i, p, a, v in session.execute(stmt)}


@dataclass(frozen=True, slots=True)
class BrandVoice:
    """One brand's posts in one window: mentions, their reach (author followers + engagement, as
    ReachPost.reach) and their analyzed sentiment."""

    window: str
    brand: str
    mentions: int
    reach: int
    positive: int
    negative: int
    analyzed: int


def _brand_key(own_brand: str) -> ColumnElement[Any]:
    # Posts stored before brands were tagged (no post_brand row) were all about the own brand.
    return func.coalesce(col(PostBrand.brand), own_brand)


def brand_voice_by_window(
    *, session: Session, windows: list[tuple[str, datetime, datetime]], own_brand: str
) -> list[BrandVoice]:
    """Mentions, reach and sentiment per brand ([brands] key) per window, in ONE scan (windows as for
    sentiment_counts_by_window). Live posts not written by the own brand's accounts and not spam;
    a post about two brands counts once for each."""
    window = _window_label(windows)
    brand = _brand_key(own_brand).label("brand")
    reach = func.coalesce(col(Author.followers), 0) + engagement_expr(session)
    positive = func.sum(case((col(Analysis.sentiment) == "positive", 1), else_=0))
    negative = func.sum(case((col(Analysis.sentiment) == "negative", 1), else_=0))
    stmt = (
        select(window, brand, func.count(), func.sum(reach), positive, negative, func.count(col(Analysis.id)))
        .select_from(Post)
        .join(Author, col(Author.id) == col(Post.author_id))
        .outerjoin(PostBrand, col(PostBrand.post_id) == col(Post.id))
        .outerjoin(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(
            col(Post.created_at) >= windows[0][1],
            col(Post.created_at) < windows[-1][2],
            col(Post.deleted_at).is_(None),
            customer_voice(),
            func.coalesce(col(Analysis.is_spam), False).is_(False),
        )
        .group_by(window, brand)
    )
    return [
        BrandVoice(label, key, int(n), int(r or 0), int(pos or 0), int(neg or 0), int(done))
        for label, key, n, r, pos, neg, done in session.execute(stmt)
    ]


@dataclass(frozen=True, slots=True)
class CompetitorComplaints:
    """Posts about one competitor only, on one topic, in a window: complaints and negative posts."""

    brand: str
    topic: str
    complaints: int
    negative: int
    posts: int


def competitor_complaints_by_topic(
    *, session: Session, since: datetime, until: datetime, own_brand: str
) -> list[CompetitorComplaints]:
    """Per competitor brand and primary topic: analyzed, live, non-spam posts about competitors only
    (`Post.competitor`) that are complaints or negative; most complaints first."""
    complaint = func.sum(case((col(Analysis.is_complaint).is_(True), 1), else_=0))
    negative = func.sum(case((col(Analysis.sentiment) == "negative", 1), else_=0))
    brand = col(PostBrand.brand)
    stmt = (
        select(brand, col(Analysis.primary_topic), complaint, negative, func.count())
        .select_from(Post)
        .join(PostBrand, col(PostBrand.post_id) == col(Post.id))
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(
            col(Post.created_at) >= since,
            col(Post.created_at) < until,
            col(Post.deleted_at).is_(None),
            col(Post.competitor).is_(True),
            customer_voice(),
            brand != own_brand,
            col(Analysis.is_spam).is_(False),
            (col(Analysis.is_complaint).is_(True)) | (col(Analysis.sentiment) == "negative"),
        )
        .group_by(brand, col(Analysis.primary_topic))
    )
    rows = [CompetitorComplaints(b, t, int(c or 0), int(n or 0), int(p)) for b, t, c, n, p in session.execute(stmt)]
    return sorted(rows, key=lambda r: (-r.complaints, -r.negative, r.brand, r.topic))
