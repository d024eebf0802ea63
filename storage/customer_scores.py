"""Customer scores and segments: the inputs of every customer gathered set-based (a few grouped
queries over all customers, never one per customer), the scores and segment membership written
back in bulk, a segment history row for each customer joining or leaving a segment, and the reads
the risk formula, routing, the queue filter and the dashboard need.

A customer's posts are the live posts (not deleted, not by a brand account) of the authors linked
to them by an applied identity link; the formulas are in `dangol.core.customer_scores`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, literal_column, select, tuple_
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from dangol.core.customer_scores import (
    ACTIVITY_DAYS,
    MOOD_BEFORE_DAYS,
    MOOD_RECENT_DAYS,
    SCORES,
    Complaint,
    CustomerInputs,
    CustomerScores,
    PlatformActivity,
)
from dangol.core.types import NOT_ENGAGEMENT
from storage.models import (
    Analysis,
    Author,
    Customer,
    CustomerOrder,
    CustomerScore,
    CustomerSegment,
    CustomerSegmentChange,
    IdentityLink,
    Post,
    Reply,
)
from storage.read_models import utc_day


def _links() -> Any:
    """(customer id, author id) of applied links to customers not erased, as a subquery."""
    return (
        select(col(IdentityLink.customer_id).label("customer_id"), col(IdentityLink.author_id).label("author_id"))
        .join(Customer, col(Customer.id) == col(IdentityLink.customer_id))
        .where(col(IdentityLink.status) == "applied", col(Customer.erased_at).is_(None))
        .distinct()
        .subquery()
    )


def _voice(links: Any, *columns: Any, now: datetime) -> Select[Any]:
    """`columns` over the customers' live posts up to `now` (not deleted, not a brand account's, not
    about competitors only: those are never tied to a customer). Scores "as of" a past moment read
    only what had been posted by then."""
    return (
        select(links.c.customer_id, *columns)
        .select_from(links)
        .join(Post, col(Post.author_id) == links.c.author_id)
        .join(Author, col(Author.id) == col(Post.author_id))
        .where(col(Post.deleted_at).is_(None), col(Author.is_brand).is_(False), col(Post.competitor).is_(False))
        .where(col(Post.created_at) <= now)
    )


def gather_inputs(*, session: Session, now: datetime) -> list[CustomerInputs]:
    """Every live customer's score inputs, in seven grouped queries whatever the number of customers."""
    since = now - timedelta(days=ACTIVITY_DAYS)
    recent_from = now - timedelta(days=MOOD_RECENT_DAYS)
    before_from = recent_from - timedelta(days=MOOD_BEFORE_DAYS)
    found = {
        cid: CustomerInputs(customer_id=cid, tier=tier or "standard")
        for cid, tier in session.execute(
            select(col(Customer.id), col(Customer.tier)).where(col(Customer.erased_at).is_(None))
        ).all()
    }
    for cid, orders in session.execute(
        select(col(CustomerOrder.customer_id), func.count()).group_by(col(CustomerOrder.customer_id))
    ).all():
        if cid in found:
            found[cid].orders = int(orders)
    links = _links()
    followers = (
        select(links.c.customer_id, func.coalesce(func.sum(col(Author.followers)), 0))
        .select_from(links)
        .join(Author, col(Author.id) == links.c.author_id)
        .where(col(Author.is_brand).is_(False))
        .group_by(links.c.customer_id)
    )
    for cid, total in session.execute(followers).all():
        found[cid].followers = int(total or 0)
    recent_count = func.sum(case((col(Post.created_at) >= since, 1), else_=0))
    activity = _voice(
        links, col(Post.platform), func.max(col(Post.created_at)), func.min(col(Post.created_at)), recent_count, now=now
    ).group_by(links.c.customer_id, col(Post.platform))
    for cid, platform, last, first, posts in session.execute(activity).all():
        found[cid].platforms[platform] = PlatformActivity(last_post_at=last, posts_90d=int(posts or 0))
        if first is not None and (found[cid].first_post_at is None or first < found[cid].first_post_at):
            found[cid].first_post_at = first
    _gather_mood(session, links, found, since=since, recent_from=recent_from, before_from=before_from, now=now)
    _gather_complaints(session, links, found, since=since, now=now)
    engaged = _voice(links, func.sum(_engagement(session)), now=now).where(col(Post.created_at) >= since)
    for cid, total in session.execute(engaged.group_by(links.c.customer_id)).all():
        found[cid].engagement_90d = int(total or 0)
    return list(found.values())


