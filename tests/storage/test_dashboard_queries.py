"""The dashboard's queries: queue pages and filters, customer search, erase/export, daily counts."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from dangol.core.types import AuthorIn, Page, PostIn
from responder.queue import QueueFilters, list_queue
from responder.statuses import OPEN_STATUSES
from storage.customers import search_customers
from storage.ingest import get_or_create_source, store_page
from storage.models import Analysis, Author, Customer, CustomerHandle, IdentityLink, Post, QueueItem
from storage.privacy import erase_customer, export_customer
from storage.queue import copy_labels, queue_rows
from storage.read_models import sentiment_daily_counts, topic_customers, topic_daily_counts

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)


def seed(session: Session, make_post: Callable[..., PostIn], specs: list[dict]) -> list[int]:
    """Posts with analyses and queue items; each spec sets sentiment, topic, priority, due offset."""
    source = get_or_create_source(session, name="t", use="replay")
    posts = [make_post(created_at=NOW - timedelta(days=s.get("days_ago", 0))) for s in specs]
    store_page(session, source=source, page=Page(posts=posts, cursor={}))
    ids = []
    for post_in, spec in zip(posts, specs, strict=True):
        post = session.exec(select(Post).where(Post.external_id == post_in.external_id)).one()
        analysis = Analysis(
            post_id=post.id,
            language=spec.get("lang", "en"),
            sentiment=spec["sentiment"],
            primary_topic=spec["topic"],
            is_complaint=True,
            analyzed_at=NOW,
        )
        session.add(analysis)
        item = QueueItem(
            post_id=post.id,
            cluster_key=f"k{post.id}",
            priority=spec["priority"],
            created_at=NOW,
            first_response_due_at=NOW + timedelta(minutes=spec["due_in"]),
            team=spec.get("team", "support"),
        )
        copy_labels(item, post, analysis)
        session.add(item)
        session.flush()
        ids.append(item.id)
    session.commit()
    return ids


SPECS = [
    {"sentiment": "negative", "topic": "billing", "priority": 2, "due_in": 10},
    {"sentiment": "neutral", "topic": "app", "priority": 1, "due_in": 300},
    {"sentiment": "negative", "topic": "app", "priority": 1, "due_in": -5, "lang": "ko", "team": "korea"},
]


def open_items(**only: object) -> QueueFilters:
    """The dashboard's default: open items, narrowed by `only`."""
    return QueueFilters(status=OPEN_STATUSES, **only)  # type: ignore[arg-type]


def test_queue_page_puts_the_most_urgent_first_and_counts_all(session: Session, make_post) -> None:
    a, b, c = seed(session, make_post, SPECS)
    page = list_queue(open_items(), session=session, page=1, page_size=2, now=NOW)
    rows = queue_rows(session=session, items=page.items)
    assert [r.item_id for r in rows] == [b, c]  # priority 1 first, then oldest (here: lowest id)
    assert (page.total, page.pages) == (3, 2)
    second = list_queue(open_items(), session=session, page=2, page_size=2, now=NOW)
    assert [r.item_id for r in queue_rows(session=session, items=second.items)] == [a]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (open_items(sentiment="negative"), [2, 0]),
        (open_items(topic="app"), [1, 2]),
        (open_items(language="ko"), [2]),
        (open_items(team="korea"), [2]),
        (open_items(sla="breached"), [2]),
        (open_items(sla="warning"), [0]),
        (open_items(sla="ok"), [1]),
        (QueueFilters(status=["closed"]), []),
    ],
)
def test_queue_filters_select_the_right_items(session: Session, make_post, filters, expected) -> None:
    ids = seed(session, make_post, SPECS)
    page = list_queue(filters, session=session, now=NOW)
    assert [r.item_id for r in queue_rows(session=session, items=page.items)] == [ids[i] for i in expected]
    assert page.total == len(expected)


def test_queue_rows_carry_what_a_queue_line_shows(session: Session, make_post) -> None:
    ids = seed(session, make_post, SPECS)
    page = list_queue(open_items(team="korea"), session=session, now=NOW)
    (row,) = queue_rows(session=session, items=page.items)
    assert (row.item_id, row.sentiment, row.topic, row.language) == (ids[2], "negative", "app", "ko")
    assert row.due_at is not None and row.due_at < NOW and row.assignee is None


