"""Queue items: filtered pages and the lines they show, filter values, staff load, atomic claims,
the routing turn, the rows routing, SLA checks and snoozes change (held locked), notes.

Every list is bounded (keyset pages or a small LIMIT) and filters land on indexed columns of the
queue table, so a page costs the same with a thousand posts as with a million.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import and_, case, func, or_, tuple_, update
from sqlalchemy import select as select_columns  # sqlmodel's select types four columns at most
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from dangol.core.types import utcnow
from storage.customer_scores import in_segment
from storage.models import Analysis, Author, Note, Post, QueueItem, Reply, Staff

SORTS = ("priority", "oldest", "newest", "due")
SLA_STATES = ("ok", "warning", "breached")


@dataclass(frozen=True)
class QueueFilters:
    """What the queue list can be narrowed by; None means "any".

    `sla` is the clock's state now (ok | warning | breached, as the dashboard shows it);
    `sla_breached` is the stored breach flag alone.
    """

    status: Sequence[str] | None = None
    team: str | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    priority: int | None = None
    platform: str | None = None
    topic: str | None = None
    sentiment: str | None = None
    language: str | None = None
    tag: str | None = None
    customer_id: int | None = None
    sla_breached: bool | None = None
    sla: str | None = None
    text: str | None = None
    segment: str | None = None  # the item's customer is in this segment now (storage.customer_scores)


def due_column() -> ColumnElement[Any]:
    """`QueueItem.due_at` in SQL: first response until answered, then resolution."""
    return case(
        (col(QueueItem.first_responded_at).is_(None), col(QueueItem.first_response_due_at)),
        else_=col(QueueItem.resolution_due_at),
    )


def _conditions(f: QueueFilters, now: datetime, warn: timedelta) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.status:
        conditions.append(col(QueueItem.status).in_(list(f.status)))
    if f.team:
        conditions.append(col(QueueItem.team) == f.team)
    if f.unassigned:
        conditions.append(col(QueueItem.assignee_id).is_(None))
    elif f.assignee_id is not None:
        conditions.append(col(QueueItem.assignee_id) == f.assignee_id)
    if f.priority is not None:
        conditions.append(col(QueueItem.priority) == f.priority)
    if f.customer_id is not None:
        conditions.append(col(QueueItem.customer_id) == f.customer_id)
    if f.segment:
        conditions.append(col(QueueItem.customer_id).in_(in_segment(f.segment)))
    if f.sla_breached is not None:
        conditions.append(col(QueueItem.sla_breached) == f.sla_breached)
    if f.platform:
        conditions.append(col(QueueItem.platform) == f.platform)
    if f.topic:
        conditions.append(col(QueueItem.topic) == f.topic)
    if f.sentiment:
        conditions.append(col(QueueItem.sentiment) == f.sentiment)
    if f.language:
        conditions.append(col(QueueItem.language) == f.language)
    if f.text:
        conditions.append(func.lower(col(Post.text)).contains(f.text.lower()))
    due = due_column()
    if f.sla == "breached":
        conditions.append(or_(col(QueueItem.sla_breached).is_(True), due <= now))
    elif f.sla == "warning":
        conditions.append(and_(col(QueueItem.sla_breached).is_(False), due > now, due <= now + warn))
    elif f.sla == "ok":
        conditions.append(and_(col(QueueItem.sla_breached).is_(False), or_(due.is_(None), due > now + warn)))
    return conditions


def _joined(stmt: Any, f: QueueFilters) -> Any:
    # Labels and platform are the item's own columns; only a text search still needs the post.
    if f.text:
        stmt = stmt.join(Post, col(Post.id) == col(QueueItem.post_id))
    return stmt


@dataclass(frozen=True)
class Cursor:
    """A page boundary: the sort key of the row beside it; the page `after` that row, or the one before."""

    key: tuple[Any, ...]
    after: bool = True


@dataclass
class QueueSlice:
    """One page of items, how many match in all, and the cursors to the pages on either side."""

    items: list[QueueItem]
    total: int  # at most COUNT_LIMIT
    total_is_exact: bool  # False: more than COUNT_LIMIT items match
    previous: Cursor | None  # None: nothing comes before this page
    next: Cursor | None  # None: nothing comes after it


# Counting stops here: a count walks every matching index entry (100k open items at 1M posts cost
# 25-30 ms on PostgreSQL, more than the page itself), and "10,000+ items" says enough to triage by.
COUNT_LIMIT = 10_000


def _sort_key(sort: str) -> tuple[tuple[Any, ...], bool]:
    """The columns a sort orders by (the id last, so every key is unique) and whether it runs descending.

    One direction for the whole key lets a cursor be one row-value comparison, which both
    databases answer as an index range: priority reads ix_queue_priority_order, the ages and
    filtered pages ix_queue_filters, one topic ix_queue_status_topic_priority, the due time
    ix_queue_status_due.
    """
    return {
        "priority": ((col(QueueItem.priority), col(QueueItem.created_at), col(QueueItem.id)), False),
        "oldest": ((col(QueueItem.created_at), col(QueueItem.id)), False),
        "newest": ((col(QueueItem.created_at), col(QueueItem.id)), True),
        "due": ((col(QueueItem.first_response_due_at), col(QueueItem.id)), False),
    }[sort]


def _seek(stmt: Any, sort: str, cursor: Cursor | None) -> list[Any]:
    """Statements that read `stmt` from the cursor on in reading order (backwards when paging back), one after another.

    Every sort is one statement but the due sort: items with a due time by due time, then those
    without by id. Two index ranges rather than one key with a stand-in for the missing time:
    neither database reads `coalesce(due, stand-in)` in order from an index.
    """
    key, descending = _sort_key(sort)
    forward = cursor is None or cursor.after
    ascending = descending != forward
    if sort != "due":
        return [_range(stmt, key, ascending, cursor.key if cursor else None)]
    due, item_id = key
    dated = (stmt.where(due.is_not(None)), key, ascending)
    undated = (stmt.where(due.is_(None)), (item_id,), ascending)
    if cursor is None:
        return [_range(*dated, None), _range(*undated, None)]
    if cursor.key[0] is None:  # on an item without a due time: only those on one side of its id are left
        return [_range(*undated, cursor.key[1:])] + ([] if forward else [_range(*dated, None)])
    return [_range(*dated, cursor.key)] + ([_range(*undated, None)] if forward else [])


def _range(stmt: Any, key: tuple[Any, ...], ascending: bool, after: tuple[Any, ...] | None) -> Any:
    """`stmt` ordered by `key`, from the key `after` on (exclusive) when given."""
    if after is not None:
        here = tuple_(*key)
        stmt = stmt.where(here > after if ascending else here < after)
    return stmt.order_by(*(k if ascending else k.desc() for k in key))


def _read(parts: list[Any], *, session: Session, offset: int = 0, limit: int | None = None) -> list[tuple[Any, ...]]:
    """Rows of `parts` read one after another, as if they were one statement with OFFSET and LIMIT."""
    rows: list[tuple[Any, ...]] = []
    for part in parts:
        want = None if limit is None else limit - len(rows)
        if want == 0:
            break
        got = [tuple(r) for r in session.exec(part.offset(offset).limit(want))]
        if offset and not got:  # this part ends before the offset: skip its rows in the next
            offset -= int(session.exec(select(func.count()).select_from(part.subquery())).one())
        else:
            offset = 0
        rows += got
    return rows


def _keys(sort: str, extra: tuple[Any, ...] = ()) -> Any:
    return select(*_sort_key(sort)[0], *extra).select_from(QueueItem)


def queue_page(
    filters: QueueFilters,
    *,
    session: Session,
    sort: str = "priority",
    cursor: Cursor | None = None,
    offset: int = 0,
    page_size: int = 25,
    now: datetime | None = None,
    warn_before: timedelta = timedelta(minutes=30),
) -> QueueSlice:
    """The page of items matching `filters` beside `cursor` (or `offset` rows in), in `sort` order.

    Keyset paging: the page is read from the cursor's place in an index, so a page in the middle
    of 100k open items costs what the first page does (OFFSET would walk every row before it).
    The ids and sort keys are chosen on the queue table alone, then the rows loaded by primary
    key; the count is its own query, which stops at COUNT_LIMIT.
    """
    conditions = _conditions(filters, now or utcnow(), warn_before)
    if filters.tag:
        rows, total = _tagged(filters, conditions, sort, cursor, session=session)
        rows = rows[offset : offset + page_size + 1]
    else:
        matching = _joined(select(col(QueueItem.id)), filters).where(*conditions).limit(COUNT_LIMIT + 1)
        total = int(session.exec(select(func.count()).select_from(matching.subquery())).one())
        parts = _seek(_joined(_keys(sort), filters).where(*conditions), sort, cursor)
        rows = _read(parts, session=session, offset=offset, limit=page_size + 1)
    backwards = cursor is not None and not cursor.after
    if cursor is not None and (not rows or (backwards and len(rows) <= page_size)):
        # Paged back to the start, or past the end (items came or went meanwhile): the first page, full.
        return queue_page(filters, session=session, sort=sort, page_size=page_size, now=now, warn_before=warn_before)
    more, rows = len(rows) > page_size, rows[:page_size]
    if backwards:
        rows.reverse()
    at_start = cursor is None and offset == 0
    return QueueSlice(
        items=_load([r[-1] for r in rows], session=session),
        total=min(total, COUNT_LIMIT),
        total_is_exact=total <= COUNT_LIMIT,
        previous=Cursor(rows[0], after=False) if rows and not at_start else None,
        next=Cursor(rows[-1]) if rows and (more or backwards) else None,
    )


def newest_item_id(*, session: Session) -> int:
    """The highest queue item id (0 for an empty queue): where "new since you looked" starts.

    Ids, not creation times: items are only created by routing, one pass at a time
    (`take_routing_turn`), so ids grow in commit order, while `created_at` is the pass's start and
    an item committed just after a look could carry a time before it."""
    return int(session.exec(select(func.max(col(QueueItem.id)))).one() or 0)


def count_newer(
    filters: QueueFilters,
    *,
    session: Session,
    after_id: int,
    now: datetime | None = None,
    warn_before: timedelta = timedelta(minutes=30),
) -> int:
    """How many items matching `filters` have an id above `after_id` (at most COUNT_LIMIT)."""
    conditions = [*_conditions(filters, now or utcnow(), warn_before), col(QueueItem.id) > after_id]
    matching = _joined(select(col(QueueItem.id), col(QueueItem.tags)), filters).where(*conditions)
    if filters.tag:  # tags are a JSON list: filtered here, as in _tagged
        return min(COUNT_LIMIT, sum(1 for _, tags in session.exec(matching) if filters.tag in (tags or [])))
    limited = matching.limit(COUNT_LIMIT)
    return int(session.exec(select(func.count()).select_from(limited.subquery())).one())


def _tagged(
    filters: QueueFilters, conditions: list[ColumnElement[bool]], sort: str, cursor: Cursor | None, *, session: Session
) -> tuple[list[tuple[Any, ...]], int]:
    """Sort keys of the tagged items from the cursor on, and how many are tagged in all.

    JSON list containment differs between SQLite and PostgreSQL; tags are few, so the (key, tags)
    pairs are filtered here instead of loading whole rows.
    """
    tags = (col(QueueItem.tags),)
    matching = _joined(_keys(sort, tags), filters).where(*conditions)
    rows = _read(_seek(matching, sort, cursor), session=session)
    tagged = [tuple(keys) for *keys, found in rows if filters.tag in (found or [])]
    if cursor is None:  # read from the start: these are all the tagged items, no second pass to count them
        return tagged, len(tagged)
    return tagged, sum(1 for *_, found in session.exec(matching) if filters.tag in (found or []))


def _load(ids: list[int], *, session: Session) -> list[QueueItem]:
    loaded = {i.id: i for i in session.exec(select(QueueItem).where(col(QueueItem.id).in_(ids or [-1])))}
    return [loaded[i] for i in ids if i in loaded]


def copy_labels(item: QueueItem, post: Post, analysis: Analysis) -> None:
    """Give the item its post's platform and the analysis's labels: the columns the queue filters read."""
    item.platform = post.platform
    item.topic = analysis.primary_topic
    item.sentiment = analysis.sentiment
    item.language = analysis.language


def open_loads(statuses: Sequence[str], *, session: Session) -> dict[int, int]:
    """Staff id → number of items assigned to them in `statuses`."""
    stmt = (
        select(QueueItem.assignee_id, func.count())
        .where(col(QueueItem.assignee_id).is_not(None), col(QueueItem.status).in_(list(statuses)))
        .group_by(col(QueueItem.assignee_id))
    )
    return {int(staff_id): int(n) for staff_id, n in session.exec(stmt)}  # type: ignore[arg-type]


def claim_if_free(
    item_id: int,
    *,
    staff_id: int,
    version: int,
    from_statuses: Sequence[str],
    status: str,
    now: datetime,
    session: Session,
) -> bool:
    """Assign the item only if nobody holds it and nobody changed it since `version`; True if this call won.

    One conditional UPDATE: under concurrency the database lets exactly one such statement match.
    """
    stmt = (
        update(QueueItem)
        .where(
            col(QueueItem.id) == item_id,
            col(QueueItem.assignee_id).is_(None),
            col(QueueItem.version) == version,
            col(QueueItem.status).in_(list(from_statuses)),
        )
        .values(assignee_id=staff_id, status=status, updated_at=now, version=QueueItem.version + 1)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]


# The PostgreSQL advisory lock one routing pass holds (its transaction's length), cluster-wide.
ROUTING_LOCK = 0x44414E47  # "DANG"


def take_routing_turn(*, session: Session) -> bool:
    """True when this transaction may route: on PostgreSQL it holds the routing lock until it
    ends, and False means another worker is routing now (its pass routes what is waiting). One
    pass at a time: two passes grouping posts into one cluster's item, or the same customer's
    replies into one thread's item, would each make an item or overwrite the other's update.
    Routing is light next to analysis, which stays parallel. SQLite: a single worker; always True."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.execute(select(func.pg_try_advisory_xact_lock(ROUTING_LOCK))).scalar_one())


