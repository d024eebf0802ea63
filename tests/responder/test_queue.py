"""Routing analyzed posts into the queue: actionable, clusters, spam, reopening, idempotence, statuses."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlmodel import select

from dangol.core.errors import InvalidTransition, NotFound
from dangol.core.risk import risk_priority
from nlp.risk import score_risk
from responder.queue import (
    QueueFilters,
    add_tag,
    bulk,
    close,
    get_item,
    list_queue,
    route_new,
    set_status,
    snooze,
    wake_snoozed,
)
from storage.audit import list_events
from storage.models import Analysis, QueueItem
from tests.concurrency import run_workers
from tests.responder.conftest import NOW


def test_complaint_becomes_one_new_queue_item_with_sla_dues(session, settings, seed_post):
    post = seed_post("my order never arrived")
    result = route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    assert (result.queued, item.post_id, item.status) == (1, post.id, "new")
    assert item.first_response_due_at is not None and item.first_response_due_at > NOW
    assert session.exec(select(Analysis)).one().routed is True


def test_routing_twice_queues_nothing_new(session, settings, seed_post):
    seed_post()
    route_new(session=session, settings=settings, now=NOW)
    again = route_new(session=session, settings=settings, now=NOW)
    assert again.examined == 0
    assert len(session.exec(select(QueueItem)).all()) == 1


def test_neutral_low_risk_post_is_not_queued(session, settings, seed_post):
    seed_post("nice weather", is_complaint=False, sentiment="neutral", risk=0.1)
    assert route_new(session=session, settings=settings, now=NOW).skipped == 1
    assert session.exec(select(QueueItem)).all() == []


def test_high_risk_post_is_queued_even_without_a_complaint(session, settings, seed_post):
    seed_post("everyone look at this", is_complaint=False, risk=0.9)
    assert route_new(session=session, settings=settings, now=NOW).queued == 1


def test_vip_customer_is_queued_and_prioritised_by_rule(session, settings, seed_post, make_customer):
    vip = make_customer(tier="vip")
    seed_post("it would be great to have oat milk", customer=vip, is_complaint=False, sentiment="neutral",
              intent="suggestion", risk=0.0)  # fmt: skip
    route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    assert (item.customer_id, item.priority, item.sla_policy) == (vip.id, 1, "urgent")


def test_a_vips_small_talk_and_praise_are_not_queued(session, settings, seed_post, make_customer):
    vip = make_customer(tier="vip")
    seed_post("오늘 일상: 아침 루틴, 마루커피 아메리카노", customer=vip, is_complaint=False, sentiment="neutral",
              intent="other", risk=0.0)  # fmt: skip
    seed_post("best latte!", customer=vip, is_complaint=False, sentiment="positive", intent="praise", risk=0.0)
    assert route_new(session=session, settings=settings, now=NOW).queued == 0


def test_our_own_account_is_never_queued(session, settings, seed_post):
    settings.brand.own_handles = ["@AcmeSupport", "reddit:acme_team"]
    seed_post("we are sorry, DM us", handle="acmesupport")
    seed_post("we are sorry, DM us", handle="acme_team", platform="reddit")
    assert route_new(session=session, settings=settings, now=NOW).skipped == 2


def test_our_mastodon_account_with_its_instance_is_never_queued(session, settings, seed_post):
    settings.brand.own_handles = ["mastodon:maru@coffee.social"]
    seed_post("we are sorry, DM us", handle="maru@coffee.social", platform="mastodon")
    seed_post("my order is late", handle="marucoffee.social", platform="mastodon")
    result = route_new(session=session, settings=settings, now=NOW)
    assert (result.skipped, result.queued) == (1, 1)


def test_near_duplicate_grows_the_cluster_instead_of_a_new_item(session, settings, seed_post):
    seed_post("app crashes on login", cluster_key="dup1")
    seed_post("the app crashes at login", cluster_key="dup1")
    result = route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    assert (result.queued, result.grouped, item.cluster_size) == (1, 1, 2)


def test_spam_is_closed_by_the_spam_rule(session, settings, seed_post):
    seed_post("buy followers cheap", is_spam=True)
    assert route_new(session=session, settings=settings, now=NOW).spam == 1
    assert session.exec(select(QueueItem)).one().status == "spam"


def test_customer_answering_in_the_thread_reopens_a_closed_item(session, settings, seed_post, make_staff):
    settings.responder.assignment = "manual"
    admin = make_staff("ann", role="admin")
    first = seed_post("refund please", handle="kim")
    route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    close(item.id, actor=admin, session=session, now=NOW)
    seed_post("still nothing", handle="kim", is_complaint=False, post={"reply_to_id": first.external_id})
    result = route_new(session=session, settings=settings, now=NOW + timedelta(hours=1))
    assert (result.reopened, get_item(item.id, session=session).status) == (1, "new")


def test_someone_else_in_the_thread_does_not_reopen_it(session, settings, seed_post, make_staff):
    admin = make_staff("ann", role="admin")
    first = seed_post("refund please", handle="kim")
    route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    close(item.id, actor=admin, session=session, now=NOW)
    seed_post("same here", handle="lee", is_complaint=False, risk=0.0, post={"reply_to_id": first.external_id})
    route_new(session=session, settings=settings, now=NOW)
    assert get_item(item.id, session=session).status == "closed"


def test_forbidden_transition_names_the_allowed_ones(session, settings, seed_post, make_staff):
    admin = make_staff("ann", role="admin")
    seed_post()
    route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    with pytest.raises(
        InvalidTransition, match=r"cannot move an item from '(new|assigned)' to 'replied'; allowed: .*closed"
    ):
        set_status(item.id, "replied", actor=admin, session=session)


def test_unknown_item_id_is_not_found(session, make_staff):
    with pytest.raises(NotFound, match="no queue item with id 999"):
        close(999, actor=make_staff("ann", role="admin"), session=session)


def test_snoozed_item_wakes_up_when_its_time_comes(session, settings, seed_post, make_staff):
    admin = make_staff("ann", role="admin")
    seed_post()
    route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    snooze(item.id, NOW + timedelta(hours=2), actor=admin, session=session, now=NOW)
    assert wake_snoozed(session=session, now=NOW + timedelta(hours=1)) == []
    assert [i.id for i in wake_snoozed(session=session, now=NOW + timedelta(hours=3))] == [item.id]


def test_list_queue_filters_sorts_and_counts(session, settings, seed_post):
    for risk in (0.15, 0.9, 0.3):
        seed_post("broken", risk=risk)
    seed_post("결제 오류", language="ko", risk=0.9)
    route_new(session=session, settings=settings, now=NOW)
    page = list_queue(QueueFilters(language="en"), session=session, page_size=2)
    assert (page.total, [i.priority for i in page.items]) == (3, [1, 2])
    assert list_queue(QueueFilters(team="korea"), session=session).total == 1


def test_every_route_and_change_is_audited(session, settings, seed_post, make_staff):
    admin = make_staff("ann", role="admin")
    seed_post()
    route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    close(item.id, actor=admin, session=session, now=NOW)
    actions = [(e.actor, e.action) for e in list_events(session=session, entity_type="queue_item")]
    assert ("ann", "queue.closed") in actions and ("system:router", "queue.create") in actions


def test_bulk_close_reports_each_item_that_could_not_be_closed(session, settings, seed_post, make_staff):
    admin = make_staff("ann", role="admin")
    seed_post()
    seed_post()
    route_new(session=session, settings=settings, now=NOW)
    first, second = (i.id for i in session.exec(select(QueueItem).order_by(QueueItem.id)))
    close(first, actor=admin, session=session)
    result = bulk([first, second, 404], "close", actor=admin, session=session)
    assert result.done == [second]
    assert set(result.failed) == {first, 404} and "no queue item with id 404" in result.failed[404]
    assert get_item(second, session=session).status == "closed"


def test_tags_are_added_once_and_filter_the_list(session, settings, seed_post, make_staff):
    amy = make_staff("amy")
    seed_post()
    seed_post()
    route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem).order_by(QueueItem.id)).first()
    add_tag(item.id, " Refund ", actor=amy, session=session)
    add_tag(item.id, "refund", actor=amy, session=session)
    assert get_item(item.id, session=session).tags == ["refund"]
    page = list_queue(QueueFilters(tag="refund"), session=session)
    assert (page.total, [i.id for i in page.items]) == (1, [item.id])


def test_two_workers_routing_at_once_on_postgresql_never_route_a_post_twice(postgres_url, settings):
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from storage.engine import make_engine, session_scope
    from storage.migrate import upgrade
    from storage.models import Author, Post

    engine = make_engine(postgres_url)
    upgrade(engine)
    with session_scope(engine) as s:
        author = Author(platform="x", platform_id="1", handle="kim")
        s.add(author)
        s.flush()
        for n in range(600):  # three batches, so the workers interleave
            post = Post(
                platform="x", external_id=str(n), author_id=author.id, text="late", created_at=NOW, collected_at=NOW
            )
            s.add(post)
            s.flush()
            s.add(
                Analysis(post_id=post.id, language="en", sentiment="negative", is_complaint=True, cluster_key=f"c{n}")
            )
    results = []

    def worker(own: Engine, _number: int) -> None:
        with session_scope(own) as s:
            results.append(route_new(session=s, settings=settings, now=NOW))

    errors = run_workers(postgres_url, 2, worker)
    with Session(engine) as s:
        items = s.exec(select(QueueItem)).all()
    engine.dispose()
    assert errors == []
    assert sum(r.examined for r in results) == 600 and len(items) == 600


def test_a_riskier_duplicate_raises_the_cluster_priority(session, settings, seed_post):
    seed_post("app crashes", cluster_key="dup", risk=0.35)
    route_new(session=session, settings=settings, now=NOW)
    seed_post("app crashes and ate my money, everyone see this", cluster_key="dup", risk=0.85)
    route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    assert (item.cluster_size, item.priority) == (2, 1)


def _scored(text: str, followers: int) -> dict:
    risk = score_risk(text, negative=0.9, followers=followers)
    return {"risk": risk.score, "risk_breakdown": risk.breakdown}


def test_a_cluster_of_retweets_is_prioritised_by_its_whole_audience(session, settings, seed_post):
    # The complaint alone is an everyday one (priority 3); 40 accounts of 5,000 followers each
    # carrying it to 200,000 people make the cluster as urgent as one post by a 200k account.
    text = "the app charged me twice and nobody answers"
    seed_post(text, cluster_key="wave", followers=120, **_scored(text, 120))
    route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    assert item.priority == 3
    for n in range(40):
        seed_post(f"RT {text}", handle=f"fan{n}", cluster_key="wave", followers=5_000, **_scored(text, 5_000))
    route_new(session=session, settings=settings, now=NOW)
    session.refresh(item)
    alone = score_risk(text, negative=0.9, followers=200_120).score
    assert item.cluster_size == 41 and item.routing["cluster"]["reach"]["audience"] == 200_120
    assert item.routing["risk"] == pytest.approx(alone, abs=1e-3)
    assert item.priority == risk_priority(alone) == 2


def test_a_breached_sla_raises_the_items_priority(session, settings, seed_post):
    text = "my order is late"
    seed_post(text, followers=80, **_scored(text, 80))
    route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    before = item.priority
    route_new(session=session, settings=settings, now=NOW + timedelta(days=5))
    session.refresh(item)
    assert item.sla_breached and item.priority < before
    assert item.routing["cluster"]["urgency"]["value"] == 1.0
    breach = list_events(session=session, action="sla.breach")[0]
    assert (breach.before["priority"], breach.after["priority"]) == (before, item.priority)


def test_rules_with_notify_leave_a_notification_event(session, settings, seed_post):
    seed_post("my lawyer will hear about this")
    route_new(session=session, settings=settings, now=NOW)
    events = list_events(session=session, action="queue.notify")
    assert len(events) == 1 and events[0].after["team"] == "pr"


def test_the_original_leads_its_cluster_over_an_earlier_small_retweet(session, settings, seed_post):
    from responder.approval import needs_approval
    from storage.models import Author, Post

    settings.responder.assignment = "manual"
    retweet = seed_post("RT @big: my order never arrived", handle="tiny", followers=38, cluster_key="c-1",
                        post={"external_id": "rt-1", "referenced_id": "orig-1"})  # fmt: skip
    route_new(session=session, settings=settings, now=NOW)
    original = seed_post("my order never arrived", handle="big", followers=103_000, cluster_key="c-1",
                         post={"external_id": "orig-1"})  # fmt: skip
    route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    assert (item.post_id, item.cluster_size) == (original.id, 2) and retweet.id != original.id
    post = session.get(Post, item.post_id)
    author = session.get(Author, post.author_id)
    reasons = needs_approval(item, post, author, None, settings.responder)
    assert any("103,000 followers" in r for r in reasons)


def test_a_review_the_brand_already_answered_is_not_queued(session, settings, seed_post):
    settings.brand.own_handles = ["googleplay:Maru Coffee"]
    answered = seed_post("charged twice", platform="googleplay", handle="kim", post={"external_id": "gp:1"})
    seed_post("sorry, refunded", platform="googleplay", handle="Maru Coffee",
              post={"external_id": "gp:1:reply", "reply_to_id": "gp:1", "thread_id": "gp:1"})  # fmt: skip
    seed_post("coupon fails", platform="googleplay", handle="lee", post={"external_id": "gp:2"})
    # the same words answered by someone who is not the brand, or on another platform, answer nothing
    seed_post("me too", platform="googleplay", handle="park", is_complaint=False, risk=0.0,
              post={"external_id": "gp:3", "reply_to_id": "gp:2"})  # fmt: skip
    result = route_new(session=session, settings=settings, now=NOW)
    queued = [item.post_id for item in session.exec(select(QueueItem)).all()]
    assert answered.id not in queued and len(queued) == 1 and result.skipped == 3


@pytest.mark.parametrize(("dry_run", "queued_again"), [(False, False), (True, True)])
def test_a_review_dangol_answered_on_the_store_counts_as_the_brands_answer(
    session, settings, seed_post, make_staff, dry_run, queued_again
):
    """The review's item now stands on another post (a louder review led its cluster): the review
    analyzed again finds no item of its own, and only a reply really sent to it says it is answered."""
    from storage.models import Reply

    settings.responder.assignment = "manual"
    review = seed_post("charged twice", platform="googleplay", handle="kim", post={"external_id": "gp:1"})
    route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    session.add(Reply(queue_item_id=item.id, post_id=review.id, text="Refunded, sorry!", status="sent",
                      idempotency_key="k-gp1", external_id="gp:1:reply", dry_run=dry_run))  # fmt: skip
    item.post_id = seed_post("charged twice!!", platform="googleplay", handle="lee").id
    analysis = session.exec(select(Analysis).where(Analysis.post_id == review.id)).one()
    analysis.routed, analysis.cluster_key = False, "c-new"  # an edit, analyzed again, in no cluster yet
    session.flush()
    route_new(session=session, settings=settings, now=NOW + timedelta(hours=1))
    on_review = [i for i in session.exec(select(QueueItem)).all() if i.post_id == review.id]
    assert bool(on_review) is queued_again


def test_an_edited_post_analyzed_again_updates_and_reopens_its_item(session, settings, seed_post, make_staff):
    settings.responder.assignment = "manual"
    admin = make_staff("ann", role="admin")
    post = seed_post("delivery was late", platform="appstore", handle="kim")
    route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    close(item.id, actor=admin, session=session, now=NOW)
    analysis = session.exec(select(Analysis)).one()
    analysis.routed, analysis.sentiment, analysis.primary_topic = False, "positive", "app"  # as save_analyses leaves it
    session.flush()
    result = route_new(session=session, settings=settings, now=NOW + timedelta(hours=1))
    [again] = session.exec(select(QueueItem)).all()
    assert (again.id, again.post_id, again.status, result.reopened) == (item.id, post.id, "new", 1)
    assert (again.sentiment, again.topic) == ("positive", "app")


def test_an_edited_cluster_member_is_not_counted_twice(session, settings, seed_post):
    seed_post("the app crashes at login", platform="appstore", handle="kim", cluster_key="crash", followers=100)
    member = seed_post("the app crashes at login!", platform="appstore", handle="lee", cluster_key="crash",
                       followers=100)  # fmt: skip
    route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    assert item.cluster_size == 2
    from storage import analyses

    # lee edits the review: analyzed again, the Analysis row overwritten (a new cluster key offered)
    analyses.save_analyses(
        session=session,
        analyses=[(member.id or 0, {"cluster_key": "other", "sentiment": "negative"}, np.ones(4, dtype=np.float32))],
    )
    again = session.exec(select(Analysis).where(Analysis.post_id == member.id)).one()
    assert (again.routed, again.counted, again.cluster_key) == (False, True, "crash")  # stays in its cluster
    route_new(session=session, settings=settings, now=NOW + timedelta(minutes=5))
    session.refresh(item)
    assert item.cluster_size == 2 and len(session.exec(select(QueueItem)).all()) == 1


def test_a_rule_on_the_customers_segment_routes_their_complaint(session, settings, seed_post, make_customer):
    from responder.routing import add_rule
    from storage.models import CustomerSegment, Staff

    admin = Staff(username="root", role="admin")
    session.add(admin)
    at_risk, calm = make_customer(tier="standard"), make_customer(tier="standard")
    session.add(CustomerSegment(customer_id=at_risk.id, segment="at_risk", since=NOW))
    session.flush()
    add_rule("save at-risk customers", {"segment": "at_risk"}, {"team": "retention", "priority": 1},
             actor=admin, session=session)  # fmt: skip
    seed_post("my order never arrived", customer=at_risk)
    seed_post("my order never arrived either", customer=calm)
    route_new(session=session, settings=settings, now=NOW)
    teams = {i.customer_id: (i.team, i.priority) for i in session.exec(select(QueueItem))}
    assert teams[at_risk.id] == ("retention", 1)
    assert teams[calm.id][0] != "retention"


def test_a_public_brand_reply_on_a_social_platform_still_leaves_the_complaint_to_handle(session, settings, seed_post):
    # "Sorry about that, DM us" from the brand's account opens a conversation; the case is not done.
    settings.brand.own_handles = ["x:marucoffee"]
    complaint = seed_post("my order never came", platform="x", handle="kim", post={"external_id": "x:1"})
    seed_post("so sorry, please DM us", platform="x", handle="marucoffee",
              post={"external_id": "x:2", "reply_to_id": "x:1", "thread_id": "x:1"})  # fmt: skip
    route_new(session=session, settings=settings, now=NOW)
    assert complaint.id in [item.post_id for item in session.exec(select(QueueItem)).all()]