def test_a_queue_line_says_when_its_author_posted_again_since(session: Session, make_post) -> None:
    ids = seed(session, make_post, SPECS)
    page = list_queue(open_items(), session=session, now=NOW)
    assert all(r.posted_since is None for r in queue_rows(session=session, items=page.items))
    first = session.exec(select(Post).join(QueueItem, QueueItem.post_id == Post.id).where(QueueItem.id == ids[0])).one()
    same = session.get(Author, first.author_id)
    again = AuthorIn(platform="x", platform_id=same.platform_id, handle=same.handle)
    source = get_or_create_source(session, name="t", use="replay")
    earlier, later, newest = (
        make_post(author=again, created_at=first.created_at + timedelta(hours=h), text=t)
        for h, t in ((-5, "before it"), (2, "sorted, thanks"), (3, "and a second word"))
    )
    store_page(session, source=source, page=Page(posts=[earlier, later, newest], cursor={}))
    newest_id = session.exec(select(Post.id).where(Post.external_id == newest.external_id)).one()
    session.add(Analysis(post_id=newest_id, language="en", sentiment="positive", analyzed_at=NOW))
    session.commit()
    since = {r.item_id: r.posted_since for r in queue_rows(session=session, items=page.items)}
    assert since == {ids[0]: "positive", ids[1]: None, ids[2]: None}  # the newest one's, analyzed
    session.delete(session.exec(select(Analysis).where(Analysis.post_id == newest_id)).one())
    session.commit()
    since = {r.item_id: r.posted_since for r in queue_rows(session=session, items=page.items)}
    assert since[ids[0]] == "unknown"  # the newest is not analyzed yet


def make_customer(session: Session, name: str, handle: str | None = None) -> Customer:
    customer = Customer(name=name, email=f"{name.lower()}@example.com", created_at=NOW)
    session.add(customer)
    session.flush()
    if handle:
        session.add(CustomerHandle(customer_id=customer.id, platform="x", handle=handle))
    return customer


def test_customer_search_finds_by_name_email_and_handle(session: Session) -> None:
    hana = make_customer(session, "Hana", "hana_k")
    make_customer(session, "Jun")
    session.commit()
    for text in ("han", "hana@example.com", "@HANA_K"):
        assert [c.id for c in search_customers(session=session, text=text)] == [hana.id]


def test_customer_search_takes_percent_and_underscore_literally(session: Session) -> None:
    make_customer(session, "Hana")
    percent = make_customer(session, "100% Kim")
    session.commit()
    assert [c.id for c in search_customers(session=session, text="%")] == []
    assert [c.id for c in search_customers(session=session, text="_ana")] == []
    assert [c.id for c in search_customers(session=session, text="100%")] == [percent.id]


def test_without_search_text_the_customers_heard_from_most_recently_come_first(
    session: Session, make_post, monkeypatch
) -> None:
    days_ago = {"quiet": None, "lately": 1, "earlier": 5, "proposed only": 0, "deleted post only": 0}
    customers = {name: make_customer(session, name.title()) for name in days_ago}
    source = get_or_create_source(session, name="t", use="replay")
    for name, days in days_ago.items():
        if days is None:
            continue
        post = make_post(created_at=NOW - timedelta(days=days))
        store_page(session, source=source, page=Page(posts=[post], cursor={}))
        stored = session.exec(select(Post).where(Post.external_id == post.external_id)).one()
        status = "proposed" if name == "proposed only" else "applied"
        session.add(IdentityLink(author_id=stored.author_id, customer_id=customers[name].id, method="handle",
                                 confidence=1.0, status=status))  # fmt: skip
        if name == "deleted post only":
            stored.deleted_at = NOW
    session.commit()
    # Heard from through an applied link, newest post first; then the rest, newest record first.
    expected = ["lately", "earlier", "deleted post only", "proposed only", "quiet"]
    assert [c.id for c in search_customers(session=session, text="")] == [customers[n].id for n in expected]
    assert [c.id for c in search_customers(session=session, text="", limit=1)] == [customers["lately"].id]
    # Only the newest posts are read (one index range at any size): a customer heard from before
    # them is listed with the rest, by record.
    monkeypatch.setattr("storage.customers.RECENT_POSTS_SCANNED", 2)  # "proposed only"'s and "lately"'s
    expected = ["lately", "deleted post only", "proposed only", "earlier", "quiet"]
    assert [c.id for c in search_customers(session=session, text="")] == [customers[n].id for n in expected]


