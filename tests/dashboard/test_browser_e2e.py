"""The dashboard in a real browser: Debian's chromium driven by playwright against `streamlit run`.

An agent logs in, opens the top queue item, picks a suggested reply and sends it (dry-run); a post
full of markup stays literal text; a product user logs in and is refused queue actions.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from sqlmodel import Session, select

from storage.models import QueueItem, Reply
from tests.loopback import free_port, wait_until_healthy

from .conftest import PASSWORDS, PRESS_TEXT, REPO, DashboardDb, build_dashboard_db

pytestmark = pytest.mark.browser
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 20_000


def save_screenshots(pages: list[Page], name: str) -> None:
    """Whole-page screenshots of a failed browser test, kept in test-artifacts/ for CI."""
    ARTIFACTS.mkdir(exist_ok=True)
    for n, page in enumerate(pages):
        page.screenshot(path=str(ARTIFACTS / f"{name}-{n}.png"), full_page=True)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, DashboardDb]]:
    yield from _serve(tmp_path, "app.py")


@pytest.fixture
def served_kept(tmp_path: Path) -> Iterator[tuple[str, DashboardDb]]:
    """The dashboard as `dangol dashboard` serves it: dashboard/server.py, logins kept by cookie."""
    yield from _serve(tmp_path, "server.py")


def _serve(tmp_path: Path, entry: str, config_lines: dict[str, str] | None = None) -> Iterator[tuple[str, DashboardDb]]:
    db = build_dashboard_db(tmp_path, config_lines)
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(REPO / "dashboard" / entry),
               "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
               "--", "--config", str(db.config)]  # fmt: skip
    env = {**os.environ, "DANGOL_CONFIG": str(db.config)}
    log = (tmp_path / "streamlit.log").open("wb")
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        yield url, db
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
        db.engine.dispose()


def log_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Queue")).to_be_visible(timeout=WAIT_MS)


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible(timeout=WAIT_MS)


def click_until(page: Page, name: str, check: Callable[[int], None], attempts: int = 3) -> None:
    """Click a button until `check(timeout_ms)` passes: a click that lands while Streamlit is
    redrawing can hit an element being replaced. Only for buttons that are safe to repeat."""
    for attempt in range(attempts):
        page.get_by_role("button", name=name, exact=True).click()
        try:
            check(WAIT_MS // attempts)
            return
        except AssertionError:
            if attempt == attempts - 1:
                raise


def open_item(page: Page, item_id: int) -> None:
    heading = page.get_by_role("heading", name="Item")
    click_until(page, f"Open #{item_id}", lambda ms: expect(heading).to_be_visible(timeout=ms))
    expect(page.get_by_text(f"#{item_id}", exact=True)).to_be_visible(timeout=WAIT_MS)


def test_agent_replies_markup_stays_inert_and_product_user_is_offered_no_actions(served, request) -> None:
    url, db = served
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        try:
            _agent_replies(page, url, db)
            _markup_is_inert(page, db)
            log_out(page)
            _product_is_refused(page, url, db)
        except Exception:
            save_screenshots([page], request.node.name)
            raise
        finally:
            browser.close()
    assert dialogs == [], f"a script ran in the page: {dialogs}"


def _agent_replies(page: Page, url: str, db: DashboardDb) -> None:
    log_in(page, url, "agent1")
    top = page.get_by_role("button", name="Open #").first
    expect(top).to_have_text(f"Open #{db.items['complaint']}")
    open_item(page, db.items["complaint"])
    page.get_by_role("radiogroup").get_by_text("1.", exact=False).first.click()
    reply_box = page.get_by_label("Your reply")
    click_until(page, "Use this suggestion", lambda ms: expect(reply_box).not_to_have_value("", timeout=ms))
    page.get_by_role("button", name="Send (dry-run)").click()
    expect(page.get_by_text("Reply sent (dry run: nothing was posted)")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("status replied", exact=False)).to_be_visible(timeout=WAIT_MS)
    with Session(db.engine) as session:
        assert session.get(QueueItem, db.items["complaint"]).status == "replied"
        assert session.exec(select(Reply.dry_run)).one() is True


def _markup_is_inert(page: Page, db: DashboardDb) -> None:
    page.get_by_label("Item id").fill(str(db.items["xss"]))
    page.get_by_label("Item id").press("Enter")
    post = page.get_by_text("<script>alert(1)</script> look ![pic](http://127.0.0.1:9/x.png)", exact=False)
    expect(post.first).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("[click me](javascript:alert(2)) **bold**", exact=False).first).to_be_visible()
    expect(page.get_by_text("<b>markup_fan</b>", exact=False).first).to_be_visible()
    assert page.locator("img[src*='127.0.0.1:9']").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("b", has_text="markup_fan").count() == 0


def _product_is_refused(page: Page, url: str, db: DashboardDb) -> None:
    log_in(page, url, "product1")
    read_only = page.get_by_text("Read-only: queue actions are not part of your role (product)", exact=False)
    expect(read_only).to_be_visible()
    expect(page.get_by_role("button", name="Apply to chosen items")).to_have_count(0)
    open_item(page, db.items["question"])
    expect(page.get_by_text("you can read this item only", exact=False)).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_role("button", name="Claim")).to_have_count(0)
    with Session(db.engine) as session:
        assert session.get(QueueItem, db.items["question"]).assignee_id is None
    page.goto(f"{url}/customers")  # a link to a page the role may not open: told, not silently elsewhere
    page.get_by_role("textbox", name="Username").fill("product1")
    page.get_by_role("textbox", name="Password").fill(PASSWORDS["product1"])
    page.get_by_role("button", name="Log in").click()
    told = page.get_by_text("Customers is not open to your role (product); here is Queue instead.")
    expect(told).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()


def test_an_item_link_opened_logged_out_lands_on_the_item_after_login(served, request) -> None:
    from dangol.core.links import item_url

    url, db = served
    item_id = db.items["press"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            # The link exactly as an alert or e-mail builds it, with the served address as base_url.
            page.goto(item_url(url, item_id))
            page.get_by_role("textbox", name="Username").fill("agent1")
            page.get_by_role("textbox", name="Password").fill(PASSWORDS["agent1"])
            expect(page.get_by_text(PRESS_TEXT[:40], exact=False)).to_have_count(0)  # nothing before the login
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", name="Item")).to_be_visible(timeout=WAIT_MS)
            expect(page.get_by_text(f"#{item_id}", exact=True)).to_be_visible(timeout=WAIT_MS)
            expect(page.get_by_text(PRESS_TEXT[:40], exact=False).first).to_be_visible(timeout=WAIT_MS)
            assert page.url == item_url(url, item_id)
            # The menu holds the agent's pages at their own paths, and none of the admin's.
            nav = page.get_by_test_id("stSidebarNav")
            expect(nav.get_by_role("link", name="Queue")).to_have_attribute("href", f"{url}/queue")
            expect(nav.get_by_role("link", name="Admin")).to_have_count(0)
        except Exception:
            save_screenshots([page], request.node.name)
            raise
        finally:
            browser.close()


def test_a_kept_login_survives_a_reload_and_logout_ends_it(served_kept, request) -> None:
    import httpx

    from dangol.core.links import item_url
    from storage.models import DashboardSession

    url, db = served_kept
    item_id = db.items["complaint"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        try:
            page.goto(item_url(url, item_id))  # logged out: sent to the login form, `next` kept
            assert page.url.startswith(f"{url}/login?next=")
            page.get_by_label("Username").fill("agent1")
            page.get_by_label("Password").fill(PASSWORDS["agent1"])
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", name="Item")).to_be_visible(timeout=WAIT_MS)
            expect(page.get_by_text(f"#{item_id}", exact=True)).to_be_visible(timeout=WAIT_MS)
            assert page.url == item_url(url, item_id)
            [cookie] = [c for c in context.cookies() if c["name"] == "dangol_session"]
            assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
            assert "dangol_session" not in page.evaluate("document.cookie")  # the page's scripts cannot read it
            assert cookie["value"] not in page.url
            page.reload()
            expect(page.get_by_text(f"#{item_id}", exact=True)).to_be_visible(timeout=WAIT_MS)
            expect(page.get_by_role("button", name="Log out")).to_be_visible()
            page.get_by_role("button", name="Log out").click()
            expect(page.get_by_text("You are logged out")).to_be_visible(timeout=WAIT_MS)
            with Session(db.engine) as session:
                assert session.exec(select(DashboardSession.revoked_at)).one() is not None
            page.reload()  # the browser still holds the cookie; the server no longer honours it
            expect(page.get_by_label("Password")).to_be_visible(timeout=WAIT_MS)
            assert page.url.startswith(f"{url}/login?next=")
        except Exception:
            save_screenshots([page], request.node.name)
            raise
        finally:
            browser.close()
    # A login posted from another site is refused before the password is even checked.
    form = {"username": "agent1", "password": PASSWORDS["agent1"], "next": "/"}
    refused = httpx.post(f"{url}/login", data=form, headers={"Origin": "https://evil.test"})
    assert refused.status_code == 403 and "dangol_session" not in refused.cookies
    # `next` leads only to a path on this site, never to another one (an open redirect).
    for hostile in ("//evil.test/x", "https://evil.test/", "/\\evil.test"):
        form_page = httpx.get(f"{url}/login", params={"next": hostile}).text
        assert 'name="next" value="/"' in form_page, hostile
    kept = httpx.get(f"{url}/login", params={"next": "/item?id=3"}).text
    assert 'name="next" value="/item?id=3"' in kept


def test_at_1024_px_queue_open_buttons_read_whole_and_the_item_page_explains_its_shortcuts(served, request) -> None:
    url, db = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1024, "height": 768})
        try:
            log_in(page, url, "agent1")
            buttons = page.get_by_role("button", name=re.compile(r"^Open #\d+$"))
            expect(buttons).to_have_count(len(db.items), timeout=WAIT_MS)
            for button in buttons.all():
                label = button.get_by_test_id("stMarkdownContainer")
                # Streamlit cuts a label too wide for its button with an ellipsis ("Open…"): the
                # text is then wider than the box that shows it.
                widths = label.evaluate("e => [e.scrollWidth, e.clientWidth]")
                assert widths[0] <= widths[1], f"{button.inner_text()!r} is cut: {widths}"
            open_item(page, db.items["complaint"])
            page.get_by_role("button", name="Shortcuts", exact=True).click()
            for keys, what in (("Alt+N", "next item (yours first, then unassigned ones you can answer)"),
                               ("Alt+A", "claim this item"), ("Ctrl+Enter (⌘+Enter)", "send the reply"),
                               ("Alt+X", "close this item")):  # fmt: skip
                row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=what, exact=True))
                expect(row.get_by_role("cell", name=keys, exact=True)).to_be_visible(timeout=WAIT_MS)
        except Exception:
            save_screenshots([page], request.node.name)
            raise
        finally:
            browser.close()
