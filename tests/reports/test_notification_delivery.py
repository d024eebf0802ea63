"""Notifications sent by e-mail and webhook: once each across workers (two real PostgreSQL
sessions racing), held back by quiet hours while the inbox has them at once, retried, linked."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from dangol.core.errors import SendError
from dangol.core.links import item_url
from dangol.core.notifications import quiet_until
from reports.alerts import notify_staff
from reports.notifications import deliver_notifications
from reports.notify import post_webhook
from storage.engine import make_engine, session_scope
from storage.models import Alert, Notification, NotificationDelivery, Staff
from storage.notifications import notify, unread_count

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # 19:00 in Seoul


def _staff(session: Session, username: str, **fields) -> Staff:
    person = Staff(username=username, last_login_at=NOW, **fields)
    session.add(person)
    session.commit()
    return person


def _notify(session: Session, person: Staff, n: int, *, kind: str = "queue.notify", at: datetime = NOW) -> list[int]:
    created = notify(
        [person], session=session, kind=kind, subject=f"queue_item:{n}", event="routed",
        text=f"item {n} routed", now=at, item_id=n,
    )  # fmt: skip
    session.commit()
    return created


class CountingWebhook:
    """The real webhook sender, counting each text it sends; slow enough for two senders to overlap."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, url: str, text: str) -> None:
        with self.lock:
            self.sent[text] += 1
        time.sleep(0.02)
        post_webhook(url, text)


def test_quiet_hours_cross_midnight_in_the_persons_time_zone() -> None:
    at_23 = datetime(2026, 11, 16, 23, 0, tzinfo=SEOUL)
    assert quiet_until(at_23, "22:00", "07:00", "Asia/Seoul") == datetime(2026, 11, 17, 7, 0, tzinfo=SEOUL)
    at_6 = datetime(2026, 11, 17, 6, 0, tzinfo=SEOUL)
    assert quiet_until(at_6, "22:00", "07:00", "Asia/Seoul") == datetime(2026, 11, 17, 7, 0, tzinfo=SEOUL)
    assert quiet_until(datetime(2026, 11, 17, 12, 0, tzinfo=SEOUL), "22:00", "07:00", "Asia/Seoul") is None
    assert quiet_until(datetime(2026, 11, 17, 13, 0, tzinfo=SEOUL), "12:00", "14:00", "Asia/Seoul") is not None
    assert quiet_until(at_23, None, None, "Asia/Seoul") is None


def test_two_workers_noticing_the_same_event_on_postgresql_insert_it_once(postgres_url) -> None:
    engine = make_engine(postgres_url)
    with Session(engine, expire_on_commit=False) as session:
        lee = _staff(session, "lee", webhook_url="http://127.0.0.1:9/hook")
    start = threading.Barrier(2)
    created: list[list[int]] = []

    def worker() -> None:
        with Session(engine) as session:
            person = session.get(Staff, lee.id)
            start.wait()
            ids = notify(
                [person], session=session, kind="sla.warning", subject="queue_item:7", event="first_response:t",
                text="due soon", now=NOW, item_id=7,
            )  # fmt: skip
            time.sleep(0.3)  # hold the transaction open: the other insert must wait on it, not pass it
            session.commit()
            created.append(ids)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with Session(engine) as session:
        rows = session.exec(select(Notification)).all()
        deliveries = session.exec(select(NotificationDelivery)).all()
    assert len(rows) == 1 and len(deliveries) == 1
    assert sorted(len(ids) for ids in created) == [0, 1]
    engine.dispose()


def test_two_workers_delivering_on_postgresql_send_each_notification_once(postgres_url, settings, webhook) -> None:
    url, received = webhook
    engine = make_engine(postgres_url)
    with Session(engine, expire_on_commit=False) as session:
        lee = _staff(session, "lee", webhook_url=url)
        for n in range(1, 13):
            _notify(session, lee, n)
    sender = CountingWebhook()
    start = threading.Barrier(2)
    runs = []

    def worker() -> None:
        start.wait()
        runs.append(deliver_notifications(settings, engine, now=NOW, webhook=sender))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(run.sent for run in runs) == 12
    assert all(run.sent > 0 for run in runs), "both workers should have taken a share"
    assert len(sender.sent) == 12 and set(sender.sent.values()) == {1}
    assert len(received.bodies) == 12
    with Session(engine) as session:
        assert all(d.delivered_at is not None for d in session.exec(select(NotificationDelivery)))
    assert deliver_notifications(settings, engine, now=NOW, webhook=sender).sent == 0  # nothing left to send
    engine.dispose()


def test_quiet_hours_delay_the_webhook_but_not_the_inbox(engine, settings, webhook) -> None:
    url, received = webhook
    with Session(engine, expire_on_commit=False) as session:
        lee = _staff(session, "lee", webhook_url=url, quiet_start="22:00", quiet_end="07:00", timezone="Asia/Seoul")
    night = datetime(2026, 11, 16, 23, 30, tzinfo=SEOUL)
    with Session(engine, expire_on_commit=False) as session:
        _notify(session, lee, 1, at=night)
        assert unread_count(session=session, staff_id=lee.id) == 1  # in the inbox at once
    run = deliver_notifications(settings, engine, now=night)
    assert (run.sent, run.deferred, received.bodies) == (0, 1, [])
    with Session(engine) as session:
        delivery = session.exec(select(NotificationDelivery)).one()
        assert delivery.not_before == datetime(2026, 11, 17, 7, 0, tzinfo=SEOUL)
    assert deliver_notifications(settings, engine, now=night + timedelta(hours=2)).deferred == 0  # not claimed again
    assert received.bodies == []
    morning = datetime(2026, 11, 17, 7, 1, tzinfo=SEOUL)
    assert deliver_notifications(settings, engine, now=morning).sent == 1
    assert received.bodies[0]["text"].startswith(f"[{settings.brand.name}] item 1 routed")