def test_erase_removes_personal_data_and_post_text(session: Session, make_post) -> None:
    seed(session, make_post, SPECS[:1])
    customer = make_customer(session, "Hana", "hana_k")
    author = session.exec(select(Author)).one()
    session.add(IdentityLink(author_id=author.id, customer_id=customer.id, method="handle", confidence=1.0))
    session.commit()
    exported = export_customer(customer.id, session=session)
    assert exported["customer"]["email"] == "hana@example.com" and len(exported["posts"]) == 1
    erase_customer(customer.id, session=session, actor="admin")
    session.commit()
    session.expire_all()
    erased = session.get(Customer, customer.id)
    assert (erased.name, erased.email, erased.erased_at is not None) == ("[erased]", None, True)
    assert session.exec(select(Post.text)).one() == ""  # the privacy module clears erased posts' text
    assert session.exec(select(CustomerHandle)).first() is None


def test_daily_counts_group_by_utc_day_on_every_database(session: Session, make_post) -> None:
    seed(session, make_post, [{**SPECS[0], "days_ago": 1}, {**SPECS[1], "days_ago": 1}, SPECS[2]])
    topics = topic_daily_counts(session=session, since=NOW - timedelta(days=7), until=NOW + timedelta(hours=1))
    assert topics == [("2026-11-17", "app", 1), ("2026-11-17", "billing", 1), ("2026-11-18", "app", 1)]
    sentiment = sentiment_daily_counts(session=session, since=NOW - timedelta(days=7), until=NOW + timedelta(hours=1))
    assert sorted(sentiment) == [
        ("2026-11-17", "negative", 1),
        ("2026-11-17", "neutral", 1),
        ("2026-11-18", "negative", 1),
    ]


def test_affected_customers_count_only_their_live_complaints_about_the_topic(session: Session, make_post) -> None:
    # What the Topics page lists beside the topic's complaints: a customer's praise of the same
    # topic and a complaint deleted on its platform are not complaints to count.
    seed(session, make_post, [{**SPECS[0], "topic": "delivery"}] * 3)
    author = session.exec(select(Author)).first()
    for post in session.exec(select(Post)):
        post.author_id = author.id
    complaint, praise, deleted = session.exec(select(Post).order_by(Post.id)).all()
    session.exec(select(Analysis).where(Analysis.post_id == praise.id)).one().is_complaint = False
    deleted.deleted_at = NOW
    hana = make_customer(session, "Hana")
    session.add(IdentityLink(author_id=author.id, customer_id=hana.id, method="handle", confidence=1.0))
    session.commit()
    found = topic_customers(
        session=session, topic="delivery", since=NOW - timedelta(days=1), until=NOW + timedelta(hours=1)
    )
    assert [(c.name, n) for c, n in found] == [("Hana", 1)]


def test_queue_segment_filter_keeps_the_items_of_customers_in_the_segment(session: Session, make_post) -> None:
    from storage.models import CustomerSegment

    ids = seed(session, make_post, SPECS)
    kim, lee = Customer(name="Kim"), Customer(name="Lee")
    session.add_all([kim, lee])
    session.flush()
    items = [session.get(QueueItem, i) for i in ids]
    items[0].customer_id, items[1].customer_id = kim.id, lee.id  # type: ignore[union-attr]
    session.add(CustomerSegment(customer_id=kim.id, segment="at_risk", since=NOW))
    session.add(CustomerSegment(customer_id=lee.id, segment="advocates", since=NOW))
    session.commit()
    at_risk = list_queue(open_items(segment="at_risk"), session=session, now=NOW)
    assert [i.id for i in at_risk.items] == [ids[0]] and at_risk.total == 1
    assert [i.id for i in list_queue(open_items(segment="advocates"), session=session, now=NOW).items] == [ids[1]]
    assert list_queue(open_items(segment="vip"), session=session, now=NOW).items == []
