"""Complaint-topic feeds (Atom, JSON Feed 1.1), the CSV export and the feed digest webhook."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from dangol.core.settings import Settings
from reports.feeds import TopicFeed, build_feeds, digest_text, topic_csv, write_feeds
from reports.notify import post_webhook

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"


def _delivery_week(world) -> None:
    """Three late-delivery posts in one cluster, one other delivery complaint, noise elsewhere."""
    for i, followers in enumerate((10, 5000, 20)):
        world.post(
            NOW - timedelta(hours=5 + i),
            sentiment="negative",
            topic="delivery",
            cluster_key="late-1",
            followers=followers,
            text=f"my order never arrived #{i}",
        )
    world.post(NOW - timedelta(days=2), sentiment="negative", topic="delivery", text="driver left it at the wrong door")
    world.post(NOW - timedelta(days=1), sentiment="positive", topic="delivery", complaint=False, text="fast delivery!")
    world.post(NOW - timedelta(days=9), sentiment="negative", topic="delivery", text="last week's complaint")
    world.post(NOW - timedelta(days=1), sentiment="negative", topic="billing", text="charged twice")


def _delivery_feed(world, session: Session, settings: Settings) -> TopicFeed:
    _delivery_week(world)
    session.commit()
    return next(f for f in build_feeds(session=session, settings=settings, now=NOW) if f.key == "delivery")


def test_near_duplicates_appear_once_as_their_highest_reach_post(world, session: Session, settings: Settings) -> None:
    delivery = _delivery_feed(world, session, settings)
    assert [(i.post.text, i.cluster_size) for i in delivery.items] == [
        ("my order never arrived #1", 3),
        ("driver left it at the wrong door", 1),
    ]
    assert (delivery.posts, delivery.clusters, delivery.previous_posts, delivery.trend) == (4, 2, 1, "rising")


def test_a_one_day_feed_window_leaves_out_an_older_complaint(world, session: Session, settings: Settings) -> None:
    settings.reports.feed_days = 1
    delivery = _delivery_feed(world, session, settings)
    assert [i.post.text for i in delivery.items] == ["my order never arrived #1"]
    assert (delivery.posts, delivery.previous_posts) == (3, 1)  # the wrong-door one, two days ago
    assert "in the last 1 day," in delivery.summary


def _counted_feed(posts: int, previous: int) -> TopicFeed:
    return TopicFeed(
        key="app", name="App", description="", since=NOW - timedelta(days=7), until=NOW,
        posts=posts, clusters=posts, previous_posts=previous, items=[],
    )  # fmt: skip


def test_a_change_from_a_small_count_is_told_in_counts_not_as_a_percentage() -> None:
    # The demo's app topic said "rising: +6000% vs the previous 7 days (1)".
    changes = {
        (61, 1): "rising: from 1 in the previous 7 days.",
        (2, 9): "falling: from 9 in the previous 7 days.",
        (15, 10): "rising: +50% vs the previous 7 days (10).",
        (1, 0): "rising: new, none in the previous 7 days.",
        (3, 3): "steady: same as the previous 7 days (3).",
    }
    for (posts, previous), change in changes.items():
        counts = f"{posts} complaint{'' if posts == 1 else 's'} ({posts} distinct) in the last 7 days"
        assert _counted_feed(posts, previous).summary == f"{counts}, {change}"


def test_feed_items_are_capped_at_the_configured_number(world, session: Session, settings: Settings) -> None:
    settings.reports.feed_items = 1
    delivery = _delivery_feed(world, session, settings)
    assert [i.post.text for i in delivery.items] == ["my order never arrived #1"]
    assert delivery.clusters == 2


def test_every_configured_topic_gets_an_atom_and_a_json_feed(
    world, session: Session, settings: Settings, tmp_path: Path
) -> None:
    _delivery_week(world)
    session.commit()
    paths = write_feeds(session=session, settings=settings, out_dir=tmp_path, now=NOW)
    assert sorted(p.name for p in paths) == sorted(f"{k}.{ext}" for k in settings.topics for ext in ("atom", "json"))
    atom = ET.parse(tmp_path / "delivery.atom").getroot()
    assert atom.tag == f"{ATOM}feed"
    entries = atom.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "my order never arrived #1 (×3)",
        "driver left it at the wrong door",
    ]
    assert "4 complaints (2 distinct)" in (atom.findtext(f"{ATOM}subtitle") or "")
    feed = json.loads((tmp_path / "delivery.json").read_text(encoding="utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["_dangol"] | {} == feed["_dangol"] and feed["_dangol"]["posts"] == 4
    assert [item["_dangol"]["cluster_size"] for item in feed["items"]] == [3, 1]
    assert all({"id", "content_text", "date_published"} <= item.keys() for item in feed["items"])
    empty = json.loads((tmp_path / "loyalty.json").read_text(encoding="utf-8"))
    assert empty["items"] == [] and empty["_dangol"]["trend"] == "steady"


def test_topic_csv_exports_every_post_of_the_topic_in_the_window(world, session: Session) -> None:
    _delivery_week(world)
    world.post(
        NOW - timedelta(hours=1), sentiment="negative", topic="delivery", text='quote "this", and, commas\n2nd line'
    )
    session.commit()
    text = topic_csv("delivery", session=session, since=NOW - timedelta(days=7), until=NOW)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 6
    assert rows[0]["text"] == 'quote "this", and, commas\n2nd line'
    assert {r["primary_topic"] for r in rows} == {"delivery"}
    assert "fast delivery!" in {r["text"] for r in rows}


def test_feed_digest_is_posted_to_a_slack_compatible_webhook(
    world, session: Session, settings: Settings, webhook
) -> None:
    _delivery_week(world)
    session.commit()
    url, received = webhook
    post_webhook(url, digest_text(build_feeds(session=session, settings=settings, now=NOW), settings))
    assert len(received.bodies) == 1
    assert list(received.bodies[0]) == ["text"]
    assert "Delivery: 4 complaints" in received.bodies[0]["text"]


def test_a_topic_added_on_the_admin_page_gets_a_feed_and_a_retired_one_loses_it(
    world, session: Session, settings: Settings
) -> None:
    from storage.models import ComplaintTopic

    world.post(NOW - timedelta(hours=2), sentiment="negative", topic="parking", text="nowhere to park again")
    session.add(ComplaintTopic(key="parking", name="Parking", description="no parking", examples=["no parking"]))
    session.add(ComplaintTopic(key="loyalty", name="Loyalty", enabled=False))
    session.commit()
    feeds = {f.key: f for f in build_feeds(session=session, settings=settings, now=NOW)}
    assert "loyalty" not in feeds
    assert (feeds["parking"].name, feeds["parking"].posts) == ("Parking", 1)


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(world, session: Session) -> None:
    hostile = ['=HYPERLINK("http://evil.example","click")', "=cmd|' /C calc'!A0", "+1+2", "-2+3", "@SUM(A1)"]
    for i, text in enumerate(hostile):
        world.post(NOW - timedelta(hours=i + 1), sentiment="negative", topic="delivery", text=text, handle=f"=h{i}")
    session.commit()
    rows = list(
        csv.DictReader(io.StringIO(topic_csv("delivery", session=session, since=NOW - timedelta(days=1), until=NOW)))
    )
    assert sorted(r["text"] for r in rows) == sorted("'" + t for t in hostile)
    assert all(r["author_handle"].startswith("'=") for r in rows)
    assert {r["followers"] for r in rows} == {"100"}  # numbers stay numbers


def test_only_web_links_leave_dangol_and_control_characters_do_not_break_the_atom_feed(
    world, session: Session, settings: Settings, tmp_path: Path
) -> None:
    hostile = "bell\x07 and escape\x1b[31m here"
    world.post(NOW - timedelta(hours=1), sentiment="negative", topic="delivery", text=hostile,
               url="javascript:alert(document.cookie)")  # fmt: skip
    world.post(NOW - timedelta(hours=2), sentiment="negative", topic="delivery", text="data link",
               url="data:text/html,<script>alert(1)</script>")  # fmt: skip
    session.commit()
    write_feeds(session=session, settings=settings, out_dir=tmp_path, now=NOW)
    atom = ET.parse(tmp_path / "delivery.atom").getroot()  # parses: nothing XML forbids is left
    links = [e.find(f"{ATOM}link").get("href") for e in atom.findall(f"{ATOM}entry")]  # type: ignore[union-attr]
    assert links and all(link.startswith(settings.dashboard.base_url) for link in links)
    assert "bell and escape[31m here" in (tmp_path / "delivery.atom").read_text(encoding="utf-8")
    text = topic_csv("delivery", session=session, since=NOW - timedelta(days=1), until=NOW)
    assert "javascript:" not in text and "data:text" not in text


def test_the_brands_own_posts_count_nowhere_as_customer_voice(
    world, session: Session, settings: Settings, tmp_path: Path
) -> None:
    from reports.alerts import detect_spikes
    from reports.weekly import build_weekly

    settings.brand.own_handles = ["x:marucoffee"]
    apology = "We're sorry the app crashed, a fix is coming"
    world.post(NOW - timedelta(hours=2), sentiment="negative", topic="app", text=apology, handle="marucoffee")
    world.post(NOW - timedelta(hours=3), sentiment="negative", topic="app", text="the app crashed", handle="kim")
    session.commit()
    [app] = [f for f in build_feeds(session=session, settings=settings, now=NOW) if f.key == "app"]
    assert [i.post.text for i in app.items] == ["the app crashed"] and app.posts == 1
    rows = list(
        csv.DictReader(io.StringIO(topic_csv("app", session=session, since=NOW - timedelta(days=1), until=NOW)))
    )
    assert [r["text"] for r in rows] == ["the app crashed"]
    report = build_weekly(session=session, settings=settings, week="2026-W47", now=NOW)
    assert apology not in [p.text for p in report.notable_negative]
    detect_spikes(session=session, settings=settings, now=NOW)  # runs on customer posts only, no error
    settings.brand.own_handles = []  # an account taken off the list counts again
    [app] = [f for f in build_feeds(session=session, settings=settings, now=NOW) if f.key == "app"]
    assert app.posts == 2
