"""The demo's customer segments (issue #17): "At risk" and "Won back" have members, and each
member's stored breakdown says why, which the demo's own tables bear out.

The demo is built as `make demo` builds it (posts moved to end within the last week, scored at
once), so the 90-day windows of the scores hold its month of posts whenever the tests run.
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, create_engine, select

from dangol.demo_data import EXPECTATIONS
from storage.models import Analysis, Author, CustomerScore, CustomerSegment, IdentityLink, Post
from tests.demo_build import BuiltDemo, built_demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> BuiltDemo:
    return built_demo(tmp_path_factory)


def members(demo: BuiltDemo, segment: str) -> dict[int, dict]:
    """customer id → stored breakdown, for the members of `segment`."""
    engine = create_engine(demo.settings.database.url)
    with Session(engine) as session:
        rows = session.exec(
            select(CustomerScore.customer_id, CustomerScore.breakdown)
            .join(CustomerSegment, CustomerSegment.customer_id == CustomerScore.customer_id)
            .where(CustomerSegment.segment == segment)
        ).all()
    engine.dispose()
    return dict(rows)


def test_at_risk_members_have_an_unanswered_complaint_or_a_worsening_mood(demo: BuiltDemo) -> None:
    at_risk = members(demo, "at_risk")
    assert at_risk
    for breakdown in at_risk.values():
        flags, service = breakdown["flags"], breakdown["service"]["inputs"]
        unanswered = flags["unresolved"] and service["unanswered"] > 0
        assert unanswered or flags["trend"] == "worsening", breakdown


def test_won_back_members_had_a_complaint_answered_and_posted_positively_after_it(demo: BuiltDemo) -> None:
    won_back = members(demo, "won_back")
    assert won_back
    engine = create_engine(demo.settings.database.url)
    with Session(engine) as session:
        for cid, breakdown in won_back.items():
            service = breakdown["service"]
            assert breakdown["flags"]["recovered"] and service["inputs"]["recovered"], breakdown
            assert service["inputs"]["answered"] >= 1 and service["parts"]["recovery"]["value"] == 1.0
            authors = session.exec(
                select(IdentityLink.author_id).where(IdentityLink.customer_id == cid, IdentityLink.status == "applied")
            ).all()
            posts = session.exec(
                select(Post, Analysis).join(Analysis, Analysis.post_id == Post.id).where(Post.author_id.in_(authors))
            ).all()
            answers = session.exec(
                select(Post.reply_to_id, Post.created_at)
                .join(Author, Author.id == Post.author_id)
                .where(Author.is_brand, Post.reply_to_id.in_([p.external_id for p, a in posts if a.is_complaint]))
            ).all()
            assert answers, f"customer {cid}: no complaint of theirs answered by the brand"
            first_answer = min(at for _, at in answers)
            assert any(a.sentiment == "positive" and p.created_at > first_answer for p, a in posts)
    engine.dispose()


def test_the_demo_story_has_a_won_back_customer_in_each_language() -> None:
    # The brand's own post answers a complaint of a linked customer, who praises the brand afterwards.
    posts = json.loads(EXPECTATIONS.read_text(encoding="utf-8"))["posts"]
    won_back = set()
    for answer in (p for p in posts.values() if p["kind"] == "own" and p["reply_to"] in posts):
        complaint = posts[answer["reply_to"]]
        if complaint["kind"] != "complaint" or not complaint["link_applied"]:
            continue
        later = [p for p in posts.values() if p["customer"] == complaint["customer"] and p["kind"] == "praise"
                 and p["created_at"] > answer["created_at"]]  # fmt: skip
        if later:
            won_back.add((complaint["customer"], complaint["language"]))
    assert {language for _, language in won_back} == {"en", "ko"}
