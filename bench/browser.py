"""The dashboard's pages timed in a real browser (issue #18: queue page < 1.5 s, an item < 1 s at 1M posts).

    python -m bench.browser --url postgresql://postgres@127.0.0.1:5432/bench_1000000 --posts 1000000

The database is generated when it is not there yet (`bench.pieces.ensure_database`), an agent is
added to it (`bench.served.prepare`), and `dangol dashboard` serves it on a free port. Debian's
chromium, driven by playwright, logs in through the /login form once, then opens the queue page
and items by their URLs: one unmeasured visit first, then `--repeats` measured ones.

A visit's time is read in the page itself: `performance.now()` (ms since the navigation started)
in the first animation frame where the page shows what is waited for, polled every frame. So it
covers the request, Streamlit's scripts (cached after the first visit, as for a person working the
queue), the websocket, the app's run and drawing, and not playwright's own polling delays.
- queue `first_row`: the first "Open #N" button is on screen and enabled (clickable);
- item `content`: the post's text is on screen;
- `complete` (both): the app's run is over, the whole page drawn.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bench import pieces
from bench.machine import describe
from bench.served import PASSWORD, USERNAME, dangol_command, free_port, prepare, serving
from bench.timing import summarize_ms
from responder.queue import QueueFilters, list_queue
from responder.statuses import OPEN_STATUSES
from storage.engine import make_engine
from storage.models import Post, QueueItem

RESULTS = Path(__file__).parent / "results"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
WAIT_MS = 60_000

# Each returns performance.now() in the first frame where its condition holds, else false.
FIRST_ROW = r"""() => {
  for (const b of document.querySelectorAll('button')) {
    if (/^Open #\d+$/.test(b.innerText.trim()) && !b.disabled && b.getBoundingClientRect().height > 0) {
      return performance.now();
    }
  }
  return false;
}"""
# Streamlit marks its root with the state of the app's run: the page is complete when the run is over.
COMPLETE = r"""() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app && app.dataset.testScriptState === 'notRunning' ? performance.now() : false;
}"""
SHOWS_TEXT = r"""(text) => {
  const found = [...document.querySelectorAll('[data-testid="stText"]')].some(e => e.innerText.includes(text));
  return found ? performance.now() : false;
}"""


def items_to_open(url: str, count: int) -> list[tuple[int, str]]:
    """(item id, its post's text) for the first `count` open items in queue order: the items an
    agent opens from the first page."""
    engine = make_engine(url)
    with Session(engine) as session:
        page = list_queue(QueueFilters(status=list(OPEN_STATUSES)), session=session, page_size=count)
        out = []
        for item in page.items:
            post = session.get(Post, item.post_id)
            assert isinstance(item, QueueItem) and post is not None and item.id is not None
            out.append((item.id, post.text))
    engine.dispose()
    return out


def time_pages(base: str, items: list[tuple[int, str]], repeats: int) -> dict[str, Any]:
    """Log in, then time the queue page `repeats` times and `repeats` items (each after a warm-up visit).

    Each visit lasts until the app's run is over, so the next starts on a server that is not still
    drawing the page before (a person reads a page before leaving it)."""
    from playwright.sync_api import Page, sync_playwright

    def visit(page: Page, url: str, *conditions: tuple[str, Any]) -> list[float]:
        page.goto(url, wait_until="commit")
        return [
            float(page.wait_for_function(js, arg=arg, polling="raf", timeout=WAIT_MS).json_value())
            for js, arg in conditions
        ]

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        try:
            log_in(page, base)
            queue = [visit(page, f"{base}/queue", (FIRST_ROW, None), (COMPLETE, None)) for _ in range(repeats + 1)]
            opened = [visit(page, f"{base}/item?id={item_id}", (SHOWS_TEXT, text), (COMPLETE, None))
                      for item_id, text in (items * (repeats + 1))[: repeats + 1]]  # fmt: skip
        finally:
            browser.close()
    return {
        "queue_first_row": summarize_ms([t[0] for t in queue[1:]], digits=1),
        "queue_complete": summarize_ms([t[1] for t in queue[1:]], digits=1),
        "item_content": summarize_ms([t[0] for t in opened[1:]], digits=1),
        "item_complete": summarize_ms([t[1] for t in opened[1:]], digits=1),
        "warmup_ms": {"queue_first_row": round(queue[0][0], 1), "item_content": round(opened[0][0], 1)},
    }


def log_in(page: Any, base: str) -> None:
    """The /login form of dashboard/server.py, as a person fills it; the cookie it sets keeps the login."""
    page.goto(f"{base}/login?next=/queue")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Queue").wait_for(timeout=WAIT_MS)


def measure(url: str, config: Path, repeats: int, log_dir: Path) -> dict[str, Any]:
    """Serve `url` with `dangol dashboard` and time its pages; the database must hold open items."""
    database = prepare(url)
    items = items_to_open(url, repeats + 1)
    port = free_port()
    command = dangol_command(config, "dashboard", "--port", str(port), "--address", "127.0.0.1")
    env = {"DANGOL_DATABASE_URL": url}
    started = time.perf_counter()
    with serving(command, f"http://127.0.0.1:{port}", "/_stcore/health", env, log_dir / "dashboard.log") as served:
        served_s = time.perf_counter() - started
        timings = time_pages(served.url, items, repeats)
    return {"open_items": database.open_items, "server_start_s": round(served_s, 1), **timings}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the database (generated there when it is not the right size)")
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--config", type=Path, default=Path("config.toml"))
    parser.add_argument("--name", default="browser", help="results file: bench/results/<name>.json")
    parser.add_argument("--logs", type=Path, default=Path("var/bench"), help="where the server's log goes")
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"machine": describe(), "command": "python -m bench.browser " + shlex.join(argv)}
    result["database"] = pieces.ensure_database(args.url, args.posts)
    args.logs.mkdir(parents=True, exist_ok=True)
    result.update(measure(args.url, args.config, args.repeats, args.logs))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