# A post's engagement (dangol.core.types.engagement) summed in the database: its integer metrics
# but the star rating. Reading every post's metrics JSON into Python instead took a sixth of a run
# at 1M posts.
_ENGAGEMENT_SQL = {
    "sqlite": "(SELECT COALESCE(SUM(value), 0) FROM json_each(post.metrics) "
    "WHERE type = 'integer' AND key NOT IN ({}))",
    "postgresql": "(SELECT COALESCE(SUM(value::numeric), 0) FROM json_each_text(post.metrics) "
    "WHERE value ~ '^-?[0-9]+$' AND key NOT IN ({}))",
}


def _engagement(session: Session) -> Any:
    skipped = ", ".join(f"'{key}'" for key in sorted(NOT_ENGAGEMENT))
    return literal_column(_ENGAGEMENT_SQL[session.get_bind().dialect.name].format(skipped))


def _gather_mood(
    session: Session, links: Any, found: dict[int, CustomerInputs], *, since: datetime, recent_from: datetime,
    before_from: datetime, now: datetime,
) -> None:  # fmt: skip
    recent = col(Post.created_at) >= recent_from
    before = and_(col(Post.created_at) >= before_from, col(Post.created_at) < recent_from)
    negative, positive = col(Analysis.sentiment) == "negative", col(Analysis.sentiment) == "positive"

    def count(*conditions: Any) -> Any:
        return func.sum(case((and_(*conditions), 1), else_=0))

    last_positive = func.max(case((positive, col(Post.created_at)), else_=None))
    stmt = (
        _voice(
            links,
            count(recent, negative),
            count(recent, positive),
            count(recent),
            count(before, negative),
            count(before, positive),
            count(before),
            last_positive,
            now=now,
        )  # fmt: skip
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(col(Post.created_at) >= min(since, before_from), col(Analysis.is_spam).is_(False))
        .group_by(links.c.customer_id)
    )
    for cid, rn, rp, rt, bn, bp, bt, last in session.execute(stmt).all():
        found[cid].recent = (int(rn or 0), int(rp or 0), int(rt or 0))
        found[cid].before = (int(bn or 0), int(bp or 0), int(bt or 0))
        newest = _as_utc(last)
        if newest is not None:
            found[cid].positive_times = [newest]


def _gather_complaints(
    session: Session, links: Any, found: dict[int, CustomerInputs], *, since: datetime, now: datetime
) -> None:
    """Each complaint of the last 90 days with its first answer (None: unanswered): a reply sent
    through Dangol, or a public reply from one of the brand's own accounts (answered outside Dangol,
    or a developer's answer to a store review), whichever came first."""
    by_brand = (
        select(col(Post.platform), col(Post.reply_to_id), func.min(col(Post.created_at)).label("first"))
        .join(Author, col(Author.id) == col(Post.author_id))
        .where(col(Author.is_brand).is_(True), col(Post.deleted_at).is_(None), col(Post.reply_to_id).is_not(None))
        .where(col(Post.created_at) <= now)
        .group_by(col(Post.platform), col(Post.reply_to_id))
        .subquery()
    )
    stmt = (
        _voice(
            links, col(Post.id), col(Post.created_at), func.min(col(Reply.sent_at)), func.min(by_brand.c.first), now=now
        )
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .outerjoin(
            Reply, and_(col(Reply.post_id) == col(Post.id), col(Reply.status) == "sent", col(Reply.sent_at) <= now)
        )
        .outerjoin(
            by_brand, and_(by_brand.c.platform == col(Post.platform), by_brand.c.reply_to_id == col(Post.external_id))
        )
        .where(col(Post.created_at) >= since, col(Analysis.is_complaint).is_(True), col(Analysis.is_spam).is_(False))
        .group_by(links.c.customer_id, col(Post.id), col(Post.created_at))
    )
    for cid, _post_id, created, sent, public in session.execute(stmt).all():
        answers = [t for t in (_as_utc(sent), _as_utc(public)) if t is not None]
        found[cid].complaints.append(Complaint(created_at=created, answered_at=min(answers) if answers else None))