def test_email_goes_to_the_persons_own_address_with_a_link_to_the_item(engine, settings, smtp) -> None:
    port, received = smtp
    settings.reports.smtp_host, settings.reports.smtp_port, settings.reports.smtp_tls = "127.0.0.1", port, "none"
    settings.reports.email_to = ["team@example.com"]
    with Session(engine, expire_on_commit=False) as session:
        lee = _staff(session, "lee", email="lee@example.com", notify_channels={"email": ["sla.breach"]})
        _notify(session, lee, 1)  # queue.notify: not chosen for e-mail
        _notify(session, lee, 2, kind="sla.breach")
    assert deliver_notifications(settings, engine, now=NOW).sent == 1
    assert [rcpts for _, rcpts in received.envelopes] == [["lee@example.com"]]
    message = received.messages[0]
    assert message["Subject"] == f"[{settings.brand.name}] SLA breached"
    assert item_url(settings.dashboard.base_url, 2) in message.get_payload()


def test_a_failing_webhook_is_retried_later_then_given_up(engine, settings, failing_webhook) -> None:
    url, received = failing_webhook
    settings.notifications.max_attempts, settings.notifications.retry_minutes = 2, 5
    with Session(engine, expire_on_commit=False) as session:
        _notify(session, _staff(session, "lee", webhook_url=url), 1)
    assert deliver_notifications(settings, engine, now=NOW).failed == 1
    assert deliver_notifications(settings, engine, now=NOW + timedelta(minutes=1)).failed == 0  # waits its turn
    assert deliver_notifications(settings, engine, now=NOW + timedelta(minutes=6)).given_up == 1
    assert deliver_notifications(settings, engine, now=NOW + timedelta(days=1)).given_up == 0
    assert len(received.bodies) == 2
    with Session(engine) as session:
        delivery = session.exec(select(NotificationDelivery)).one()
        assert (delivery.attempts, delivery.delivered_at, delivery.given_up_at is not None) == (2, None, True)
        assert "answered 403" in (delivery.last_error or "")


def test_a_sender_error_leaves_other_deliveries_going(engine, settings, webhook) -> None:
    url, received = webhook
    with Session(engine, expire_on_commit=False) as session:
        lee = _staff(session, "lee", webhook_url=url)
        _notify(session, lee, 1)
        _notify(session, lee, 2)
    calls = []

    def flaky(target: str, text: str) -> None:
        calls.append(text)
        if len(calls) == 1:
            raise SendError("webhook down")
        post_webhook(target, text)

    run = deliver_notifications(settings, engine, now=NOW, webhook=flaky)
    assert (run.failed, run.sent, len(received.bodies)) == (1, 1, 1)


def test_a_new_alert_notifies_the_configured_recipients_only(engine, settings) -> None:
    with session_scope(engine) as session:
        ann, _ = _staff(session, "ann", role="admin"), _staff(session, "bo", role="product")
        alert = Alert(kind="volume", scope="topic:delivery", started_at=NOW, explanation={"summary": "cold coffee"})
        session.add(alert)
        session.flush()
        settings.notifications.alert_recipients = ["ann"]
        notify_staff(alert, session=session, settings=settings, now=NOW)
        notify_staff(alert, session=session, settings=settings, now=NOW)  # a second run: no second row
        rows = session.exec(select(Notification)).all()
        assert [(n.recipient_id, n.kind, n.alert_id) for n in rows] == [(ann.id, "alert", alert.id)]
        settings.notifications.alert_recipients = []
        notify_staff(alert, session=session, settings=settings, now=NOW)  # everyone who sees alerts
        assert len(session.exec(select(Notification)).all()) == 2


@pytest.mark.parametrize("kind", ["reply.pending", "alert"])
def test_a_deactivated_recipient_gets_nothing_sent(engine, settings, webhook, kind) -> None:
    url, received = webhook
    with Session(engine, expire_on_commit=False) as session:
        lee = _staff(session, "lee", webhook_url=url)
        _notify(session, lee, 1, kind=kind)
        lee.active = False
        session.add(lee)
        session.commit()
    assert deliver_notifications(settings, engine, now=NOW).given_up == 1
    assert received.bodies == []


def test_preferences_changed_while_a_delivery_waits_apply_to_it(engine, settings, webhook) -> None:
    from responder.accounts.preferences import set_preferences

    url, received = webhook
    with Session(engine, expire_on_commit=False) as session:
        lee = _staff(session, "lee", webhook_url=url, quiet_start="22:00", quiet_end="07:00", timezone="Asia/Seoul")
        _notify(session, lee, 1)
        _notify(session, lee, 2, kind="sla.breach")
    night = datetime(2026, 11, 16, 23, 30, tzinfo=SEOUL)
    assert deliver_notifications(settings, engine, now=night).deferred == 2
    with session_scope(engine) as session:  # no more quiet hours, and only breaches by webhook
        me = session.get(Staff, lee.id)
        set_preferences(session=session, actor=me, email=None, webhook_url=url, channels={"webhook": ["sla.breach"]})
    run = deliver_notifications(settings, engine, now=night + timedelta(minutes=1))
    assert (run.sent, run.given_up) == (1, 1)
    assert [body["text"].splitlines()[0] for body in received.bodies] == [f"[{settings.brand.name}] item 2 routed"]
