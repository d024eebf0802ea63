"""A replayed source built to break things goes through collect, analyze, route, suggestions, the
weekly report, feeds, the CSV export and spike detection: nothing crashes, nothing unescaped leaves.
Then the hostile authors are erased as customers: nothing of theirs is left in any table or file."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dangol import pipeline
from dangol.core.settings import Settings, load_settings
from reports.alerts import detect_spikes
from reports.feeds import topic_csv, write_feeds
from reports.weekly import build_weekly, render_html, write_weekly
from responder.suggest import suggest
from storage.models import DeadLetter, Post, QueueItem, Source
from tests.conftest import an_admin

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
AT = datetime(2026, 11, 18, 10, tzinfo=UTC)

HOSTILE = [
    ('=HYPERLINK("http://evil.example","click") my order never arrived', "<img src=x onerror=alert(1)>", 3_000_000_000),
    ("\x1b[2J\x1b]0;pwned\x07 the app keeps crashing \x08\x08", "@everyone", 10),
    ("refund " + "a" * 300_000 + " jane@example.com", "x" * 500, 5),
    ("javascript:alert(document.cookie) was charged twice", "Grace", 20),
    ("주문한 커피가 안 왔어요 =cmd|' /C calc'!A0 \u202eevil", "한소희", 7),
]


def hostile_page(folder: Path) -> None:
    tweets, users = [], []
    for n, (text, name, followers) in enumerate(HOSTILE):
        users.append({"id": f"u{n}", "username": f"hostile{n}", "name": name,
                      "public_metrics": {"followers_count": followers}})  # fmt: skip
        tweets.append({"id": str(10**15 + n), "author_id": f"u{n}", "text": text, "lang": "en",
                       "created_at": (AT + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                       "public_metrics": {"like_count": 10**12, "retweet_count": 0, "reply_count": 0}})  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    # A NaN and an infinity in the payload (Python's json reads them; PostgreSQL's json refuses them).
    tweets[0]["public_metrics"]["impression_count"], tweets[1]["geo"] = float("nan"), {"lat": float("inf")}
    body = {"data": tweets, "includes": {"users": users}, "meta": {"result_count": len(tweets)}}
    (folder / "page-0001.json").write_text(json.dumps(body, ensure_ascii=False))
    # Then a page nested far deeper than a JSON reader recurses: a dead letter, and the source goes on.
    (folder / "page-0002.json").write_text("[" * 100_000 + "]" * 100_000)


def test_a_hostile_source_goes_through_everything_and_nothing_unescaped_leaves(database_url, tmp_path) -> None:
    hostile_page(tmp_path / "pages")
    source = {"use": "replay", "platform": "x", "path": str(tmp_path / "pages")}
    settings = load_settings(
        REPO / "config.toml",
        overrides={
            "database": {"url": database_url},
            "sources": {name: {"enabled": False} for name in load_settings(REPO / "config.toml").sources}
            | {"hostile": source},
            "reports": {"out_dir": str(tmp_path / "reports"), "feeds_dir": str(tmp_path / "feeds")},
        },
    )
    from storage.engine import make_engine

    engine = make_engine(database_url)
    [run] = pipeline.collect(settings, engine)
    assert (run.status, run.new_posts) == ("ok", len(HOSTILE)), run
    pipeline.analyze(settings, engine)
    pipeline.route(settings, engine)
    now = AT + timedelta(days=6)
    with Session(engine) as session:
        assert session.exec(select(Source)).one().last_error is None  # the source keeps collecting
        letters = session.exec(select(DeadLetter)).all()
        assert [d.reason for d in letters] == ["response is nested too deeply to read as JSON"]
        for raw in session.exec(select(Post.raw)).all():  # strict JSON: NaN and infinity stored as null
            json.loads(raw or "{}", parse_constant=lambda constant: pytest.fail(f"{constant} stored in a payload"))
        items = list(session.exec(select(QueueItem)))
        assert items, "the complaints reached the queue"
        for item in items:
            for suggestion in suggest(item.id or 0, session=session):
                assert "<img" not in suggestion.text and "@everyone" not in suggestion.text
                assert "한소희" not in suggestion.text or "한소희" in _author_name(session, item)
        longest = max(len(p.text) for p in session.exec(select(Post)))
        assert longest > 300_000  # stored whole; only analysis reads the first part
        report = build_weekly(session=session, settings=settings, week="2026-W47", now=now)
        html = render_html(report)
        assert "<img src=x" not in html and 'href="javascript' not in html
        write_weekly(report, settings.reports.out_dir)
        paths = write_feeds(session=session, settings=settings, out_dir=tmp_path / "feeds", now=now)
        for path in (p for p in paths if p.suffix == ".atom"):
            ET.parse(path)  # valid XML: no control character broke it
        for topic in settings.topics:
            text = topic_csv(topic, session=session, since=AT - timedelta(days=1), until=now)
            cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
            assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], topic
        detect_spikes(session=session, settings=settings, now=now)
        _note_suggestions(session, items, settings)
        session.commit()
    _erase_hostile_customers(engine, settings)
    engine.dispose()


ERASED = (0, 2, 4)  # the formula with the <img> name, the 300 KB post, the Korean one with RTL override


def _note_suggestions(session: Session, items: list[QueueItem], settings: Settings) -> None:
    """Staff keep each item's first suggested reply (it greets the author by name) as a note."""
    from responder.accounts.staff import create_staff
    from responder.queue import add_note

    agent = create_staff(session=session, username="amy", password="amy-pass-1234", role="admin", team="support")
    for item in items:
        suggestions = suggest(item.id or 0, session=session)
        if suggestions:
            add_note(item.id or 0, suggestions[0].text, actor=agent, session=session)


