"""Privacy requests: export everything stored about a customer, or erase it.

A customer's data is the customer row, their handles and orders, their identity links, the posts
of the authors linked to them (status "applied": confirmed to be them), the queue items of those
posts and the replies staff wrote to them. Exports mask other people's e-mail addresses, phone
numbers and resident registration numbers; the customer's own stay readable, it is their data.
Erasure keeps the rows that other records point at (posts, queue items, the customer row) but
clears every personal field, and leaves one audit event that says who erased when, with counts
only. The platform's ids of the erased posts and authors (a Naver id is the blog's address, so the
person's handle) are kept only as one-way digests (`erased_key`): the row still stands for the
post, so collecting it again stores nothing (`skip_erased`), and nothing readable is left.
The files Dangol wrote are brought in line by `reports.erasure`, which calls `erase_customer`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, tuple_, update
from sqlmodel import Session, col

from dangol.core.errors import NotFound
from dangol.core.redact import redact_pii
from dangol.core.types import PostIn, utcnow
from storage import audit
from storage.customer_scores import erase_scores
from storage.customers import links_with_authors
from storage.deletions import clear_deleted, clear_posts
from storage.engine import driver_cursor, fetch_planned_each_time
from storage.models import (
    Alert,
    AuditEvent,
    Author,
    Customer,
    CustomerHandle,
    CustomerOrder,
    DeadLetter,
    IdentityLink,
    Note,
    Post,
    QueueItem,
    Reply,
)

ERASED = "[erased]"
ERASED_KEY_PREFIX = "erased:"


def export_customer(customer_id: int, *, session: Session) -> dict[str, Any]:
    """Everything stored about a customer as JSON-ready data (a privacy access request)."""
    customer = _customer(session, customer_id)
    own = [value for value in (customer.email, customer.phone) if value]
    links = links_with_authors(customer_id, session=session)
    posts = _posts(session, _applied_author_ids(session, customer_id))
    post_ids = [p.id for p in posts]
    replies = list(
        session.execute(select(Reply).where(col(Reply.post_id).in_(post_ids or [-1])).order_by(col(Reply.id))).scalars()
    )
    return {
        "customer": {
            "id": customer.id,
            "external_ref": customer.external_ref,
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "tier": customer.tier,
            "created_at": _iso(customer.created_at),
            "erased_at": _iso(customer.erased_at),
        },
        "handles": [{"platform": h.platform, "handle": h.handle} for h in _handles(session, customer_id)],
        "orders": [o.order_number for o in _orders(session, customer_id)],
        "identities": [
            {
                "platform": author.platform,
                "handle": author.handle,
                "display_name": author.display_name,
                "url": author.url,
                "link_method": link.method,
                "link_status": link.status,
                "confidence": link.confidence,
                "linked_at": _iso(link.created_at),
            }
            for link, author in links
        ],
        "posts": [
            {
                "platform": p.platform,
                "external_id": p.external_id,
                "url": p.url,
                "created_at": _iso(p.created_at),
                "title": _redact_others(p.title, own) if p.title else None,
                "text": _redact_others(p.text, own),
                "deleted_at": _iso(p.deleted_at),
            }
            for p in posts
        ],
        "replies": [
            {
                "post_external_id": next(p.external_id for p in posts if p.id == r.post_id),
                "text": _redact_others(r.text, own),
                "status": r.status,
                "sent_at": _iso(r.sent_at),
            }
            for r in replies
        ],
    }


def erase_customer(customer_id: int, *, session: Session, actor: str) -> dict[str, int]:
    """Erase a customer's personal data (a privacy erasure request); returns what was cleared.

    Handles, orders, identity links, scores, segment membership and segment history are deleted; the
    linked authors' posts lose text, title and raw payload (and leave analysis and reports via
    `deleted_at`); the authors lose handle, name, bio and url; replies and notes on those posts lose
    their text; audit events about the customer, the posts' queue items and the replies lose their
    before/after values. Other people's reposts of those posts are cleared too, and their posts that
    @-mention the person keep their words but not the handle. The customer row stays, anonymised, with
    `erased_at`, so that queue history still adds up.
    """
    customer = _customer(session, customer_id)
    now = utcnow()
    author_ids = _applied_author_ids(session, customer_id)
    post_ids = list(session.execute(select(col(Post.id)).where(col(Post.author_id).in_(author_ids or [-1]))).scalars())
    item_ids = list(
        session.execute(
            select(col(QueueItem.id)).where(
                or_(col(QueueItem.post_id).in_(post_ids or [-1]), col(QueueItem.customer_id) == customer_id)
            )
        ).scalars()
    )
    reply_ids = list(session.execute(select(col(Reply.id)).where(col(Reply.post_id).in_(post_ids or [-1]))).scalars())
    _scrub_alerts_and_dead_letters(session, customer, author_ids)  # before the handles are cleared
    _unmention(session, _handles_of(session, customer_id, author_ids), author_ids)
    reposts = _clear_reposts(session, post_ids, now)  # before the posts' ids become digests
    _clear_content(session, author_ids, post_ids, item_ids, reply_ids, now)
    _digest_platform_ids(session, author_ids, post_ids)
    _scrub_audit(session, customer_id, item_ids, reply_ids)
    removed = session.execute(delete(IdentityLink).where(col(IdentityLink.customer_id) == customer_id))
    links = removed.rowcount  # type: ignore[attr-defined]
    session.execute(delete(CustomerHandle).where(col(CustomerHandle.customer_id) == customer_id))
    session.execute(delete(CustomerOrder).where(col(CustomerOrder.customer_id) == customer_id))
    erase_scores(customer_id, session=session)  # numbers only, but about the person: they go too
    customer.name, customer.email, customer.phone, customer.external_ref = ERASED, None, None, None
    customer.erased_at = now
    session.add(customer)
    counts = {
        "authors": len(author_ids),
        "posts": len(post_ids),
        "reposts": reposts,
        "replies": len(reply_ids),
        "links": int(links or 0),
    }
    # The erasure's own trail: who and when, counts only, nothing that identifies the person.
    audit.record(session, actor=actor, action="customer.erase", entity_type="customer", entity_id=customer_id,
                 after=dict(counts), at=now)  # fmt: skip
    session.flush()
    return counts


def erased_key(platform: str, platform_id: str) -> str:
    """What stands for a post's or an author's id on its platform once its owner is erased.

    An unpaired surrogate is encoded as "?", as `storage.ingest.storable` stores it: the key of an
    id as a platform sent it is the key of the id as it was stored (and a hostile id is no crash)."""
    digest = hashlib.sha256(f"{platform}:{platform_id}".encode("utf-8", errors="replace")).hexdigest()
    return f"{ERASED_KEY_PREFIX}{digest[:40]}"


def _digest_platform_ids(session: Session, author_ids: list[int], post_ids: list[int]) -> None:
    """Replace the platform's ids of the erased posts and authors by their digests."""
    for table, ids, column in ((Post, post_ids, "external_id"), (Author, author_ids, "platform_id")):
        key = getattr(table, column)
        rows = session.execute(
            select(col(table.id), col(table.platform), col(key)).where(
                col(table.id).in_(ids or [-1]), col(key).not_like(f"{ERASED_KEY_PREFIX}%")
            )
        ).all()
        if rows:
            changes = [{"id": i, column: erased_key(platform, value)} for i, platform, value in rows]
            session.execute(update(table), changes, execution_options={"synchronize_session": False})