def items_by_cluster(keys: Sequence[str], *, session: Session) -> dict[str, QueueItem]:
    """Cluster key → its queue item, for the keys that have one, read locked and fresh: routing
    updates them, and staff may be changing one at this moment (their change waits, or wins first)."""
    if not keys:
        return {}
    stmt = (
        select(QueueItem)
        .where(col(QueueItem.cluster_key).in_(list(keys)))
        .order_by(col(QueueItem.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {i.cluster_key: i for i in session.exec(stmt)}


def item_in_thread(post: Post, *, session: Session) -> QueueItem | None:
    """The queue item whose post this one answers or shares a thread with, written by the same author."""
    refs = {r for r in (post.reply_to_id, post.thread_id) if r}
    if not refs:
        return None
    stmt = (
        select(QueueItem)
        .join(Post, col(Post.id) == QueueItem.post_id)
        .where(
            Post.platform == post.platform,
            Post.author_id == post.author_id,
            col(Post.id) != post.id,
            (col(Post.external_id).in_(refs)) | (col(Post.thread_id).in_(refs)),
        )
        .order_by(col(QueueItem.id).desc())
    )
    # Read locked and fresh: the caller updates it, and another worker may be routing the same
    # customer's next reply at this moment.
    locked = stmt.limit(1).with_for_update(of=QueueItem).execution_options(populate_existing=True)  # type: ignore[arg-type]
    return session.exec(locked).first()


def answered_by_brand(post: Post, *, session: Session) -> bool:
    """True when one of the brand's own accounts (`Author.is_brand`, kept in step with
    brand.own_handles by `storage.authors.mark_brand_accounts`) has answered this post: a live post
    of the same platform replying to it (e.g. the developer's answer to a Google Play review), or a
    reply Dangol sent to it on the platform (not a dry run), which is the brand's answer as well
    before the collector reads it back."""
    sent = (
        select(col(Reply.id))
        .where(col(Reply.post_id) == post.id, col(Reply.status) == "sent", col(Reply.dry_run).is_(False))
        .limit(1)
    )
    if session.exec(sent).first() is not None:
        return True
    stmt = (
        select(col(Post.id))
        .join(Author, col(Author.id) == col(Post.author_id))
        .where(
            col(Post.platform) == post.platform,
            col(Post.reply_to_id) == post.external_id,
            col(Post.deleted_at).is_(None),
            col(Author.is_brand).is_(True),
        )
        .limit(1)
    )
    return session.exec(stmt).first() is not None


def hold_due_snoozed(*, session: Session, now: datetime) -> list[QueueItem]:
    """Snoozed items whose time has come, locked for this transaction and read afresh.

    Rows another worker's pass is waking are skipped (SKIP LOCKED: it wakes them), never updated twice."""
    stmt = (
        select(QueueItem)
        .where(QueueItem.status == "snoozed", col(QueueItem.snoozed_until) <= now)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return list(session.exec(stmt))


def _sla_due_by(horizon: datetime, statuses: Sequence[str]) -> Any:
    """Open (`statuses`), unbreached, running items whose current SLA target is at or before `horizon`."""
    return select(QueueItem).where(
        col(QueueItem.status).in_(list(statuses)),
        QueueItem.sla_breached == False,  # noqa: E712
        col(QueueItem.sla_paused_at).is_(None),
        or_(
            (col(QueueItem.first_responded_at).is_(None)) & (col(QueueItem.first_response_due_at) <= horizon),
            col(QueueItem.resolution_due_at) <= horizon,
        ),
    )


def hold_breached(*, session: Session, now: datetime, statuses: Sequence[str]) -> list[QueueItem]:
    """Items in `statuses` past their due time and not yet marked, locked for this transaction and
    read afresh.

    Rows another worker's pass is marking are skipped (SKIP LOCKED: it marks them), never updated twice."""
    stmt = _sla_due_by(now, statuses).with_for_update(skip_locked=True).execution_options(populate_existing=True)
    return list(session.exec(stmt))


def due_by(*, session: Session, horizon: datetime, statuses: Sequence[str]) -> list[QueueItem]:
    """Items in `statuses`, not yet breached nor paused, whose clock runs out by `horizon` (no lock)."""
    return list(session.exec(_sla_due_by(horizon, statuses)))


def unassigned_backlog(*, session: Session, limit: int) -> list[QueueItem]:
    """New items nobody holds, most urgent and then oldest first."""
    stmt = (
        select(QueueItem)
        .where(col(QueueItem.assignee_id).is_(None), QueueItem.status == "new")
        .order_by(col(QueueItem.priority), col(QueueItem.created_at), col(QueueItem.id))
        .limit(limit)
    )
    return list(session.exec(stmt))


def items_on_posts(post_ids: Sequence[int], *, session: Session) -> list[QueueItem]:
    """Every queue item on these posts, newest first."""
    stmt = (
        select(QueueItem)
        .where(col(QueueItem.post_id).in_(list(post_ids)))
        .order_by(col(QueueItem.created_at).desc(), col(QueueItem.id).desc())
    )
    return list(session.exec(stmt))


def item_ids_for_posts(post_ids: Sequence[int], *, session: Session) -> dict[int, int]:
    """Post id → the queue item that covers it (the item on the post itself, else the item of its
    near-duplicate cluster), for the posts that have one: what a link to "this post in Dangol" opens."""
    ids = list(set(post_ids))
    if not ids:
        return {}
    found: dict[int, int] = {}
    by_cluster = select(Analysis.post_id, QueueItem.id).join(
        QueueItem, col(QueueItem.cluster_key) == col(Analysis.cluster_key)
    )
    on_post = select(QueueItem.post_id, QueueItem.id).where(col(QueueItem.post_id).in_(ids))
    # The post's own item is read last, so it wins over its cluster's.
    for stmt in (by_cluster.where(col(Analysis.post_id).in_(ids)), on_post):
        for post_id, item_id in session.exec(stmt):
            if item_id is not None:
                found[post_id] = item_id
    return found


def notes_on_item(item_id: int | None, *, session: Session) -> list[Note]:
    """The item's internal notes, oldest first."""
    return list(session.exec(select(Note).where(Note.queue_item_id == item_id).order_by(col(Note.created_at))))


def all_items(*, session: Session) -> list[QueueItem]:
    """Every queue item."""
    return list(session.exec(select(QueueItem)))


def last_item_id_up_to(*, session: Session, highest: int) -> int | None:
    """The largest queue item id not above `highest`, if any."""
    chosen = session.exec(select(QueueItem.id).where(col(QueueItem.id) <= highest).order_by(col(QueueItem.id).desc()))
    return chosen.first()


SNIPPET = 280


@dataclass(slots=True)
class QueueRow:
    """One queue line: enough to triage without opening the item."""

    item_id: int
    status: str
    priority: int
    team: str
    assignee: str | None
    assignee_id: int | None
    due_at: datetime | None
    sla_breached: bool
    platform: str
    handle: str
    snippet: str
    sentiment: str | None
    topic: str | None
    language: str | None
    risk: float | None
    tags: list[str]
    created_at: datetime
    # The sentiment of the newest post its author wrote after this one ("unknown" until analyzed),
    # None when they wrote none: a "sorted, thanks" under a complaint is seen before it is answered.
    posted_since: str | None = None


def queue_rows(*, session: Session, items: list[QueueItem]) -> list[QueueRow]:
    """Queue lines for a page of items (from `responder.queue.list_queue`), in the items' order.

    One query by primary key brings each item's post text, author handle, risk and assignee name:
    only those columns, not the whole rows, whose raw payloads and embeddings are kilobytes each.
    """
    details = select_columns(
        col(QueueItem.id), col(Post.platform), col(Post.text), col(Author.handle), col(Analysis.risk),
        col(Staff.username), _posted_since(),
    )  # fmt: skip
    rows = session.execute(
        details.join(Post, col(Post.id) == col(QueueItem.post_id))
        .join(Author, col(Author.id) == col(Post.author_id))
        .outerjoin(Analysis, col(Analysis.post_id) == col(Post.id))
        .outerjoin(Staff, col(Staff.id) == col(QueueItem.assignee_id))
        .where(col(QueueItem.id).in_([i.id for i in items] or [-1]))
    ).all()
    by_item = {
        item_id: LineDetails(platform, text[:SNIPPET], handle, risk, assignee, since)
        for item_id, platform, text, handle, risk, assignee, since in rows
    }
    return [_queue_row(i, by_item[i.id]) for i in items if i.id in by_item]


@cache
def _posted_since() -> Any:
    """The sentiment of the newest live post by the same author after the item's post ("unknown"
    when not analyzed yet; NULL when there is none): one range of ix_post_author_created per line.
    Built once: building the aliased subquery took ~5 ms, more than the 25 lines' query."""
    later, later_analysis = aliased(Post), aliased(Analysis)
    return (
        select_columns(func.coalesce(col(later_analysis.sentiment), "unknown"))
        .select_from(later)
        .outerjoin(later_analysis, col(later_analysis.post_id) == col(later.id))
        .where(
            col(later.author_id) == col(Post.author_id),
            col(later.created_at) > col(Post.created_at),
            col(later.deleted_at).is_(None),
        )
        .order_by(col(later.created_at).desc())
        .limit(1)
        .scalar_subquery()
    )


@dataclass(slots=True)
class LineDetails:
    """What a queue line shows beside the item's own columns: from its post, author, analysis and assignee."""

    platform: str
    snippet: str
    handle: str
    risk: float | None
    assignee: str | None
    posted_since: str | None


def _queue_row(item: QueueItem, line: LineDetails) -> QueueRow:
    return QueueRow(
        item_id=item.id,  # type: ignore[arg-type]
        status=item.status,
        priority=item.priority,
        team=item.team,
        assignee=line.assignee,
        assignee_id=item.assignee_id,
        due_at=item.due_at,
        sla_breached=item.sla_breached,
        platform=line.platform,
        handle=line.handle,
        snippet=line.snippet,
        sentiment=item.sentiment,  # the item's labels carry staff corrections
        topic=item.topic,
        language=item.language,
        risk=line.risk,
        tags=list(item.tags),
        created_at=item.created_at,  # type: ignore[arg-type]
        posted_since=line.posted_since,
    )


def queue_facets(*, session: Session, topics: list[str]) -> dict[str, list[str]]:
    """Values offered in the queue filters, read from indexes and small tables only: teams in the
    queue (ix_queue_team_status_priority), the configured topics plus "other", and the languages staff
    handle (a DISTINCT over every analysis would read the whole table)."""
    teams = session.execute(select(col(QueueItem.team)).distinct().order_by(col(QueueItem.team)).limit(200)).scalars()
    languages: set[str] = set()
    for codes in session.execute(select(col(Staff.languages)).where(col(Staff.active).is_(True))).scalars():
        languages.update(codes or [])
    return {"team": list(teams), "topic": [*topics, "other"], "language": sorted(languages)}