def _as_utc(value: Any) -> datetime | None:
    """An aggregate's time: MIN/MAX over an expression may come back untyped (text on SQLite)."""
    from dangol.core.columns import UtcDateTime

    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return UtcDateTime().process_result_value(value, None)  # type: ignore[arg-type]


@dataclass(slots=True)
class SavedScores:
    """What `save_scores` wrote: customers scored, and segment joins and leaves by segment key."""

    customers: int
    joined: dict[str, int]
    left: dict[str, int]


def save_scores(results: Sequence[CustomerScores], *, session: Session, now: datetime) -> SavedScores:
    """Replace the scores of these customers, bring their segment membership in line, and write a
    history row for each join and leave. Bulk statements: a few per call, none per customer, sent
    on the session's Core connection (SQLAlchemy's ORM bulk path costs more per row than the
    database does, at 100k customers)."""
    ids = [r.customer_id for r in results]
    core = session.connection()
    current: dict[int, set[str]] = {}
    for cid, segment in session.execute(select(col(CustomerSegment.customer_id), col(CustomerSegment.segment))):
        current.setdefault(cid, set()).add(segment)
    for chunk in _chunks(ids):
        session.execute(delete(CustomerScore).where(col(CustomerScore.customer_id).in_(chunk)))
    rows = [
        {"customer_id": r.customer_id, "computed_at": now, "activity": r.activity, "mood": r.mood,
         "service": r.service, "reach": r.reach, "value": r.value, "trend": r.flags.get("trend", "unknown"),
         "segments": list(r.segments), "breakdown": r.breakdown}
        for r in results
    ]  # fmt: skip
    if rows:
        core.execute(insert(CustomerScore.__table__), rows)  # type: ignore[attr-defined]
    joined, left, changes = [], [], []
    for r in results:
        have, want = current.get(r.customer_id, set()), set(r.segments)
        joined += [(r.customer_id, s) for s in sorted(want - have)]
        left += [(r.customer_id, s) for s in sorted(have - want)]
    for chunk in _chunks(left):
        session.execute(
            delete(CustomerSegment).where(
                tuple_(col(CustomerSegment.customer_id), col(CustomerSegment.segment)).in_(chunk)
            )
        )
    if joined:
        segment_rows = [{"customer_id": c, "segment": s, "since": now} for c, s in joined]
        core.execute(insert(CustomerSegment.__table__), segment_rows)  # type: ignore[attr-defined]
    changes = [{"customer_id": c, "segment": s, "change": "joined", "at": now} for c, s in joined]
    changes += [{"customer_id": c, "segment": s, "change": "left", "at": now} for c, s in left]
    if changes:
        core.execute(insert(CustomerSegmentChange.__table__), changes)  # type: ignore[attr-defined]
    session.flush()
    return SavedScores(len(results), _count(joined), _count(left))


