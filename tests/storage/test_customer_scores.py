"""Customer scores and segments from hand-built histories with known answers (SQLite and PostgreSQL)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dangol import pipeline
from dangol.core.settings import Settings
from storage.customer_scores import segment_history, segments_of, value_scores
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
    QueueItem,
    Reply,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class History:
    """Builds customers, their linked authors and posts with labels, in a session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.n = 0

    def customer(self, name: str, tier: str = "standard", orders: int = 0) -> Customer:
        customer = Customer(name=name, tier=tier, created_at=NOW)
        self.session.add(customer)
        self.session.flush()
        for i in range(orders):
            self.session.add(CustomerOrder(customer_id=customer.id, order_number=f"{name}-{i}"))
        return customer

    def author(self, customer: Customer | None, platform: str = "x", followers: int = 0, **kw: Any) -> Author:
        self.n += 1
        author = Author(platform=platform, platform_id=f"a{self.n}", handle=f"h{self.n}", followers=followers, **kw)
        self.session.add(author)
        self.session.flush()
        if customer is not None:
            self.session.add(
                IdentityLink(author_id=author.id, customer_id=customer.id, method="handle", confidence=1.0,
                             status=kw.get("status", "applied"))
            )  # fmt: skip
        return author

    def post(
        self, author: Author, days_ago: float, sentiment: str = "neutral", *, complaint: bool = False,
        answered_after_hours: float | None = None, deleted: bool = False, metrics: dict[str, int] | None = None,
    ) -> Post:  # fmt: skip
        self.n += 1
        at = NOW - timedelta(days=days_ago)
        post = Post(platform=author.platform, external_id=f"p{self.n}", author_id=author.id, text="t", created_at=at,
                    collected_at=at, metrics=metrics or {}, deleted_at=NOW if deleted else None)  # fmt: skip
        self.session.add(post)
        self.session.flush()
        self.session.add(
            Analysis(post_id=post.id, language="en", sentiment=sentiment, is_complaint=complaint,
                     intent="complaint" if complaint else "other")
        )  # fmt: skip
        if answered_after_hours is not None:
            item = QueueItem(post_id=post.id, cluster_key=f"c{self.n}", created_at=at)
            self.session.add(item)
            self.session.flush()
            self.session.add(
                Reply(queue_item_id=item.id, post_id=post.id, text="sorry", status="sent",
                      idempotency_key=f"r{self.n}", sent_at=at + timedelta(hours=answered_after_hours))
            )  # fmt: skip
        return post


def _scores(session: Session) -> dict[int, CustomerScore]:
    session.expire_all()
    return {s.customer_id: s for s in session.exec(select(CustomerScore))}


