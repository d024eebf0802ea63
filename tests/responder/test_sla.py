"""SLA clocks: business hours with timezone and holidays, states, breaches, and pausing for the customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from dangol.core.settings import SlaPolicySettings
from responder.queue import route_new
from responder.sla import check_breaches, due_at, pause, resume, sla_state, warnings
from storage.audit import list_events
from storage.models import QueueItem
from tests.responder.conftest import NOW

SEOUL = ZoneInfo("Asia/Seoul")
OFFICE = SlaPolicySettings(first_response_minutes=240, resolution_minutes=2880, business_hours_only=True)
ALWAYS = SlaPolicySettings(first_response_minutes=60, resolution_minutes=480, business_hours_only=False)


def test_round_the_clock_policy_just_adds_minutes(settings):
    start = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)
    assert due_at(start, 60, ALWAYS, settings.responder.business_hours) == start + timedelta(hours=1)


def test_business_minutes_carry_over_the_weekend(settings):
    friday_5pm = datetime(2026, 11, 20, 17, 0, tzinfo=SEOUL)
    due = due_at(friday_5pm, 240, OFFICE, settings.responder.business_hours)
    assert due == datetime(2026, 11, 23, 12, 0, tzinfo=SEOUL)  # 1 hour Friday, 3 hours Monday


def test_holidays_are_skipped(settings):
    christmas_eve_5pm = datetime(2026, 12, 24, 17, 0, tzinfo=SEOUL)
    due = due_at(christmas_eve_5pm, 120, OFFICE, settings.responder.business_hours)
    assert due == datetime(2026, 12, 28, 10, 0, tzinfo=SEOUL)


def test_a_post_at_night_starts_counting_next_morning(settings):
    night = datetime(2026, 11, 17, 23, 30, tzinfo=SEOUL)
    assert due_at(night, 30, OFFICE, settings.responder.business_hours) == datetime(2026, 11, 18, 9, 30, tzinfo=SEOUL)


def _item(**fields) -> QueueItem:
    values = {"post_id": 1, "cluster_key": "k", "created_at": NOW, "first_response_due_at": NOW + timedelta(hours=1)}
    values.update(fields)
    return QueueItem(**values)


def test_state_is_ok_then_warning_then_breached():
    item = _item()
    assert sla_state(item, NOW) == "ok"
    assert sla_state(item, NOW + timedelta(minutes=40)) == "warning"
    assert sla_state(item, NOW + timedelta(hours=2)) == "breached"


def test_paused_clock_reads_paused_and_answered_items_follow_resolution():
    assert sla_state(_item(sla_paused_at=NOW), NOW + timedelta(hours=5)) == "paused"
    answered = _item(first_responded_at=NOW, resolution_due_at=NOW + timedelta(days=2))
    assert sla_state(answered, NOW + timedelta(hours=5)) == "ok"


def test_resuming_moves_due_times_by_the_time_spent_waiting(settings):
    item = _item(sla_policy="urgent", resolution_due_at=NOW + timedelta(hours=8))
    pause(item, now=NOW)
    resume(item, responder=settings.responder, platform="x", now=NOW + timedelta(hours=3))
    assert (item.sla_paused_at, item.first_response_due_at) == (None, NOW + timedelta(hours=4))
    assert item.resolution_due_at == NOW + timedelta(hours=11)


def test_breaches_are_marked_once_and_audited(session, settings, seed_post):
    seed_post(risk=0.9)  # priority 1 → the round-the-clock urgent policy: 60 minutes
    route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    assert item.first_response_due_at == NOW + timedelta(minutes=60)
    assert [i.id for i in warnings(session=session, settings=settings, now=NOW + timedelta(minutes=50))] == [item.id]
    assert check_breaches(session=session, now=NOW + timedelta(minutes=30)) == []
    assert [i.id for i in check_breaches(session=session, now=NOW + timedelta(minutes=61))] == [item.id]
    assert check_breaches(session=session, now=NOW + timedelta(minutes=90)) == []
    assert item.sla_breached and sla_state(item, NOW) == "breached"
    assert [e.entity_id for e in list_events(session=session, action="sla.breach")] == [str(item.id)]
