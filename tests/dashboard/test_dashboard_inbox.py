"""The Inbox page through AppTest: newest first, the unread count in the menu, mark read, links to
the item, availability and one's own notification settings; the Admin page shows who is on."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from dangol.core.links import item_url, topic_url
from dangol.core.types import utcnow
from storage.models import Alert, AuditEvent
from storage.notifications import notify, unread_count

from .conftest import app_as, button, current_url_path, nav_pages, shown, staff_row


def _notify_agent(db, texts: list[str]) -> None:
    """Notifications for agent1 about the complaint item, the last one newest."""
    with Session(db.engine) as session:
        agent = staff_row(db, "agent1")
        start = utcnow() - timedelta(minutes=len(texts))
        for n, text in enumerate(texts):
            notify(
                [agent], session=session, kind="sla.warning", subject=f"queue_item:{db.items['complaint']}",
                event=f"e{n}", text=text, now=start + timedelta(minutes=n), item_id=db.items["complaint"],
            )  # fmt: skip
        session.commit()


def test_inbox_lists_newest_first_with_the_unread_count_and_marks_all_read(dashboard_db, monkeypatch) -> None:
    _notify_agent(dashboard_db, ["first warning", "second warning"])
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Inbox")
    assert not at.exception and "Inbox (2)" in nav_pages(at)
    texts = [m for m in shown(at.markdown) if "warning" in m]
    assert texts[0].endswith("second warning") and texts[1].endswith("first warning")
    assert item_url(dashboard_db.settings.dashboard.base_url, dashboard_db.items["complaint"]) in shown(at.caption)
    at = button(at, "Mark all read").click().run()
    assert "Inbox" in nav_pages(at) and "Inbox (2)" not in nav_pages(at)
    with Session(dashboard_db.engine) as session:
        assert unread_count(session=session, staff_id=dashboard_db.staff["agent1"]) == 0
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "notifications.read")).one()
        assert event.actor == "agent1"
    # Another person's inbox is theirs alone.
    assert "Inbox" in nav_pages(app_as(dashboard_db, "admin1", monkeypatch, page="Inbox"))


def test_one_notification_marked_read_and_its_item_opened(dashboard_db, monkeypatch) -> None:
    _notify_agent(dashboard_db, ["only warning"])
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Inbox")
    assert not at.exception
    at = button(at, "Mark read").click().run()
    assert "Inbox (1)" not in nav_pages(at)
    at = button(at, f"Open #{dashboard_db.items['complaint']}").click().run()
    assert current_url_path(at) == "item"


def test_a_spike_alert_links_to_its_topic_and_opens_it(dashboard_db, monkeypatch) -> None:
    with Session(dashboard_db.engine) as session:
        summary = "Loyalty and membership: 9 posts in 1 h"
        alert = Alert(
            kind="volume", scope="topic:loyalty", started_at=utcnow(), observed=9, expected=1,
            explanation={"summary": summary},
        )  # fmt: skip
        old = Alert(
            kind="volume", scope="topic:app", started_at=utcnow() - timedelta(days=10),
            ended_at=utcnow() - timedelta(days=9), explanation={"summary": "an episode of last month"},
        )  # fmt: skip
        session.add_all([alert, old])
        session.flush()
        notify(
            [staff_row(dashboard_db, "agent1")], session=session, kind="alert.spike", subject=f"alert:{alert.id}",
            event="start", text="Loyalty and membership: 9 posts in 1 h", now=utcnow(), alert_id=alert.id,
        )  # fmt: skip
        session.commit()
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Inbox")
    assert not at.exception
    # The same address the alert's e-mail carries: the topic's own page, not the Topics page at large.
    assert topic_url(dashboard_db.settings.dashboard.base_url, "loyalty") in shown(at.caption)
    at = button(at, "Open topic").click().run()
    assert not at.exception
    assert current_url_path(at) == "topics"
    assert at.selectbox(key="topic_pick").value == "loyalty"
    # The sidebar lists the open alert, and its button goes to the same page from anywhere.
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Inbox")
    sidebar = shown(at.sidebar.caption)
    assert any("volume spike · open since" in c and summary in c for c in sidebar), sidebar
    assert not any("last month" in c for c in sidebar)  # a week's alerts only
    at = button(at, "View topic").click().run()
    assert current_url_path(at) == "topics" and at.selectbox(key="topic_pick").value == "loyalty"


def test_an_agent_sets_themselves_away_and_saves_quiet_hours(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Inbox")
    at = button(at, "Set me away").click().run()
    assert staff_row(dashboard_db, "agent1").available is False
    assert "Set me available" in [b.label for b in at.button]
    at.text_input(key="pref_email").input("agent1@example.com")
    at.text_input(key="pref_qs").input("22:00")
    at.text_input(key="pref_qe").input("07:00")
    at = button(at, "Save my notification settings").click().run()
    agent = staff_row(dashboard_db, "agent1")
    assert not at.exception
    assert (agent.email, agent.quiet_start, agent.quiet_end) == ("agent1@example.com", "22:00", "07:00")
    at.text_input(key="pref_email").input("not an address")
    at = button(at, "Save my notification settings").click().run()
    assert any("not an e-mail address" in e for e in shown(at.error))
    assert staff_row(dashboard_db, "agent1").email == "agent1@example.com"


def test_admin_sees_who_is_available_away_and_last_seen(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Inbox")
    button(at, "Set me away").click().run()
    at = app_as(dashboard_db, "admin1", monkeypatch, page="Admin")
    assert not at.exception
    table = next(df.value for df in at.dataframe if "availability" in df.value.columns)
    by_name = dict(zip(table["username"], table["availability"], strict=True))
    assert by_name["agent1"] == "away"
    # The fixture's accounts were created, never logged in: auto-assignment passes them over.
    assert by_name["product1"] == "never logged in"
