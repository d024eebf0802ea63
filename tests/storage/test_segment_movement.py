"""Segments over time, a segment's members and the weekly movement, rebuilt from the segment history
(SQLite and PostgreSQL): hand-written histories with known answers, and agreement with the counts
the database holds now."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from dangol import pipeline
from dangol.core.settings import Settings
from storage.customer_scores import (
    customers_who_joined,
    members_at,
    public_handles,
    segment_counts,
    segment_members,
    segment_members_by_day,
)
from storage.models import Customer, CustomerSegment, CustomerSegmentChange
from tests.storage.test_customer_scores import NOW, History

DAY1 = date(2026, 11, 2)


def _at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _change(session: Session, customer: Customer, segment: str, change: str, at: datetime) -> None:
    session.add(CustomerSegmentChange(customer_id=customer.id, segment=segment, change=change, at=at))


def _history(session: Session) -> dict[str, Customer]:
    """at_risk: c before the window; a joins day 1 and leaves day 3; b joins day 2 just before
    midnight UTC; erased e joins day 1. advocates: a joins day 2."""
    h = History(session)
    people = {name: h.customer(name) for name in "abce"}
    people["e"].erased_at = NOW
    _change(session, people["c"], "at_risk", "joined", _at(DAY1 - timedelta(days=5)))
    _change(session, people["a"], "at_risk", "joined", _at(DAY1, 0))
    _change(session, people["e"], "at_risk", "joined", _at(DAY1))
    _change(session, people["b"], "at_risk", "joined", _at(DAY1 + timedelta(days=1), 23))
    _change(session, people["a"], "advocates", "joined", _at(DAY1 + timedelta(days=1)))
    _change(session, people["a"], "at_risk", "left", _at(DAY1 + timedelta(days=2)))
    for name, segment in [("b", "at_risk"), ("c", "at_risk"), ("e", "at_risk"), ("a", "advocates")]:
        session.add(CustomerSegment(customer_id=people[name].id, segment=segment, since=NOW))
    session.commit()
    return people


def test_members_per_day_come_from_joins_and_leaves_and_end_at_the_current_counts(
    engine: Engine, session: Session
) -> None:
    _history(session)
    days = segment_members_by_day(session=session, first_day=DAY1, last_day=DAY1 + timedelta(days=3))
    assert days == {
        "at_risk": {"2026-11-02": 2, "2026-11-03": 3, "2026-11-04": 2, "2026-11-05": 2},
        "advocates": {"2026-11-02": 0, "2026-11-03": 1, "2026-11-04": 1, "2026-11-05": 1},
    }
    # The erased customer is in neither the history's counts nor the current ones.
    assert segment_counts(session=session) == {key: per_day["2026-11-05"] for key, per_day in days.items()}
    before = segment_members_by_day(
        session=session, first_day=DAY1 - timedelta(days=1), last_day=DAY1 - timedelta(days=1)
    )
    assert before == {"at_risk": {"2026-11-01": 1}}


def test_joiners_and_members_at_an_instant_leave_out_erased_customers(engine: Engine, session: Session) -> None:
    people = _history(session)
    ids = {c.id: name for name, c in people.items()}
    week = (_at(DAY1, 0), _at(DAY1 + timedelta(days=7), 0))
    assert [ids[i] for i in customers_who_joined("at_risk", session=session, since=week[0], until=week[1])] == [
        "a",
        "b",
    ]
    assert customers_who_joined("at_risk", session=session, since=week[1], until=week[1] + timedelta(days=7)) == []
    assert [ids[i] for i in members_at("at_risk", session=session, at=_at(DAY1 + timedelta(days=2), 0))] == [
        "a",
        "b",
        "c",
    ]
    assert [ids[i] for i in members_at("at_risk", session=session, at=week[1])] == ["b", "c"]
    # The same as the rows the database holds now, counted directly.
    now_in = session.exec(
        select(func.count())
        .select_from(CustomerSegment)
        .join(Customer)
        .where(
            CustomerSegment.segment == "at_risk",
            Customer.erased_at.is_(None),  # type: ignore[union-attr]
        )
    ).one()
    assert len(members_at("at_risk", session=session, at=NOW)) == now_in == 2


def test_a_segments_members_carry_public_handles_and_scores_never_erased_ones(
    engine: Engine, session: Session, settings: Settings
) -> None:
    from storage.privacy import erase_customer

    h = History(session)
    gold, vip, gone = (
        h.customer("gold", tier="vip", orders=1),
        h.customer("vip", tier="vip", orders=9),
        h.customer("gone", tier="vip"),
    )
    h.author(vip, platform="instagram")
    h.author(vip, is_brand=True)  # a brand account is never a customer's public handle
    h.author(gold, status="proposed")  # a proposed link is not the customer's yet
    session.commit()
    pipeline.score_customers(settings, engine, now=NOW)
    erase_customer(gone.id, session=session, actor="admin")  # type: ignore[arg-type]
    session.commit()
    members = segment_members("vip", session=session)
    assert [m.customer_id for m in members] == [vip.id, gold.id]  # highest value first, the erased one gone
    assert members[0].handles == ["instagram:@h1"] and members[1].handles == []
    assert members[0].scores["value"] >= members[1].scores["value"] and members[0].segments == ["vip"]
    assert set(members[0].scores) == {"activity", "mood", "service", "reach", "value"}
    assert "value" in members[0].breakdown
    assert public_handles([gone.id], session=session) == {}  # type: ignore[list-item]
    assert segment_members("vip", session=session, limit=1)[0].customer_id == vip.id