def test_scores_from_a_known_history(engine: Engine, session: Session, settings: Settings) -> None:
    h = History(session)
    kim = h.customer("kim", tier="gold", orders=2)
    x = h.author(kim, "x", followers=990)
    reddit = h.author(kim, "reddit", followers=9)
    # Mood: 3 negative posts 40-80 days ago (before), 3 positive ones in the last 30 days (recent).
    for days in (40, 60, 80):
        h.post(x, days, "negative")
    for days in (2, 10, 20):
        h.post(reddit, days, "positive", metrics={"likes": 1})
    # Service: a complaint answered after 4 hours (before the positive posts: a recovery), one
    # complaint never answered.
    h.post(x, 50, "negative", complaint=True, answered_after_hours=4)
    h.post(x, 45, "negative", complaint=True)
    # Not counted: a deleted post, a post older than 90 days for frequency (but not for recency).
    h.post(x, 1, "negative", deleted=True)
    h.post(x, 200, "neutral")
    lee = h.customer("lee")  # no identities at all
    session.commit()

    run = pipeline.score_customers(settings, engine, now=NOW)
    assert run.customers == 2
    scores = _scores(session)
    k = scores[kim.id]  # type: ignore[index]
    activity = k.breakdown["activity"]
    assert activity["inputs"]["posts_90d"] == 8
    assert activity["inputs"]["days_since_last_post"] == 2.0
    assert activity["inputs"]["platforms"]["x"] == {"days_since_last_post": 40.0, "posts_90d": 5}
    assert activity["inputs"]["platforms"]["reddit"] == {"days_since_last_post": 2.0, "posts_90d": 3}
    recency, frequency = 1 - 2 / 90, math.log1p(8) / math.log1p(20)
    assert k.activity == pytest.approx(0.5 * recency + 0.5 * frequency, abs=1e-3)
    # Recent net +1, before: 5 negative of 5 → net −1; Δ = 2 → improving, change 1, level 1.
    mood = k.breakdown["mood"]
    assert mood["inputs"]["trend"] == "improving" and k.trend == "improving"
    assert mood["inputs"]["before_60d"] == {"posts": 5, "negative": 5, "positive": 0}
    assert k.mood == pytest.approx(1.0)
    service = k.breakdown["service"]["inputs"]
    assert service == {"complaints_90d": 2, "answered": 1, "unanswered": 1,
                       "median_hours_to_first_answer": 4.0, "recovered": True}  # fmt: skip
    assert k.service == pytest.approx(0.5 * 0.5 + 0.3 * (1 - 4 / 72) + 0.2 * 1.0, abs=1e-3)
    # Reach: 999 followers + 10 × 3 likes = 1029 people.
    assert k.breakdown["reach"]["inputs"] == {"followers": 999, "engagement_90d": 3}
    assert k.reach == pytest.approx(math.log10(1 + 1029) / 6, abs=1e-3)
    assert k.value == pytest.approx(0.7 * 0.7 + 0.3 * 2 / 5)
    parts = k.breakdown["value"]["parts"]
    assert parts["tier"] == {"value": 0.7, "weight": 0.7, "contribution": 0.49}
    assert k.computed_at == NOW
    # Segments from config.toml: improving and active → advocates; an unanswered complaint → at risk;
    # recovered → won back. Not a new voice: the first post was 200 days ago.
    assert k.segments == ["advocates", "at_risk", "won_back"]
    # A customer with nothing: zero activity, neutral mood, nothing to serve, standard value.
    n = scores[lee.id]  # type: ignore[index]
    assert (n.activity, n.mood, n.service, n.reach) == (0.0, 0.5, 1.0, 0.0)
    assert n.trend == "unknown" and n.value == pytest.approx(0.21) and n.segments == []


def test_mood_needs_enough_posts_in_each_period_and_sees_worsening(
    engine: Engine, session: Session, settings: Settings
) -> None:
    h = History(session)
    few, worse = h.customer("few"), h.customer("worse")
    a = h.author(few)
    for days in (5, 45, 50, 55):  # only one recent post: no trend
        h.post(a, days, "positive")
    b = h.author(worse)
    for days in (35, 45, 70):
        h.post(b, days, "positive")
    for days in (1, 3, 5, 7):
        h.post(b, days, "negative")
    session.commit()
    pipeline.score_customers(settings, engine, now=NOW)
    scores = _scores(session)
    assert scores[few.id].trend == "unknown"  # type: ignore[index]
    # Level over the 90 days when the recent period is short: net +1 → 1; change unknown → 0.5.
    assert scores[few.id].mood == pytest.approx(0.6 * 1.0 + 0.4 * 0.5)  # type: ignore[index]
    assert scores[worse.id].trend == "worsening"  # type: ignore[index]
    assert scores[worse.id].mood == pytest.approx(0.0)  # type: ignore[index]
    assert "at_risk" in scores[worse.id].segments and "detractors" in scores[worse.id].segments  # type: ignore[index]