# The stored posts of one platform among given digests, run on the driver's cursor once a page
# (SQLAlchemy's execution around it cost more than the query). SQLite: the list as one JSON array
# read by json_each, so the text never changes; its planner looks each value up in the unique index
# (`EXPLAIN QUERY PLAN`: SEARCH post USING COVERING INDEX sqlite_autoindex_post_1). PostgreSQL: the
# list as one array, planned with its values on every page (`fetch_planned_each_time` says why).
_ERASED_AMONG_SQLITE = (
    "SELECT external_id FROM post WHERE platform = ? AND external_id IN (SELECT value FROM json_each(?))"
)
_ERASED_AMONG_POSTGRESQL = "SELECT external_id FROM post WHERE platform = %s AND external_id = ANY(%s)"


def skip_erased(posts: Sequence[PostIn], *, session: Session) -> list[PostIn]:
    """`posts` without those of erased customers, which stay erased when a platform lists them again."""
    keys = {(p.platform, erased_key(p.platform, p.external_id)): p for p in posts}
    erased: set[tuple[str, str]] = set()
    postgresql = session.get_bind().dialect.name == "postgresql"
    for platform in {platform for platform, _ in keys}:  # by platform, so the unique index answers
        digests = [key for p, key in keys if p == platform]
        rows: Sequence[Sequence[Any]]
        if postgresql:
            rows = fetch_planned_each_time(session, _ERASED_AMONG_POSTGRESQL, (platform, digests))
        else:
            with driver_cursor(session, _ERASED_AMONG_SQLITE) as cursor:
                rows = cursor.execute(_ERASED_AMONG_SQLITE, (platform, json.dumps(digests))).fetchall()
        erased.update((platform, key) for (key,) in rows)
    return [post for key, post in keys.items() if key not in erased]


