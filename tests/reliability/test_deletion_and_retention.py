"""Posts deleted on their platform lose their stored text when the collector learns of it, and
the retention purge runs on the worker's schedule."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

from sqlalchemy import select

from dangol.core.settings import load_settings
from dangol.core.types import Page, utcnow
from dangol.jobs import build_scheduler
from listener.reddit import parse_reddit
from storage import ingest
from storage.engine import make_engine
from storage.models import Post
from tests.conftest import REPO
from tests.listener.conftest import reddit_body

LISTING = json.loads(reddit_body("TestSubredditListings.test_comments.json", "/comments"))


def _deleted(listing: dict, index: int, *, body: str) -> dict:
    listing = copy.deepcopy(listing)
    data = listing["data"]["children"][index]["data"]
    data["author"] = "[deleted]"
    data["body" if "body" in data else "selftext"] = body
    return listing


def _store(session, listing: dict) -> ingest.StoreResult:
    posts, dead = parse_reddit(listing)
    source = ingest.get_or_create_source(session, name="reddit", use="reddit")
    result = ingest.store_page(session, source=source, page=Page(posts, {}, dead))
    session.commit()
    return result


def test_a_post_later_listed_as_deleted_loses_its_text_and_payload_and_others_are_untouched(session):
    first = _store(session, LISTING)
    names = [c["data"]["name"] for c in LISTING["data"]["children"]]
    assert first.new_posts == len(names)
    again = _store(session, _deleted(_deleted(LISTING, 0, body="[deleted]"), 1, body="[removed]"))
    assert again.deleted == 2 and again.new_posts == 0
    rows = {p.external_id: p for p in session.execute(select(Post)).scalars()}
    for name in names[:2]:
        assert (rows[name].text, rows[name].raw, rows[name].deleted_at is not None) == ("", None, True)
    assert all(rows[n].text and rows[n].raw and rows[n].deleted_at is None for n in names[2:])


def test_a_deleted_post_never_seen_before_is_not_stored(session):
    listing = _deleted(LISTING, 0, body="[deleted]")
    result = _store(session, listing)
    deleted_name = listing["data"]["children"][0]["data"]["name"]
    assert result.deleted == 0 and result.new_posts == len(listing["data"]["children"]) - 1
    assert session.execute(select(Post).where(Post.external_id == deleted_name)).first() is None


def test_the_parser_marks_only_deleted_or_removed_things(session):
    posts, _ = parse_reddit(_deleted(LISTING, 0, body="[removed]"))
    assert [p.deleted for p in posts] == [True] + [False] * (len(posts) - 1)


def test_the_retention_purge_is_a_worker_job_on_its_interval_and_clears_old_payloads(tmp_path, make_post):
    url = f"sqlite:///{tmp_path}/w.db"
    settings = load_settings(REPO / "config.toml", overrides={"database": {"url": url}})
    engine = make_engine(url)
    from storage.engine import session_scope
    from storage.migrate import upgrade

    upgrade(engine)
    old = make_post(created_at=utcnow() - timedelta(days=settings.retention.raw_payload_days + 1), raw={"a": 1})
    new = make_post(created_at=utcnow(), raw={"b": 2})
    with session_scope(engine) as session:
        source = ingest.get_or_create_source(session, name="s", use="replay")
        ingest.store_page(session, source=source, page=Page([old, new], {}))
    job = build_scheduler(settings, engine).get_job("retention:purge")
    assert job.trigger.interval == timedelta(hours=settings.worker.purge_every_hours)
    job.func()
    with session_scope(engine) as session:
        raw = dict(session.execute(select(Post.external_id, Post.raw)).all())
    engine.dispose()
    assert raw[old.external_id] is None and raw[new.external_id] is not None
