"""The live queue and presence in a real browser: two people (two browser contexts) on one
dashboard served by `streamlit run`, the refresh interval set short.

B opens the item A has open and sees A there (and typing, once A's reply box holds text); A sees
B's claim without a click; a queue item routed meanwhile appears on A's queue without a click.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from .conftest import DashboardDb, add_queue_item
from .test_browser_e2e import CHROMIUM_ARGS, _serve, log_in, open_item, save_screenshots

pytestmark = pytest.mark.browser
REFRESH = 2  # seconds; presence goes stale after 3× that
# Within a few refreshes on a loaded two-core machine, far less than the click-driven page would need (never).
LIVE_MS = 12_000


@pytest.fixture
def served_live(tmp_path: Path) -> Iterator[tuple[str, DashboardDb]]:
    lines = {"refresh_seconds = 15": f"refresh_seconds = {REFRESH}",
             "presence_stale_seconds = 30": f"presence_stale_seconds = {3 * REFRESH}"}  # fmt: skip
    yield from _serve(tmp_path, "app.py", lines)


def test_two_people_see_each_other_and_new_items_without_a_click(served_live, request) -> None:
    url, db = served_live
    item = db.items["complaint"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        pages: list[Page] = []
        try:
            a = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            b = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            pages += [a, b]
            log_in(a, url, "agent1")
            # A new item routed while A looks at the queue shows up, marked, with no click.
            new_id = add_queue_item(db, 20, "The app charged me twice for one order.", "charged_twice")
            expect(a.get_by_role("button", name=f"Open #{new_id}")).to_be_visible(timeout=LIVE_MS)
            expect(a.get_by_text("1 new since you looked")).to_be_visible(timeout=LIVE_MS)
            open_item(a, item)
            log_in(b, url, "admin1")
            open_item(b, item)
            expect(b.get_by_text(re.compile(r"^👥 Also here: agent1$"))).to_be_visible(timeout=LIVE_MS)
            expect(a.get_by_text(re.compile(r"^👥 Also here: admin1$"))).to_be_visible(timeout=LIVE_MS)
            # A writes a reply and leaves the box (Streamlit learns the text then): B sees A typing.
            a.get_by_label("Your reply").fill("Sorry, we are checking your order now.")
            a.get_by_label("Your reply").press("Tab")
            expect(b.get_by_text("👥 Also here: agent1 (typing…)", exact=True)).to_be_visible(timeout=LIVE_MS)
            # B claims: A's page says so on its next refresh, without A clicking anything.
            b.get_by_role("button", name=re.compile(r"^Claim\b")).click()
            expect(b.get_by_text("Claimed")).to_be_visible(timeout=LIVE_MS)
            expect(a.get_by_text("Someone else is working on this: admin1", exact=False)).to_be_visible(timeout=LIVE_MS)
            # A's typed reply survived every refresh.
            expect(a.get_by_label("Your reply")).to_have_value("Sorry, we are checking your order now.")
        except Exception:
            save_screenshots(pages, request.node.name)
            raise
        finally:
            browser.close()