def test_proposed_links_brand_accounts_and_erased_customers_do_not_count(
    engine: Engine, session: Session, settings: Settings
) -> None:
    h = History(session)
    kim = h.customer("kim")
    mine = h.author(kim)
    proposed = h.author(None)
    session.add(IdentityLink(author_id=proposed.id, customer_id=kim.id, method="fuzzy_name", confidence=0.5,
                             status="proposed"))  # fmt: skip
    brand = h.author(kim, is_brand=True, followers=10**6)
    h.post(mine, 3)
    h.post(proposed, 3)
    h.post(brand, 3)
    gone = h.customer("gone")
    gone.erased_at = NOW
    session.commit()
    run = pipeline.score_customers(settings, engine, now=NOW)
    scores = _scores(session)
    assert run.customers == 1 and set(scores) == {kim.id}
    assert scores[kim.id].breakdown["activity"]["inputs"]["posts_90d"] == 1  # type: ignore[index]
    assert scores[kim.id].breakdown["reach"]["inputs"]["followers"] == 0  # type: ignore[index]
    assert scores[kim.id].segments == ["new_voices"]  # type: ignore[index]


def test_a_public_reply_from_the_brands_account_answers_a_complaint(
    engine: Engine, session: Session, settings: Settings
) -> None:
    # Answered on X from @marucoffee, outside Dangol: answered, and the later praise is a recovery.
    h = History(session)
    kim, lee = h.customer("kim"), h.customer("lee")
    kim_x, lee_x = h.author(kim, "x"), h.author(lee, "x")
    brand = h.author(None, "x", is_brand=True)
    stranger = h.author(None, "x")
    for customer_x, answerer in ((kim_x, brand), (lee_x, stranger)):
        complaint = h.post(customer_x, 10, "negative", complaint=True)
        reply = h.post(answerer, 10 - 3 / 24, "neutral")  # three hours later
        reply.reply_to_id = complaint.external_id
        h.post(customer_x, 2, "positive")
    session.commit()

    pipeline.score_customers(settings, engine, now=NOW)
    scores = _scores(session)
    kim_service = scores[kim.id].breakdown["service"]["inputs"]  # type: ignore[index]
    assert kim_service["answered"] == 1 and kim_service["median_hours_to_first_answer"] == 3.0
    assert "won_back" in scores[kim.id].segments and "won_back" not in scores[lee.id].segments  # type: ignore[index]
    assert scores[lee.id].breakdown["service"]["inputs"]["unanswered"] == 1  # type: ignore[index]


def test_engagement_adds_up_the_integer_metrics_but_a_reviews_star_rating(
    engine: Engine, session: Session, settings: Settings
) -> None:
    # Summed in the database now, as dangol.core.types.engagement sums one post: 2 + 1 + 4, not the 5 stars.
    h = History(session)
    kim = h.customer("kim")
    x, store = h.author(kim, "x"), h.author(kim, "googleplay")
    h.post(x, 3, metrics={"like_count": 2, "reply_count": 1})
    h.post(store, 4, metrics={"rating": 5, "likes": 4})
    h.post(x, 120, metrics={"like_count": 50})  # older than 90 days
    session.commit()

    pipeline.score_customers(settings, engine, now=NOW)
    assert _scores(session)[kim.id].breakdown["reach"]["inputs"]["engagement_90d"] == 7  # type: ignore[index]


def test_segment_history_records_joins_and_leaves(engine: Engine, session: Session, settings: Settings) -> None:
    h = History(session)
    kim = h.customer("kim")
    a = h.author(kim)
    h.post(a, 10, "neutral", complaint=True)  # neutral: mood 0.5, not a detractor
    session.commit()
    first = pipeline.score_customers(settings, engine, now=NOW)
    assert first.joined == {"at_risk": 1, "new_voices": 1} and first.left == {}
    again = pipeline.score_customers(settings, engine, now=NOW + timedelta(hours=1))
    assert again.joined == {} and again.left == {}  # nothing moved: no new history rows
    # Answered, and 25 days later the first post is over 30 days old: leaves both segments.
    item = QueueItem(post_id=session.exec(select(Post.id)).one(), cluster_key="k", created_at=NOW)
    session.add(item)
    session.flush()
    session.add(Reply(queue_item_id=item.id, post_id=item.post_id, text="sorry", status="sent", idempotency_key="k",
                      sent_at=NOW))  # fmt: skip
    session.commit()
    later = NOW + timedelta(days=25)
    third = pipeline.score_customers(settings, engine, now=later)
    assert third.left == {"at_risk": 1, "new_voices": 1} and third.joined == {}
    history = [(c.segment, c.change) for c in segment_history(kim.id, session=session)]  # type: ignore[arg-type]
    assert sorted(history) == [("at_risk", "joined"), ("at_risk", "left"), ("new_voices", "joined"),
                               ("new_voices", "left")]  # fmt: skip
    assert session.exec(select(CustomerSegment)).all() == []
    assert len(session.exec(select(CustomerSegmentChange)).all()) == 4
    assert segments_of([kim.id], session=session) == {}  # type: ignore[list-item]


