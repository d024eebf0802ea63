"""Assignment: atomic claims (two real PostgreSQL connections racing), round-robin, load balance, skills, backlog."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from dangol.core.errors import Conflict
from responder.assignment import assign, auto_assign, claim, open_load, release
from responder.queue import close, route_new
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Author, Post, QueueItem, Staff
from tests.responder.conftest import NOW


def _items(session) -> list[QueueItem]:
    return list(session.exec(select(QueueItem).order_by(QueueItem.id)))


def test_second_claim_of_the_same_item_is_a_conflict(session, settings, seed_post, make_staff):
    settings.responder.assignment = "manual"
    amy, bob = make_staff("amy"), make_staff("bob")
    seed_post()
    route_new(session=session, settings=settings, now=NOW)
    item = _items(session)[0]
    assert claim(item.id, actor=amy, session=session).assignee_id == amy.id
    with pytest.raises(Conflict, match="claimed by 'amy' first"):
        claim(item.id, actor=bob, session=session)


def test_claim_on_a_stale_copy_loses_to_a_change_made_meanwhile(engine, settings, seed_post, make_staff, session):
    settings.responder.assignment = "manual"
    amy, bob = make_staff("amy"), make_staff("bob")
    seed_post()
    route_new(session=session, settings=settings, now=NOW)
    session.commit()
    item_id = _items(session)[0].id
    with Session(engine) as other:
        stale = other.get(QueueItem, item_id)  # bob's screen loaded version 1
        claim(item_id, actor=amy, session=session)
        session.commit()
        with pytest.raises(Conflict):
            claim(stale.id, actor=other.get(Staff, bob.id), session=other)


def _seed_for_race(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as s:
        author = Author(platform="x", platform_id="1", handle="kim")
        s.add(author)
        s.flush()
        post = Post(platform="x", external_id="1", author_id=author.id, text="help", created_at=NOW, collected_at=NOW)
        s.add(post)
        s.flush()
        item = QueueItem(post_id=post.id, cluster_key="k", created_at=NOW)
        amy, bob = Staff(username="amy"), Staff(username="bob")
        s.add_all([item, amy, bob])
        s.commit()
        ids = (item.id, amy.id, bob.id)
    engine.dispose()
    return ids  # type: ignore[return-value]


def test_of_two_staff_claiming_at_once_on_postgresql_exactly_one_wins(postgres_url):
    item_id, amy_id, bob_id = _seed_for_race(postgres_url)
    barrier = threading.Barrier(2, timeout=20)
    outcomes: dict[str, str] = {}

    def race(staff_id: int, name: str) -> None:
        engine = make_engine(postgres_url)  # each contender has its own engine and connection
        try:
            with Session(engine) as s:
                staff = s.get(Staff, staff_id)
                s.get(QueueItem, item_id)  # both have read version 1 before either writes
                barrier.wait()
                try:
                    claim(item_id, actor=staff, session=s)
                    s.commit()
                    outcomes[name] = "won"
                except Conflict:
                    s.rollback()
                    outcomes[name] = "conflict"
        finally:
            engine.dispose()

    threads = [threading.Thread(target=race, args=(amy_id, "amy")), threading.Thread(target=race, args=(bob_id, "bob"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes.values()) == ["conflict", "won"]
    engine = make_engine(postgres_url)
    with Session(engine) as s:
        item = s.get(QueueItem, item_id)
        winner = amy_id if outcomes["amy"] == "won" else bob_id
        assert (item.assignee_id, item.status, item.version) == (winner, "assigned", 2)
    engine.dispose()


def test_load_balancing_gives_items_to_whoever_has_most_free_capacity(session, settings, seed_post, make_staff):
    busy, free = make_staff("busy", capacity=1), make_staff("free", capacity=3)
    for _ in range(4):
        seed_post()
    route_new(session=session, settings=settings, now=NOW)
    owners = [i.assignee_id for i in _items(session)]
    assert owners.count(free.id) == 3 and owners.count(busy.id) == 1


def test_round_robin_takes_turns(session, settings, seed_post, make_staff):
    settings.responder.assignment = "round_robin"
    staff = [make_staff(n) for n in ("a", "b", "c")]
    for _ in range(4):
        seed_post()
    route_new(session=session, settings=settings, now=NOW)
    assert [i.assignee_id for i in _items(session)] == [staff[0].id, staff[1].id, staff[2].id, staff[0].id]


def test_korean_posts_go_to_someone_on_the_korean_desk_who_reads_korean(session, settings, seed_post, make_staff):
    make_staff("eng", capacity=50, languages=["en"])
    korean = make_staff("min", team="korea", languages=["ko"], capacity=1)
    seed_post("배송이 안 와요", language="ko")
    route_new(session=session, settings=settings, now=NOW)
    assert _items(session)[0].assignee_id == korean.id


def test_staff_without_the_language_is_not_given_the_item(session, settings, seed_post, make_staff):
    make_staff("eng", languages=["en"])
    seed_post("배송이 안 와요", language="ko")
    route_new(session=session, settings=settings, now=NOW)
    assert _items(session)[0].assignee_id is None


def test_freed_capacity_serves_the_backlog_most_urgent_then_oldest_first(session, settings, seed_post, make_staff):
    admin = make_staff("boss", role="admin", capacity=0)
    amy = make_staff("amy", capacity=1)
    seed_post(risk=0.1)  # taken by amy at once
    route_new(session=session, settings=settings, now=NOW)
    seed_post(risk=0.35)  # priority 3, older
    route_new(session=session, settings=settings, now=NOW + timedelta(minutes=1))
    seed_post(risk=0.35)  # priority 3, newer
    seed_post(risk=0.1)  # priority 4
    route_new(session=session, settings=settings, now=NOW + timedelta(minutes=2))
    first, older, newer, low = _items(session)
    assert (first.assignee_id, older.assignee_id) == (amy.id, None)
    close(first.id, actor=admin, session=session)
    assert open_load(amy.id, session=session) == 0
    served = auto_assign(session=session, responder=settings.responder, now=NOW + timedelta(minutes=3))
    assert [i.id for i in served] == [older.id]


def test_release_and_assign_are_audited_moves(session, settings, seed_post, make_staff):
    settings.responder.assignment = "manual"
    amy, bob = make_staff("amy"), make_staff("bob")
    seed_post()
    route_new(session=session, settings=settings, now=NOW)
    item = _items(session)[0]
    claim(item.id, actor=amy, session=session)
    assert release(item.id, actor=amy, session=session).status == "new"
    assert assign(item.id, bob.id, actor=amy, session=session).assignee_id == bob.id


def test_an_agent_cannot_take_a_colleagues_item_but_an_admin_can(session, settings, seed_post, make_staff):
    from dangol.core.errors import Forbidden
    from responder.queue import bulk

    settings.responder.assignment = "manual"
    amy, bob, cat = make_staff("amy"), make_staff("bob"), make_staff("cat")
    admin = make_staff("boss", role="admin")
    seed_post()
    route_new(session=session, settings=settings, now=NOW)
    item = _items(session)[0]
    claim(item.id, actor=amy, session=session)
    with pytest.raises(Forbidden):
        assign(item.id, bob.id, actor=bob, session=session)
    result = bulk([item.id], "assign", actor=cat, session=session, staff_id=cat.id)
    assert result.done == [] and "reassign" in result.failed[item.id]
    assert session.get(QueueItem, item.id).assignee_id == amy.id
    assert assign(item.id, amy.id, actor=amy, session=session).assignee_id == amy.id  # one's own: fine
    assert assign(item.id, bob.id, actor=admin, session=session).assignee_id == bob.id


def test_away_staff_and_staff_who_never_logged_in_are_not_auto_assigned(session, settings, seed_post, make_staff):
    from responder.accounts.preferences import set_availability

    amy, bo, cy = make_staff("amy"), make_staff("bo", last_login_at=None), make_staff("cy")
    set_availability(session=session, actor=amy, available=False, now=NOW)
    assert (amy.available, amy.available_since) == (False, NOW)
    for n in range(3):
        seed_post(f"order {n} never arrived")
    route_new(session=session, settings=settings, now=NOW)
    assert {i.assignee_id for i in _items(session)} == {cy.id}
    set_availability(session=session, actor=amy, available=True, now=NOW)
    seed_post("and another order is missing")
    route_new(session=session, settings=settings, now=NOW)
    assert {i.assignee_id for i in _items(session)} == {cy.id, amy.id}
    assert bo.id not in {i.assignee_id for i in _items(session)}


def test_next_item_is_ones_own_else_the_most_urgent_unassigned_one_the_person_can_answer(
    session, seed_post, make_staff
):
    from responder.queue import next_item_for

    amy = make_staff("amy", team="support", languages=["en"])
    kim = make_staff("kim", team="korea", languages=["ko"])
    anyone = make_staff("lee", team="support")  # no languages listed: answers any

    def item(priority: int, team: str, language: str, minutes: int = 0, **fields) -> int:
        post = seed_post(language=language)
        row = QueueItem(
            post_id=post.id, cluster_key=f"k{post.id}", priority=priority, team=team, language=language,
            topic="delivery", created_at=NOW + timedelta(minutes=minutes), **fields,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id

    korean_p1 = item(1, "korea", "ko")
    billing_en_p2 = item(2, "billing", "en")
    support_en_p3 = item(3, "support", "en")
    support_ko_p3 = item(3, "support", "ko", minutes=-5)  # waiting longer than support_en_p3
    # Her team's, in her language, before more urgent items of other teams or languages.
    assert next_item_for(amy, session=session) == support_en_p3
    # Without it: one she can answer from another team, never the Korean ones first.
    assert next_item_for(amy, session=session, current=support_en_p3) == billing_en_p2
    assert next_item_for(kim, session=session) == korean_p1
    # No languages listed: the team's most urgent, whatever the language.
    assert next_item_for(anyone, session=session) == support_ko_p3
    # One's own open item comes first, however low.
    own = item(4, "korea", "ko", status="assigned", assignee_id=amy.id)
    assert next_item_for(amy, session=session) == own
    # Nobody can answer what is left: the most urgent of it, rather than nothing.
    for item_id in (support_en_p3, billing_en_p2, own):
        session.get(QueueItem, item_id).status = "closed"
    session.flush()
    assert next_item_for(amy, session=session) == korean_p1