def _erase_hostile_customers(engine: Engine, settings: Settings) -> None:
    """Three hostile authors turn out to be customers who ask to be erased; two stay."""
    from reports.erasure import erase_customer
    from storage.models import Author, Customer, IdentityLink
    from storage.privacy import export_customer
    from tests.reliability.traces import traces

    folders = [Path(settings.reports.out_dir), Path(settings.reports.feeds_dir)]
    with Session(engine) as session:
        customers = {}
        for n in ERASED:
            author = session.exec(select(Author).where(Author.handle == f"hostile{n}")).one()
            customers[n] = Customer(name=f"Hostile Customer {n}", email=f"hostile{n}@example.com", phone=f"010-{n}")
            session.add(customers[n])
            session.flush()
            session.add(IdentityLink(author_id=author.id, customer_id=customers[n].id, method="manual", confidence=1.0))
        session.commit()
        theirs = {f"hostile{n}@example.com" for n in ERASED} | {f"Hostile Customer {n}" for n in ERASED}
        for n in ERASED:
            text, name, _ = HOSTILE[n]
            theirs |= {f"hostile{n}", text, name}
            assert export_customer(customers[n].id or 0, session=session)["posts"]  # an export works first
        before = traces(theirs, engine, folders)
        assert any(p.startswith("file ") for places in before.values() for p in places), before
        for customer in customers.values():
            erase_customer(customer.id or 0, session=session, settings=settings, actor=an_admin(session))
        session.commit()
    left = traces(theirs, engine, folders)
    assert not left, {identifier[:40]: places for identifier, places in left.items()}
    stayed = traces({"hostile1", "hostile3", HOSTILE[3][0]}, engine, folders)
    assert set(stayed) == {"hostile1", "hostile3", HOSTILE[3][0]}, stayed  # the others are still there


def _author_name(session: Session, item: QueueItem) -> str:
    from storage.models import Author

    post = session.get(Post, item.post_id)
    author = session.get(Author, post.author_id) if post else None
    return author.display_name if author else ""
