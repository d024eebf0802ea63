"""Every message and document that mentions an item or a page links to it on the dashboard, built
by dangol.core.links from `[dashboard] base_url`: alerts (webhook and e-mail), feeds, the feed
digest, the weekly report and its e-mail."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol.core.links import PAGES, item_url, page_url, report_url, scope_url, topic_url
from dangol.core.settings import Settings, load_settings
from reports.alerts import notify_alerts
from reports.feeds import build_feeds, digest_text, write_feeds
from reports.jobs import weekly_job
from reports.weekly import build_weekly, render_html
from storage.models import Alert
from tests.conftest import REPO

BASE = "https://crm.maru.test/dangol"  # behind a proxy, under a path
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def linked(settings: Settings) -> Settings:
    settings.dashboard.base_url = BASE
    return settings


def test_links_are_built_on_the_base_url_for_the_dashboards_pages() -> None:
    assert item_url(BASE, 123) == f"{BASE}/item?id=123"
    assert item_url(BASE + "/", 7) == f"{BASE}/item?id=7"  # one slash, whatever the setting ends with
    assert topic_url(BASE, "in-store & app") == f"{BASE}/topics?topic=in-store+%26+app"
    assert topic_url(BASE) == f"{BASE}/topics"
    assert report_url(BASE, "2026-W47") == f"{BASE}/reports?week=2026-W47"
    assert page_url(BASE, "queue", topic="delivery", sla=None) == f"{BASE}/queue?topic=delivery"
    assert scope_url(BASE, "topic:app") == f"{BASE}/topics?topic=app"
    assert scope_url(BASE, "source:maru_x") == f"{BASE}/sources"
    with pytest.raises(ValueError, match="no dashboard page 'alerts'"):
        page_url(BASE, "alerts")
    assert "item" in PAGES and "queue" in PAGES


def test_base_url_must_be_an_http_address(tmp_path: Path) -> None:
    from dangol.core.errors import ConfigError

    config = tmp_path / "config.toml"
    config.write_text('[dashboard]\nbase_url = "javascript:alert(1)"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="base_url"):
        load_settings(config)
    default = load_settings(REPO / "config.toml").dashboard.base_url
    assert default == "http://localhost:8501"


def _alert(session: Session, post_ids: list[int]) -> None:
    session.add(
        Alert(
            kind="volume", scope="topic:app", started_at=NOW - timedelta(hours=2), ended_at=NOW, observed=30,
            expected=1.2,
            explanation={
                "summary": "App and website: 30 posts in 2 h",
                "posts": [{"post_id": pid, "handle": f"h{pid}", "platform": "x", "reach": 10, "text": "app crashing"}
                          for pid in post_ids],
            },
        )
    )  # fmt: skip
    session.commit()


def test_an_alert_links_each_queued_post_to_its_item_and_the_topic_page_by_webhook_and_email(
    world, session: Session, linked: Settings, webhook, smtp
) -> None:
    queued = world.post(NOW - timedelta(hours=1), sentiment="negative", topic="app", cluster_key="crash")
    same_cluster = world.post(NOW - timedelta(minutes=50), sentiment="negative", topic="app", cluster_key="crash")
    unqueued = world.post(NOW - timedelta(minutes=40), sentiment="negative", topic="app")
    item = world.queue_item(queued, created_at=NOW)
    item.cluster_key = "crash"
    session.commit()
    _alert(session, [queued.id, same_cluster.id, unqueued.id])  # type: ignore[list-item]
    url, received = webhook
    port, mail = smtp
    linked.reports.webhook_url = url
    linked.reports.smtp_host, linked.reports.smtp_port, linked.reports.smtp_tls = "127.0.0.1", port, "none"
    linked.reports.email_to = ["pr@maru.test"]
    assert len(notify_alerts(session=session, settings=linked, now=NOW)) == 1
    email = mail.messages[0].get_payload(decode=True).decode()
    for text in (received.bodies[0]["text"], email):
        lines = text.splitlines()
        posts = {"queued": queued.id, "cluster": same_cluster.id, "alone": unqueued.id}
        by_handle = {h: next(line for line in lines if f"@h{pid}" in line) for h, pid in posts.items()}
        assert by_handle["queued"].endswith(f" {BASE}/item?id={item.id}")
        assert by_handle["cluster"].endswith(f" {BASE}/item?id={item.id}")  # its cluster's item
        assert BASE not in by_handle["alone"]  # never queued: no item to open
        assert lines[-1] == f"{BASE}/topics?topic=app"


def test_feed_entries_link_to_their_queue_item_and_the_feed_to_its_topic_page(
    world, session: Session, linked: Settings, tmp_path: Path
) -> None:
    queued = world.post(NOW - timedelta(hours=1), sentiment="negative", topic="delivery", text="cold coffee again",
                        url="https://x.com/kim/status/1")  # fmt: skip
    world.post(NOW - timedelta(hours=2), sentiment="negative", topic="delivery", text="late and cold",
               url="https://x.com/lee/status/2")  # fmt: skip
    item = world.queue_item(queued, created_at=NOW)
    session.commit()
    write_feeds(session=session, settings=linked, out_dir=tmp_path, now=NOW)
    atom = ET.parse(tmp_path / "delivery.atom").getroot()
    assert atom.find(f"{ATOM}link").get("href") == f"{BASE}/topics?topic=delivery"  # type: ignore[union-attr]
    entries = {e.find(f"{ATOM}title").text: e for e in atom.findall(f"{ATOM}entry")}  # type: ignore[union-attr]
    links = {rel: link.get("href") for link in entries["cold coffee again"].findall(f"{ATOM}link")
             for rel in [link.get("rel", "alternate")]}  # fmt: skip
    assert links == {"alternate": f"{BASE}/item?id={item.id}", "related": "https://x.com/kim/status/1"}
    # Not queued: the entry leads to the post itself.
    assert [lk.get("href") for lk in entries["late and cold"].findall(f"{ATOM}link")] == ["https://x.com/lee/status/2"]
    feed = json.loads((tmp_path / "delivery.json").read_text(encoding="utf-8"))
    assert feed["home_page_url"] == f"{BASE}/topics?topic=delivery"
    first = next(i for i in feed["items"] if i["title"] == "cold coffee again")
    assert first["url"] == f"{BASE}/item?id={item.id}" and first["external_url"] == "https://x.com/kim/status/1"
    digest = digest_text(build_feeds(session=session, settings=linked, now=NOW), linked)
    assert any(line.startswith("• ") and line.endswith(f"{BASE}/topics?topic=delivery") for line in digest.splitlines())


def test_the_weekly_report_links_to_itself_its_topics_items_and_alert_scopes(
    world, session: Session, linked: Settings, engine: Engine, smtp, tmp_path: Path
) -> None:
    day = datetime(2026, 11, 17, 3, 0, tzinfo=UTC)  # in 2026-W47
    loud = world.post(day, sentiment="negative", topic="delivery", text="never again", followers=9000)
    item = world.queue_item(loud, created_at=day)
    session.add(Alert(kind="volume", scope="topic:delivery", started_at=day, observed=9, expected=1,
                      explanation={"summary": "late deliveries"}))  # fmt: skip
    session.commit()
    report = build_weekly(session=session, settings=linked, week="2026-W47", now=NOW + timedelta(days=5))
    page = render_html(report)
    assert report.url == f"{BASE}/reports?week=2026-W47" and f'href="{report.url}"' in page
    assert f'href="{BASE}/topics?topic=delivery"' in page  # the topic row and the alert's scope
    assert f'href="{BASE}/item?id={item.id}">queue item #{item.id}</a>' in page
    session.commit()  # build_weekly marked brand accounts; the job's own session writes next
    port, mail = smtp
    linked.reports.out_dir = str(tmp_path / "reports")
    linked.reports.smtp_host, linked.reports.smtp_port, linked.reports.smtp_tls = "127.0.0.1", port, "none"
    linked.reports.email_to = ["pr@maru.test"]
    weekly_job(linked, engine, week="2026-W47", now=NOW + timedelta(days=5))
    text = next(p for p in mail.messages[0].walk() if p.get_content_type() == "text/plain")
    assert f"in Dangol: {BASE}/reports?week=2026-W47" in text.get_payload(decode=True).decode()