def identifiers(customer_id: int, *, session: Session) -> set[str]:
    """What identifies a customer wherever it is shown: handles, names, contacts, order numbers and
    the words of their posts (read before erasing, to find the files that show them)."""
    customer = _customer(session, customer_id)
    author_ids = _applied_author_ids(session, customer_id)
    handles, texts = _identifiers(session, customer, author_ids)
    posts = _posts(session, author_ids)
    return handles | texts | {p.text for p in posts if p.text} | {p.title for p in posts if p.title}


def _clear_reposts(session: Session, post_ids: list[int], now: datetime) -> int:
    """Other people's reposts (retweets) of the erased posts carry nothing but the person's words
    and handle: they are cleared as a post deleted on its platform is (storage.deletions)."""
    originals = select(col(Post.platform), col(Post.external_id)).where(col(Post.id).in_(post_ids or [-1]))
    reposts = select(col(Post.platform), col(Post.external_id)).where(
        col(Post.is_retweet).is_(True),
        tuple_(col(Post.platform), col(Post.referenced_id)).in_(originals),
        col(Post.id).not_in(post_ids or [-1]),
    )
    keys = [(str(platform), str(external_id)) for platform, external_id in session.execute(reposts).all()]
    return len(clear_deleted(session, keys, now))


def _handles_of(session: Session, customer_id: int, author_ids: list[int]) -> set[str]:
    """The customer's handles: their authors' and those the brand's records list."""
    authors = session.execute(select(col(Author.handle)).where(col(Author.id).in_(author_ids or [-1]))).scalars()
    known = session.execute(
        select(col(CustomerHandle.handle)).where(col(CustomerHandle.customer_id) == customer_id)
    ).scalars()
    return {h for h in (*authors, *known) if len(h) >= 3 and h != ERASED}


def _mention_pattern(handles: set[str]) -> re.Pattern[str] | None:
    """@-mentions of `handles`, any case, not those of a longer handle (@kim_m, not @kim_mm)."""
    if not handles:
        return None
    names = "|".join(re.escape(h) for h in sorted(handles, key=len, reverse=True))
    return re.compile(rf"@(?:{names})(?!\w|[.@-]\w)", re.IGNORECASE)


def _unmention(session: Session, handles: set[str], author_ids: list[int]) -> None:
    """Other people's posts that mention the person keep their words, not the handle: each mention
    becomes @[erased], and the raw payload, which names the handle too, goes."""
    pattern = _mention_pattern(handles)
    if pattern is None:
        return
    lowered = [f"@{h.lower()}" for h in handles]
    mentioning = or_(
        *(func.lower(col(Post.text)).contains(m, autoescape=True) for m in lowered),
        *(func.lower(col(Post.title)).contains(m, autoescape=True) for m in lowered),
    )
    stmt = select(col(Post.id), col(Post.text), col(Post.title)).where(
        mentioning, col(Post.author_id).not_in(author_ids or [-1])
    )
    changes = []
    for post_id, text, title in session.execute(stmt).all():
        unmentioned = (pattern.sub(f"@{ERASED}", text), title and pattern.sub(f"@{ERASED}", title))
        if unmentioned != (text, title):
            changes.append({"id": post_id, "text": unmentioned[0], "title": unmentioned[1], "raw": None})
    if changes:
        session.execute(update(Post), changes, execution_options={"synchronize_session": False})


def _identifiers(session: Session, customer: Customer, author_ids: list[int]) -> tuple[set[str], set[str]]:
    """(handles of the customer's authors, other identifiers long enough to search text for:
    name, e-mail, phone, order numbers)."""
    authors = list(session.execute(select(Author).where(col(Author.id).in_(author_ids or [-1]))).scalars())
    handles = {a.handle for a in authors if a.handle} | {a.platform_id for a in authors if a.platform_id}
    orders = session.execute(
        select(col(CustomerOrder.order_number)).where(col(CustomerOrder.customer_id) == customer.id)
    ).scalars()
    texts = {customer.name, customer.email or "", customer.phone or "", *orders, *(a.display_name for a in authors)}
    return handles, {t for t in texts if t and len(t) >= 4 and t != ERASED}