def _count(pairs: Iterable[tuple[int, str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, segment in pairs:
        counts[segment] = counts.get(segment, 0) + 1
    return counts


def _chunks(values: Sequence[Any], size: int = 5000) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- reads -------------------------------------------------------------------------------------


def score_of(customer_id: int, *, session: Session) -> CustomerScore | None:
    """The customer's latest scores, or None before the first run (or after erasure)."""
    return session.get(CustomerScore, customer_id)


def value_scores(customer_ids: Sequence[int], *, session: Session) -> dict[int, float]:
    """customer id → value score, for the customers that have scores."""
    if not customer_ids:
        return {}
    stmt = select(col(CustomerScore.customer_id), col(CustomerScore.value)).where(
        col(CustomerScore.customer_id).in_(list(set(customer_ids)))
    )
    return {cid: float(v) for cid, v in session.execute(stmt).all()}


def segments_of(customer_ids: Sequence[int], *, session: Session) -> dict[int, list[str]]:
    """customer id → the segments they are in now (sorted), for customers in any."""
    found: dict[int, list[str]] = {}
    if customer_ids:
        stmt = (
            select(col(CustomerSegment.customer_id), col(CustomerSegment.segment))
            .where(col(CustomerSegment.customer_id).in_(list(set(customer_ids))))
            .order_by(col(CustomerSegment.segment))
        )
        for cid, segment in session.execute(stmt).all():
            found.setdefault(cid, []).append(segment)
    return found


def in_segment(segment: str) -> Any:
    """A subquery of the ids of the customers in `segment` now (the queue's segment filter)."""
    return select(col(CustomerSegment.customer_id)).where(col(CustomerSegment.segment) == segment)


def segment_history(customer_id: int, *, session: Session, limit: int = 50) -> list[CustomerSegmentChange]:
    """The customer's segment joins and leaves, newest first."""
    stmt = (
        select(CustomerSegmentChange)
        .where(col(CustomerSegmentChange.customer_id) == customer_id)
        .order_by(col(CustomerSegmentChange.at).desc(), col(CustomerSegmentChange.id).desc())
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def segment_counts(*, session: Session) -> dict[str, int]:
    """How many customers (not erased) are in each segment now."""
    stmt = (
        select(col(CustomerSegment.segment), func.count())
        .join(Customer, col(Customer.id) == col(CustomerSegment.customer_id))
        .where(col(Customer.erased_at).is_(None))
        .group_by(col(CustomerSegment.segment))
    )
    return {segment: int(n) for segment, n in session.execute(stmt).all()}


def erase_scores(customer_id: int, *, session: Session) -> int:
    """Delete a customer's scores, segment membership and segment history (privacy erasure);
    returns the rows deleted."""
    deleted = 0
    for table in (CustomerScore, CustomerSegment, CustomerSegmentChange):
        result = session.execute(delete(table).where(col(table.customer_id) == customer_id))
        deleted += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return deleted


# --- segments over time, members, the weekly movement --------------------------------------------


def _live_changes(*columns: Any) -> Select[Any]:
    """`columns` over the segment history of customers not erased."""
    return (
        select(*columns)
        .select_from(CustomerSegmentChange)
        .join(Customer, col(Customer.id) == col(CustomerSegmentChange.customer_id))
        .where(col(Customer.erased_at).is_(None))
    )


def _signed() -> Any:
    """+1 for a join, −1 for a leave."""
    return func.sum(case((col(CustomerSegmentChange.change) == "joined", 1), else_=-1))


def segment_members_by_day(*, session: Session, first_day: date, last_day: date) -> dict[str, dict[str, int]]:
    """segment → UTC day ('YYYY-MM-DD') → its members at the end of that day, for every day from
    `first_day` to `last_day`, rebuilt from the segment history: the joins minus the leaves before
    the first day, then each day's (two grouped queries, whatever the number of customers or days)."""
    since = datetime.combine(first_day, time(), UTC)
    until = datetime.combine(last_day + timedelta(days=1), time(), UTC)
    at = col(CustomerSegmentChange.at)
    segment = col(CustomerSegmentChange.segment)
    base = {
        s: int(n or 0)
        for s, n in session.execute(_live_changes(segment, _signed()).where(at < since).group_by(segment)).all()
    }
    day = utc_day(session, at)
    deltas: dict[str, dict[str, int]] = {}
    stmt = _live_changes(segment, day, _signed()).where(at >= since, at < until).group_by(segment, day)
    for s, d, n in session.execute(stmt).all():
        deltas.setdefault(s, {})[str(d)] = int(n or 0)
    days = [(first_day + timedelta(days=i)).isoformat() for i in range((last_day - first_day).days + 1)]
    found: dict[str, dict[str, int]] = {}
    for s in sorted(set(base) | set(deltas)):
        members, found[s] = base.get(s, 0), {}
        for d in days:
            members += deltas.get(s, {}).get(d, 0)
            found[s][d] = members
    return found


@dataclass(frozen=True, slots=True)
class SegmentMember:
    """A customer in a segment: their public handles (never the CRM name, e-mail or phone), scores,
    segments and score breakdown."""

    customer_id: int
    tier: str
    since: datetime
    handles: list[str]
    scores: dict[str, float]
    trend: str
    segments: list[str]
    breakdown: dict[str, Any]


def public_handles(customer_ids: Sequence[int], *, session: Session) -> dict[int, list[str]]:
    """customer id → the "platform:@handle" of the authors applied links tie to them (brand
    accounts left out), sorted; customers erased have none."""
    found: dict[int, list[str]] = {}
    if not customer_ids:
        return found
    stmt = (
        select(col(IdentityLink.customer_id), col(Author.platform), col(Author.handle))
        .join(Author, col(Author.id) == col(IdentityLink.author_id))
        .join(Customer, col(Customer.id) == col(IdentityLink.customer_id))
        .where(
            col(IdentityLink.customer_id).in_(list(set(customer_ids))),
            col(IdentityLink.status) == "applied",
            col(Author.is_brand).is_(False),
            col(Customer.erased_at).is_(None),
        )
        .distinct()
        .order_by(col(Author.platform), col(Author.handle))
    )
    for cid, platform, handle in session.execute(stmt).all():
        found.setdefault(cid, []).append(f"{platform}:@{handle}")
    return found


def segment_members(segment: str, *, session: Session, limit: int | None = None) -> list[SegmentMember]:
    """The customers in `segment` now (erased ones never), highest value score first, with their
    scores and public handles: two queries."""
    stmt = (
        select(CustomerSegment, CustomerScore, col(Customer.tier))
        .join(Customer, col(Customer.id) == col(CustomerSegment.customer_id))
        .join(CustomerScore, col(CustomerScore.customer_id) == col(CustomerSegment.customer_id))
        .where(col(CustomerSegment.segment) == segment, col(Customer.erased_at).is_(None))
        .order_by(col(CustomerScore.value).desc(), col(CustomerSegment.customer_id))
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = session.execute(stmt).all()
    handles = public_handles([m.customer_id for m, _, _ in rows], session=session)
    return [
        SegmentMember(
            customer_id=m.customer_id,
            tier=tier or "standard",
            since=m.since,
            handles=handles.get(m.customer_id, []),
            scores={name: float(getattr(s, name)) for name in SCORES},
            trend=s.trend,
            segments=list(s.segments or []),
            breakdown=dict(s.breakdown or {}),
        )  # fmt: skip
        for m, s, tier in rows
    ]


def customers_who_joined(segment: str, *, session: Session, since: datetime, until: datetime) -> list[int]:
    """The customers (not erased) who joined `segment` in `[since, until)`, each once, by id."""
    stmt = (
        _live_changes(col(CustomerSegmentChange.customer_id))
        .where(
            col(CustomerSegmentChange.segment) == segment,
            col(CustomerSegmentChange.change) == "joined",
            col(CustomerSegmentChange.at) >= since,
            col(CustomerSegmentChange.at) < until,
        )
        .distinct()
        .order_by(col(CustomerSegmentChange.customer_id))
    )
    return [int(cid) for cid in session.execute(stmt).scalars()]


def members_at(segment: str, *, session: Session, at: datetime) -> list[int]:
    """The customers (not erased) in `segment` at the instant `at`, from the segment history: those
    whose latest change before `at` was a join."""
    latest = (
        _live_changes(func.max(col(CustomerSegmentChange.id)).label("id"))
        .where(col(CustomerSegmentChange.segment) == segment, col(CustomerSegmentChange.at) < at)
        .group_by(col(CustomerSegmentChange.customer_id))
        .subquery()
    )
    stmt = (
        select(col(CustomerSegmentChange.customer_id))
        .join(latest, latest.c.id == col(CustomerSegmentChange.id))
        .where(col(CustomerSegmentChange.change) == "joined")
        .order_by(col(CustomerSegmentChange.customer_id))
    )
    return [int(cid) for cid in session.execute(stmt).scalars()]


def reach_scores(customer_ids: Sequence[int], *, session: Session) -> dict[int, float]:
    """customer id → reach score, for the customers that have scores."""
    if not customer_ids:
        return {}
    stmt = select(col(CustomerScore.customer_id), col(CustomerScore.reach)).where(
        col(CustomerScore.customer_id).in_(list(set(customer_ids)))
    )
    return {cid: float(v) for cid, v in session.execute(stmt).all()}
