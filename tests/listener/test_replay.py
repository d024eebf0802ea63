"""The replay collector: recorded bodies through the real parsers, one page per file, resumable."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from dangol.core.errors import ConfigError
from dangol.core.settings import Settings, load_settings
from listener.base import build_collector, parser_for
from listener.replay import ReplayCollector
from tests.conftest import FIXTURES


def replay_settings(folder: Path | str, platform: str = "x", query: str = "", **extra: object) -> Settings:
    source = {"use": "replay", "platform": platform, "path": str(folder), "query": query, **extra}
    return load_settings(None, overrides={"sources": {"demo": source}})


@pytest.fixture
def x_pages(tmp_path: Path) -> Path:
    docs = FIXTURES / "x" / "docs-examples"
    shutil.copy(docs / "searches_search_tweets_query.json", tmp_path / "001.json")
    shutil.copy(docs / "tweet_tweets_resp.json", tmp_path / "002.json")
    shutil.copy(docs / "timeline_timeline_mentions.json", tmp_path / "003.json")
    (tmp_path / "notes.txt").write_text("not a page")
    return tmp_path


def test_replay_yields_one_page_per_file_in_name_order(x_pages: Path) -> None:
    pages = list(build_collector("demo", replay_settings(x_pages).sources).fetch({}))
    assert [p.cursor for p in pages] == [{"file": "001.json"}, {"file": "002.json"}, {"file": "003.json"}]
    assert [len(p.posts) for p in pages] == [4, 2, 0]
    assert [len(p.dead_letters) for p in pages] == [0, 0, 5]
    assert pages[0].posts[0].external_id == "1276035977375477760"


def test_replay_resumes_after_the_last_file_done(x_pages: Path) -> None:
    collector = build_collector("demo", replay_settings(x_pages).sources)
    first = next(iter(collector.fetch({})))
    rest = list(collector.fetch(first.cursor))
    assert [p.cursor["file"] for p in rest] == ["002.json", "003.json"]
    assert list(collector.fetch(rest[-1].cursor)) == []


def test_replay_stops_before_exceeding_max_requests(x_pages: Path) -> None:
    pages = list(build_collector("demo", replay_settings(x_pages).sources).fetch({}, max_requests=2))
    assert len(pages) == 2 and sum(p.requests for p in pages) == 2


def test_replay_applies_the_source_query(x_pages: Path) -> None:
    pages = list(build_collector("demo", replay_settings(x_pages, query="from:TwitterDev").sources).fetch({}))
    assert {post.author.handle for page in pages for post in page.posts} == {"TwitterDev"}


def test_replay_of_rss_reads_xml_files(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_bytes(
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://b.example/</link>'
        b"<item><title>Hello</title><guid>g1</guid><pubDate>Sun, 22 Nov 2026 21:00:00 +0900</pubDate></item>"
        b"</channel></rss>"
    )
    pages = list(build_collector("demo", replay_settings(tmp_path, platform="rss").sources).fetch({}))
    assert [p.external_id for p in pages[0].posts] == ["g1"]


def test_replay_path_is_relative_to_the_current_directory(x_pages: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(x_pages.parent)
    collector = build_collector("demo", replay_settings(x_pages.name).sources)
    assert isinstance(collector, ReplayCollector) and len(collector.files()) == 3


def test_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a folder of recorded responses"):
        build_collector("demo", replay_settings(tmp_path / "nope").sources)


def test_unknown_platform_lists_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sources.demo.platform"):
        build_collector("demo", replay_settings(tmp_path, platform="myspace").sources)


def test_unknown_option_lists_the_valid_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        build_collector("demo", replay_settings(tmp_path, speed=2).sources)
    valid = "platform, path, shift_weeks, monthly_post_reads, max_page_posts, parser_options"
    assert f"sources.demo.speed: unknown key; valid: {valid}" in info.value.problems


def test_parser_lookup_refuses_unknown_platforms() -> None:
    with pytest.raises(ConfigError, match="unknown platform 'myspace'; valid: x, reddit"):
        parser_for("myspace")


def test_the_demo_data_replays_through_the_real_parsers() -> None:
    from tests.conftest import REPO

    settings = load_settings(REPO / "config.toml")
    keys: set[str] = set()
    for name in ("demo_x", "demo_reddit", "demo_mastodon", "demo_bluesky", "demo_rss", "demo_naver"):
        source = settings.sources[name]
        source_settings = replay_settings(REPO / source.options()["path"], platform=source.options()["platform"])
        for page in build_collector("demo", source_settings.sources).fetch({}):
            assert all(letter.reason for letter in page.dead_letters)
            keys |= {f"{post.platform}:{post.external_id}" for post in page.posts}
    expected = json.loads((REPO / "dangol" / "demo_data" / "expectations.json").read_text())["burst"]["keys"]
    assert expected and set(expected) <= keys


def test_replay_can_move_every_post_by_whole_weeks(x_pages: Path) -> None:
    recorded = [p for page in build_collector("demo", replay_settings(x_pages).sources).fetch({}) for p in page.posts]
    moved = [
        p
        for page in build_collector("demo", replay_settings(x_pages, shift_weeks=3).sources).fetch({})
        for p in page.posts
    ]
    assert [p.external_id for p in moved] == [p.external_id for p in recorded]
    assert all(m.created_at - r.created_at == timedelta(weeks=3) for m, r in zip(moved, recorded, strict=True))
    assert moved[0].created_at.weekday() == recorded[0].created_at.weekday()


def test_a_negative_week_shift_is_refused(x_pages: Path) -> None:
    with pytest.raises(ConfigError, match="shift_weeks"):
        build_collector("demo", replay_settings(x_pages, shift_weeks=-1).sources)


def test_a_replayed_x_source_with_a_post_budget_is_billed_as_x_bills(tmp_path: Path) -> None:
    from listener.replay import ReplayCollector, ReplayOptions

    docs = FIXTURES / "x" / "docs-examples"
    (tmp_path / "page-1.json").write_bytes((docs / "searches_search_tweets_query.json").read_bytes())
    options = ReplayOptions(platform="x", path=str(tmp_path), monthly_post_reads=500, max_page_posts=10)
    billing = ReplayCollector.billing(options)
    assert billing is not None and (billing.limit, billing.worst_case) == (500, {"posts": 30})
    (page,) = ReplayCollector(tmp_path, "", options).fetch({})
    assert page.billed == {"posts": 7, "users": 3}  # 4 posts, 3 referenced posts, 3 authors
    assert ReplayCollector.billing(ReplayOptions(platform="x", path=str(tmp_path))) is None


def test_replay_passes_parser_options_that_the_body_does_not_carry(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "googleplay" / "synthetic_reviews.json", tmp_path / "001.json")
    options = {"app_id": "com.marucoffee.app", "lang": "ko", "country": "kr", "developer": "marucoffee"}
    [page] = build_collector("demo", replay_settings(tmp_path, "googleplay", parser_options=options).sources).fetch({})
    [answer] = [p for p in page.posts if p.reply_to_id]
    assert answer.author.handle == "marucoffee"
    assert all(p.url and "id=com.marucoffee.app&hl=ko&gl=kr" in p.url for p in page.posts)
    with pytest.raises(ConfigError, match=r"the googleplay parser takes .*not \['video_id'\]"):
        build_collector("demo", replay_settings(tmp_path, "googleplay", parser_options={"video_id": "abc"}).sources)