def _scrub_alerts_and_dead_letters(session: Session, customer: Customer, author_ids: list[int]) -> None:
    """Alert explanations lose the customer's posts and author entries (and any other mention);
    dead letters holding the customer's handle or identifiers are deleted: the raw payload of a
    record that could not be stored is the person's data too."""
    handles, texts = _identifiers(session, customer, author_ids)
    if not handles and not texts:
        return
    mentions = _mention_pattern({h for h in handles if len(h) >= 3})
    for alert in session.execute(select(Alert)).scalars():
        scrubbed = _scrub(alert.explanation, handles, texts, mentions)
        if scrubbed != alert.explanation:
            alert.explanation = scrubbed
            session.add(alert)
    # Searched in the database: dead letters can be many, and each holds a whole raw payload.
    needles = [f'"{h}"' for h in handles] + [f">{h}<" for h in handles] + sorted(texts)
    session.execute(
        delete(DeadLetter)
        .where(or_(*(col(DeadLetter.raw).contains(n, autoescape=True) for n in needles)))
        .execution_options(synchronize_session=False)
    )


def _scrub(value: Any, handles: set[str], texts: set[str], mentions: re.Pattern[str] | None = None) -> Any:
    """`value` (JSON) without list entries that name one of `handles`, and with `texts` and
    @-`mentions` of them erased."""
    if isinstance(value, dict):
        return {k: _scrub(v, handles, texts, mentions) for k, v in value.items()}
    if isinstance(value, list):
        kept = [v for v in value if not (isinstance(v, dict) and str(v.get("handle", "")) in handles)]
        return [_scrub(v, handles, texts, mentions) for v in kept]
    if isinstance(value, str):
        for text in sorted(texts, key=len, reverse=True):
            value = value.replace(text, ERASED)
        return mentions.sub(f"@{ERASED}", value) if mentions else value
    return value


def _clear_content(
    session: Session, author_ids: list[int], post_ids: list[int], item_ids: list[int], reply_ids: list[int], now: Any
) -> None:
    if post_ids:
        clear_posts(session, post_ids, now, url=None)
    if author_ids:
        session.execute(
            update(Author)
            .where(col(Author.id).in_(author_ids))
            .values(handle=ERASED, display_name="", bio=None, url=None)
            .execution_options(synchronize_session=False)
        )
    if reply_ids:
        session.execute(
            update(Reply)
            .where(col(Reply.id).in_(reply_ids))
            .values(text=ERASED, review_comment=None)
            .execution_options(synchronize_session=False)
        )
    if item_ids:
        session.execute(
            update(Note)
            .where(col(Note.queue_item_id).in_(item_ids))
            .values(text=ERASED)
            .execution_options(synchronize_session=False)
        )


def _scrub_audit(session: Session, customer_id: int, item_ids: list[int], reply_ids: list[int]) -> None:
    """Audit events keep who did what and when, but not the personal values they recorded."""
    targets = [("customer", [customer_id]), ("queue_item", item_ids), ("reply", reply_ids)]
    for entity_type, ids in targets:
        if not ids:
            continue
        session.execute(
            update(AuditEvent)
            .where(col(AuditEvent.entity_type) == entity_type, col(AuditEvent.entity_id).in_([str(i) for i in ids]))
            .values(before={}, after={"erased": True})
            .execution_options(synchronize_session=False)
        )


def _customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}; `dangol customers` commands take the numeric id")
    return customer


def _applied_author_ids(session: Session, customer_id: int) -> list[int]:
    """Authors confirmed to be this customer (proposed links may be someone else: left alone)."""
    stmt = select(col(IdentityLink.author_id)).where(
        col(IdentityLink.customer_id) == customer_id, col(IdentityLink.status) == "applied"
    )
    return sorted(set(session.execute(stmt).scalars()))


def _posts(session: Session, author_ids: list[int]) -> list[Post]:
    stmt = select(Post).where(col(Post.author_id).in_(author_ids or [-1])).order_by(col(Post.created_at))
    return list(session.execute(stmt).scalars())


def _handles(session: Session, customer_id: int) -> list[CustomerHandle]:
    stmt = select(CustomerHandle).where(col(CustomerHandle.customer_id) == customer_id).order_by(col(CustomerHandle.id))
    return list(session.execute(stmt).scalars())


def _orders(session: Session, customer_id: int) -> list[CustomerOrder]:
    stmt = select(CustomerOrder).where(col(CustomerOrder.customer_id) == customer_id).order_by(col(CustomerOrder.id))
    return list(session.execute(stmt).scalars())


def _redact_others(text: str, own: list[str]) -> str:
    """Mask personal data in `text` except the customer's own e-mail and phone."""
    kept = {f"\x01{i}\x01": value for i, value in enumerate(own)}
    for marker, value in kept.items():
        text = text.replace(value, marker)
    text = redact_pii(text)
    for marker, value in kept.items():
        text = text.replace(marker, value)
    return text


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