def test_value_scores_read_back_for_risk(engine: Engine, session: Session, settings: Settings) -> None:
    h = History(session)
    vip = h.customer("vip", tier="vip", orders=7)
    session.commit()
    assert value_scores([vip.id], session=session) == {}  # type: ignore[list-item]
    pipeline.score_customers(settings, engine, now=NOW)
    assert value_scores([vip.id], session=session) == {vip.id: pytest.approx(1.0)}  # type: ignore[list-item,dict-item]
    assert segments_of([vip.id], session=session) == {vip.id: ["vip"]}  # type: ignore[list-item,dict-item]


def test_the_scores_job_runs_once_per_slot_across_workers(engine: Engine, session: Session, settings: Settings) -> None:
    from dangol.jobs import once_per_slot, periodic_jobs

    h = History(session)
    h.customer("kim")
    session.commit()
    job_id, trigger, func = next(j for j in periodic_jobs(settings, engine) if j[0] == "customers:score")
    assert job_id == "customers:score"
    first = once_per_slot(job_id, trigger, func, engine, worker="w1", clock=lambda: NOW)()
    second = once_per_slot(job_id, trigger, func, engine, worker="w2", clock=lambda: NOW)()
    assert isinstance(first, pipeline.ScoreRun) and first.customers == 1 and second is None
    assert len(_scores(session)) == 1


def test_erasing_a_customer_deletes_their_scores_and_segment_history(
    engine: Engine, session: Session, settings: Settings
) -> None:
    from storage.privacy import erase_customer

    h = History(session)
    kim, lee = h.customer("kim", tier="vip"), h.customer("lee", tier="vip")
    h.post(h.author(kim), 3, "negative", complaint=True)
    session.commit()
    pipeline.score_customers(settings, engine, now=NOW)
    assert segment_history(kim.id, session=session)  # type: ignore[arg-type]
    erase_customer(kim.id, session=session, actor="admin")  # type: ignore[arg-type]
    session.commit()
    for table in (CustomerScore, CustomerSegment, CustomerSegmentChange):
        rows = session.exec(select(table)).all()
        assert {r.customer_id for r in rows} == {lee.id}, table
    # The next run leaves the erased customer out.
    assert pipeline.score_customers(settings, engine, now=NOW).customers == 1
    assert set(_scores(session)) == {lee.id}


def test_scores_as_of_a_past_moment_read_only_what_had_happened_by_then(
    engine: Engine, session: Session, settings: Settings
) -> None:
    # The demo scores as of the end of the report's week first (dangol.demo): posts and answers
    # after that moment must not count, or a week's history would hold what came later.
    h = History(session)
    kim = h.customer("kim")
    x = h.author(kim, "x")
    h.post(x, 10, "negative", complaint=True, answered_after_hours=48)  # answered 8 days ago
    h.post(x, 3, "positive")
    session.commit()

    pipeline.score_customers(settings, engine, now=NOW - timedelta(days=9))
    earlier = _scores(session)[kim.id]  # type: ignore[index]
    assert earlier.breakdown["activity"]["inputs"]["posts_90d"] == 1
    assert earlier.breakdown["service"]["inputs"]["unanswered"] == 1  # the answer came a day later
    assert earlier.breakdown["service"]["inputs"]["recovered"] is False
    pipeline.score_customers(settings, engine, now=NOW)
    now = _scores(session)[kim.id]  # type: ignore[index]
    assert now.breakdown["activity"]["inputs"]["posts_90d"] == 2
    assert now.breakdown["service"]["inputs"]["recovered"] is True
