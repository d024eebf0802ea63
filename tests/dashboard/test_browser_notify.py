"""Being told about something, then acting on it, in a real browser (Debian's chromium via playwright).

An alert e-mail, caught by a loopback SMTP server, carries an item link built from
`[dashboard] base_url`; opened logged out it asks for the login, then shows that item. An agent
sends a reply that needs a PR reviewer; the reviewer, logged in in another browser context, sees
the Inbox count rise and the notification's link to the item, opens it and approves the reply.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from sqlmodel import Session, select

from dangol.core.links import item_url
from dangol.core.types import utcnow
from storage.engine import session_scope
from storage.models import Alert, Notification, QueueItem, Reply
from tests.loopback import smtp_server

from .conftest import PASSWORDS, PRESS_TEXT, DashboardDb
from .test_browser_e2e import CHROMIUM_ARGS, WAIT_MS, _serve, log_in, open_item, save_screenshots

pytestmark = pytest.mark.browser


@pytest.fixture
def served_kept(tmp_path: Path) -> Iterator[tuple[str, DashboardDb]]:
    """As `dangol dashboard` serves it (dashboard/server.py): a logged-out visit goes to /login?next=."""
    yield from _serve(tmp_path, "server.py")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, DashboardDb]]:
    # A short refresh, so the menu's unread count is seen to follow without a click.
    yield from _serve(tmp_path, "app.py", {"refresh_seconds = 15": "refresh_seconds = 2",
                                           "presence_stale_seconds = 30": "presence_stale_seconds = 6"})  # fmt: skip


def _email_alert_about_the_press_post(db: DashboardDb, base_url: str) -> str:
    """Raise an alert whose explanation lists the press post, send it by e-mail as the worker does
    (reports.alerts.notify_alerts) to a loopback SMTP server, and return the message's text."""
    from reports.alerts import notify_alerts
    from storage.models import Post

    settings = db.settings.model_copy(deep=True)
    # The address the e-mail's links start with: the dashboard this test serves.
    settings.dashboard.base_url = base_url
    with smtp_server() as (port, received):
        settings.reports.smtp_host, settings.reports.smtp_port = "127.0.0.1", port
        settings.reports.smtp_tls = "none"  # the loopback test server speaks plain SMTP
        settings.reports.email_to = ["pr@maru.test"]
        settings.reports.webhook_url = None
        with session_scope(db.engine) as session:
            post_id = session.exec(select(Post.id).where(Post.external_id == "fx4")).one()
            explanation = {
                "summary": "delivery complaints up 4x",
                "posts": [{"post_id": post_id, "handle": "reporter", "platform": "x", "reach": 300,
                           "text": PRESS_TEXT}],
            }  # fmt: skip
            session.add(Alert(kind="volume", scope="topic:delivery", started_at=utcnow(), explanation=explanation))
            session.flush()
            assert len(notify_alerts(session=session, settings=settings)) == 1
    [message] = received.messages
    assert "spike" in message["Subject"] and message["To"] == "pr@maru.test"
    return str(message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8"))


def test_an_item_link_in_an_alert_email_opened_logged_out_lands_on_the_item(served_kept, request) -> None:
    url, db = served_kept
    item_id = db.items["press"]
    text = _email_alert_about_the_press_post(db, url)
    links = re.findall(rf"{re.escape(url)}/item\?id=\d+", text)
    assert links == [item_url(url, item_id)], text  # the e-mail's own link, not one this test builds
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        try:
            page.goto(links[0])
            assert page.url.startswith(f"{url}/login?next=")  # logged out: the login first
            expect(page.get_by_text(PRESS_TEXT[:40], exact=False)).to_have_count(0)
            page.get_by_label("Username").fill("reviewer1")
            page.get_by_label("Password").fill(PASSWORDS["reviewer1"])
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", name="Item")).to_be_visible(timeout=WAIT_MS)
            expect(page.get_by_text(f"#{item_id}", exact=True)).to_be_visible(timeout=WAIT_MS)
            expect(page.get_by_text(PRESS_TEXT[:40], exact=False).first).to_be_visible(timeout=WAIT_MS)
            assert page.url == links[0]
        except Exception:
            save_screenshots([page], request.node.name)
            raise
        finally:
            browser.close()


def test_a_reviewer_is_told_of_a_reply_waiting_opens_the_item_and_approves_it(served, request) -> None:
    url, db = served
    item_id = db.items["press"]  # the post says "journalist" and "press": a reply to it needs a reviewer
    answer = "Thank you for asking. Our press office will send you a statement today."
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        pages: list[Page] = []
        try:
            reviewer = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            agent = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            pages += [reviewer, agent]
            log_in(reviewer, url, "reviewer1")
            menu = reviewer.get_by_test_id("stSidebarNav")
            expect(menu.get_by_role("link", name="Inbox", exact=True)).to_be_visible()  # nothing unread yet
            # The agent answers; the reply waits for a reviewer instead of going out.
            log_in(agent, url, "agent1")
            open_item(agent, item_id)
            agent.get_by_label("Your reply").fill(answer)
            agent.get_by_label("Your reply").press("Tab")
            expect(agent.get_by_text("Needs approval:", exact=False)).to_be_visible(timeout=WAIT_MS)
            agent.get_by_role("button", name="Send for approval").click()
            expect(agent.get_by_text("Sent for approval")).to_be_visible(timeout=WAIT_MS)
            with Session(db.engine) as session:
                reply = session.exec(select(Reply).where(Reply.queue_item_id == item_id)).one()
                assert reply.status == "pending_approval"
            # Without a click, the reviewer's menu shows the count risen within a refresh (the
            # fixture's refresh is 2 s); the Inbox lists the notification with its link.
            expect(menu.get_by_role("link", name="Inbox (1)", exact=True)).to_be_visible(timeout=WAIT_MS)
            menu.get_by_role("link", name="Inbox (1)", exact=True).click()
            expect(reviewer.get_by_role("heading", name="Inbox · 1 unread")).to_be_visible(timeout=WAIT_MS)
            note = f"A reply to queue item #{item_id} waits for approval"
            expect(reviewer.get_by_text(note, exact=False)).to_be_visible(timeout=WAIT_MS)
            expect(reviewer.get_by_text(item_url(db.settings.dashboard.base_url, item_id), exact=True)).to_be_visible()
            # Opening it from the inbox shows the item, waiting for approval.
            open_item(reviewer, item_id)
            expect(reviewer.get_by_text("status pending_approval", exact=False)).to_be_visible(timeout=WAIT_MS)
            expect(reviewer.get_by_text(answer, exact=True)).to_be_visible(timeout=WAIT_MS)
            # …and approving it sends it (dry run: nothing posted) and tells the agent.
            menu.get_by_role("link", name="Approvals", exact=True).click()
            expect(reviewer.get_by_role("button", name=f"Open item #{item_id}")).to_be_visible(timeout=WAIT_MS)
            reviewer.get_by_role("button", name="Approve", exact=True).click()  # not repeated: it sends
            told = f"Reply #{reply.id} approved and sent (dry run: nothing was posted)"
            expect(reviewer.get_by_text(told)).to_be_visible(timeout=WAIT_MS)
        except Exception:
            save_screenshots(pages, request.node.name)
            raise
        finally:
            browser.close()
    with Session(db.engine) as session:
        sent = session.get(Reply, reply.id)
        assert sent is not None and sent.reviewer_id == db.staff["reviewer1"]
        assert (sent.status, sent.dry_run) == ("sent", True)
        assert session.get(QueueItem, item_id).status == "replied"
        told = session.exec(select(Notification.kind).where(Notification.recipient_id == db.staff["agent1"])).all()
        assert "reply.approved" in told
