"""The demo data: well-formed real-shaped payloads, the coverage the demo promises, and
expectations.json agreeing with what the real parsers, linker and spike detector make of it."""

from __future__ import annotations

import csv
import json
import statistics
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bench.demo_data.generate import generate
from dangol.core.settings import load_settings
from dangol.core.types import PostIn
from dangol.demo import demo_settings
from dangol.demo_data import CUSTOMERS, DEMO_DATA, EXPECTATIONS, PLATFORM_DIRS
from tests.conftest import REPO
from tests.labelled_text import parse_demo_pages

TOPICS = ("delivery", "billing", "app", "quality", "store", "loyalty")
KINDS = ("complaint", "praise", "question", "chatter", "spam", "retweet", "duplicate", "own")


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    return json.loads(EXPECTATIONS.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def posts(expected: dict[str, Any]) -> list[dict[str, Any]]:
    return list(expected["posts"].values())


@pytest.fixture(scope="module")
def customers() -> list[dict[str, str]]:
    with CUSTOMERS.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def parsed() -> tuple[dict[str, PostIn], list[tuple[str, str]]]:
    """Every demo page through the real parser of its platform: posts by key, and (file, reason) rejects."""
    return parse_demo_pages()


def pages(platform: str) -> list[Path]:
    return sorted((DEMO_DATA / platform).glob("*.xml" if platform == "rss" else "*.json"))


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- files -----------------------------------------------------------------------------------


def test_every_platform_folder_holds_pages_that_are_valid_json_or_xml() -> None:
    for platform in PLATFORM_DIRS:
        files = pages(platform)
        assert files, f"no pages for {platform}"
        for path in files:
            if platform == "rss":
                assert ElementTree.fromstring(path.read_bytes()).tag == "rss"
            else:
                json.loads(path.read_text(encoding="utf-8"))


def test_demo_data_stays_small() -> None:
    total = sum(p.stat().st_size for p in DEMO_DATA.rglob("*") if p.is_file())
    assert total < 3 * 1024 * 1024


def test_generator_rewrites_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    generate(tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written
    for relative in written:
        assert (tmp_path / relative).read_bytes() == (DEMO_DATA / relative).read_bytes(), f"{relative} is stale"


def test_pages_have_each_platforms_real_top_level_shape() -> None:
    x = json.loads(pages("x")[0].read_text(encoding="utf-8"))
    assert set(x) == {"data", "includes", "meta"} and {"users", "tweets"} <= set(x["includes"])
    assert {"newest_id", "oldest_id", "result_count", "next_token"} <= set(x["meta"])
    reddit = json.loads(pages("reddit")[0].read_text(encoding="utf-8"))
    assert reddit["kind"] == "Listing" and {c["kind"] for c in reddit["data"]["children"]} == {"t3"}
    assert isinstance(json.loads(pages("mastodon")[0].read_text(encoding="utf-8")), list)
    bluesky = json.loads(pages("bluesky")[0].read_text(encoding="utf-8"))
    assert bluesky["posts"][0]["record"]["$type"] == "app.bsky.feed.post" and "cursor" in bluesky
    naver = json.loads(pages("naver")[0].read_text(encoding="utf-8"))
    assert {"lastBuildDate", "total", "start", "display", "items"} <= set(naver)
    assert "\\/" in pages("naver")[0].read_text(encoding="utf-8"), "Naver escapes slashes"


# --- coverage --------------------------------------------------------------------------------


def test_customers_file_has_fifty_customers_with_every_column(customers: list[dict[str, str]]) -> None:
    assert len(customers) >= 50
    assert list(customers[0]) == [
        "external_ref",
        "name",
        "email",
        "phone",
        "tier",
        "x_handle",
        "reddit_handle",
        "mastodon_handle",
        "bluesky_handle",
        "naver_id",
        "order_numbers",
    ]
    assert {c["tier"] for c in customers} == {"standard", "gold", "vip"}
    assert all(c["email"].endswith(("@example.com", "@example.kr")) for c in customers)
    assert len({c["external_ref"] for c in customers}) == len(customers)
    for column in ("x_handle", "reddit_handle", "mastodon_handle", "bluesky_handle", "naver_id"):
        assert sum(bool(c[column]) for c in customers) >= 5, column
    orders = [o for c in customers for o in c["order_numbers"].split(";") if o]
    assert orders and all(o.startswith("MC-2026-") for o in orders) and len(orders) == len(set(orders))


def test_customers_have_korean_and_english_names(customers: list[dict[str, str]]) -> None:
    hangul = [c for c in customers if any("가" <= ch <= "힣" for ch in c["name"])]
    assert 15 <= len(hangul) <= len(customers) - 15


def test_there_are_at_least_400_posts_on_every_platform_in_both_languages(posts: list[dict[str, Any]]) -> None:
    assert len(posts) >= 400
    assert set(Counter(p["platform"] for p in posts)) == set(PLATFORM_DIRS)
    languages = Counter(p["language"] for p in posts)
    assert set(languages) == {"en", "ko"} and min(languages.values()) >= 100


def test_every_kind_and_every_topic_in_both_languages_is_present(posts: list[dict[str, Any]]) -> None:
    assert set(KINDS) <= {p["kind"] for p in posts}
    for topic in TOPICS:
        languages = Counter(p["language"] for p in posts if p["kind"] == "complaint" and p["topic"] == topic)
        assert languages["en"] >= 5 and languages["ko"] >= 5, topic
    assert any(p["quote_of"] for p in posts)
    assert {"blog", "news", "cafearticle"} <= {kind_of_naver(p) for p in posts if p["platform"] == "naver"}


def kind_of_naver(post: dict[str, Any]) -> str:
    link = post["external_id"]
    return "blog" if "blog.naver" in link else "news" if "news.naver" in link else "cafearticle"


def test_posts_span_four_weeks_ending_on_2026_11_22(posts: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    times = [at(p["created_at"]) for p in posts]
    assert min(times) >= at(expected["window"]["start"]) and max(times) < at(expected["window"]["end"])
    assert (max(times) - min(times)).days >= 26
    assert {t.weekday() for t in times} == set(range(7))
    assert len({t.hour for t in times}) == 24


def test_the_burst_stands_far_above_the_daily_baseline(posts: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    burst = expected["burst"]
    start, end = at(burst["start"]), at(burst["end"])
    inside = [p for p in posts if start <= at(p["created_at"]) <= end]
    assert 40 <= len(inside) <= 60 and all(p["topic"] == "app" or p["kind"] == "own" for p in inside)
    # The spike detector counts the own brand's voice only: posts about the rival are left out.
    daily = Counter(at(p["created_at"]).date() for p in posts if not p["in_burst"] and p["brand"] == "maru")
    assert 10 <= statistics.mean(daily.values()) <= 16
    hourly = Counter(at(p["created_at"]).replace(minute=0, second=0, microsecond=0) for p in posts if not p["in_burst"])
    busiest = max(sum(hourly[hour + timedelta(hours=h)] for h in range(6)) for hour in hourly)
    assert len(inside) >= 5 * busiest


def test_labels_are_unambiguous_for_each_kind(posts: list[dict[str, Any]]) -> None:
    for post in posts:
        kind = post["kind"]
        if kind == "complaint":
            assert post["sentiment"] == "negative" and post["topic"] in TOPICS
            # A store review the developer answered is done, a complaint about the rival is never ours
            # to answer; every other complaint is queued.
            assert post["should_queue"] is not (post.get("answered", False) or post["brand"] != "maru")
        elif kind in ("praise", "chatter", "question"):
            assert post["topic"] is None
            assert post["sentiment"] == {"praise": "positive", "chatter": "neutral", "question": "neutral"}[kind]
            assert post["should_queue"] is (kind == "question" and post["brand"] == "maru")
        elif kind in ("spam", "own"):
            assert post["sentiment"] is None and not post["should_queue"]


def test_the_rival_has_korean_and_english_posts_and_complaints_none_of_them_queued(
    posts: list[dict[str, Any]],
) -> None:
    rival = [p for p in posts if p["brand"] == "byeol"]
    assert {p["language"] for p in rival} == {"en", "ko"} and {p["file"].split("/")[0] for p in rival} == {"x_byeol"}
    assert sum(p["kind"] == "complaint" for p in rival) >= 10 and not any(p["should_queue"] for p in rival)
    # Some are by Maru Coffee's customers (who must not be linked through them: tests/test_demo_e2e.py).
    assert any(p["customer"] for p in rival)


def test_retweets_and_duplicates_join_the_item_of_their_original(
    posts: list[dict[str, Any]], expected: dict[str, Any], parsed: tuple[dict[str, PostIn], Any]
) -> None:
    by_key = expected["posts"]
    found, _ = parsed
    for post in (p for p in posts if p["kind"] in ("retweet", "duplicate")):
        original = by_key[post["cluster_of"]]
        assert post["should_queue"] == original["should_queue"]
        assert post["queue_item_of"] == (post["cluster_of"] if original["should_queue"] else None)
        key = f"{post['platform']}:{post['external_id']}"
        if post["kind"] == "retweet":
            assert found[key].is_retweet and found[key].referenced_id == original["external_id"]
            assert found[key].text.startswith(f"RT @{original['author']}: ")
        else:
            assert found[key].text == found[post["cluster_of"]].text
    duplicates = Counter(p["cluster_of"] for p in posts if p["kind"] == "duplicate")
    assert duplicates and max(duplicates.values()) >= 4


def test_the_brands_own_posts_come_from_its_configured_handles(posts: list[dict[str, Any]]) -> None:
    own_handles = set(load_settings(REPO / "config.toml").brand.own_handles)
    own = [p for p in posts if p["kind"] == "own"]
    assert own and all(f"{p['platform']}:{p['author']}" in own_handles for p in own)
    assert not [p for p in posts if p["kind"] != "own" and f"{p['platform']}:{p['author']}" in own_handles]


def test_counts_in_the_expectations_match_the_posts(posts: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    counts = expected["counts"]
    assert counts["posts"] == len(posts)
    assert counts["by_kind"] == dict(sorted(Counter(p["kind"] for p in posts).items()))
    assert counts["should_queue"] == sum(p["should_queue"] for p in posts)
    assert counts["queue_items"] == len({p["queue_item_of"] for p in posts if p["should_queue"]})
    assert counts["dead_letters"] == len(expected["dead_letters"])
    assert expected["burst"]["posts"] == sum(p["in_burst"] for p in posts) == len(expected["burst"]["keys"])


# --- through the real parsers ----------------------------------------------------------------


def test_every_page_parses_with_only_the_intended_dead_letters(
    parsed: tuple[dict[str, PostIn], list[tuple[str, str]]], expected: dict[str, Any]
) -> None:
    found, dead = parsed
    assert set(found) == set(expected["posts"])
    assert sorted(file for file, _ in dead) == sorted(d["file"] for d in expected["dead_letters"])
    assert {d["platform"] for d in expected["dead_letters"]} == set(PLATFORM_DIRS)


def test_parsed_posts_carry_the_intended_time_author_and_file(
    parsed: tuple[dict[str, PostIn], Any], expected: dict[str, Any]
) -> None:
    found, _ = parsed
    for key, post in expected["posts"].items():
        # An edited review is read last as edited (its new time); the database keeps its first time.
        when = post.get("edited_at") or post["created_at"]
        assert abs(found[key].created_at - at(when)) < timedelta(seconds=1), key
        assert found[key].author.handle == post["author"], key
        assert (DEMO_DATA / post["file"]).is_file()
        if found[key].lang_hint is not None:
            assert found[key].lang_hint == post["language"], key


def test_the_linker_finds_exactly_the_intended_customers(
    parsed: tuple[dict[str, PostIn], Any], expected: dict[str, Any], customers: list[dict[str, str]]
) -> None:
    from nlp.base import KnownCustomer
    from nlp.linking import CustomerLinker, applies_alone
    from storage.customers import HANDLE_COLUMNS

    settings = load_settings(REPO / "config.toml")
    known = [
        KnownCustomer(
            customer_id=index,
            name=c["name"],
            email=c["email"],
            tier=c["tier"],
            handles={platform: [c[column]] for column, platform in HANDLE_COLUMNS.items() if c[column]},
            order_numbers=[o for o in c["order_numbers"].split(";") if o],
        )
        for index, c in enumerate(customers)
    ]
    linker = CustomerLinker(known, settings.linking)
    found, _ = parsed
    for key, post in expected["posts"].items():
        candidates = linker.candidates(found[key].author, found[key].text)
        if post["customer"] is None:
            assert candidates == [], f"{key} by {post['author']} links to {candidates}"
            continue
        if post["brand"] != "maru":
            # A customer's post about the rival only: the linker alone would find them, which is why
            # the pipeline never asks it (tests/test_demo_e2e.py: never linked).
            assert candidates and customers[candidates[0].customer_id]["external_ref"] == post["customer"], key
            assert post["link_method"] is None, key
            continue
        best = candidates[0]
        assert customers[best.customer_id]["external_ref"] == post["customer"], key
        method = "handle" if best.method == "platform_id" else best.method
        assert method == post["link_method"], key
        assert applies_alone(best, settings.linking) is post["link_applied"], key


# --- through storage and the spike detector --------------------------------------------------


@pytest.mark.slow
def test_the_intended_labels_raise_exactly_one_spike_alert_on_the_burst(
    engine: Engine, tmp_path: Path, expected: dict[str, Any]
) -> None:
    from dangol import pipeline
    from reports.alerts import detect_spikes
    from storage.models import Analysis, Post

    settings = demo_settings(REPO / "config.toml", tmp_path / "unused.db")
    runs = pipeline.collect(settings, engine)
    assert all(run.error is None for run in runs), [run.error for run in runs]
    with Session(engine) as session:
        for post in session.exec(select(Post)):
            intended = expected["posts"][f"{post.platform}:{post.external_id}"]
            session.add(
                Analysis(
                    post_id=post.id,
                    language=intended["language"],
                    sentiment=intended["sentiment"] or "neutral",
                    primary_topic=intended["topic"] or "other",
                    is_complaint=intended["kind"] == "complaint",
                    is_spam=intended["kind"] == "spam",
                )
            )
        session.commit()
        times = [p.created_at for p in session.exec(select(Post))]
        alerts = detect_spikes(
            session=session,
            settings=settings,
            now=max(times) + timedelta(minutes=1),
            since=min(times),  # type: ignore[type-var,operator]
        )
    burst = expected["burst"]
    assert len(alerts) == 1
    started = alerts[0].started_at.replace(tzinfo=at(burst["start"]).tzinfo)  # type: ignore[union-attr]
    assert at(burst["start"]) - timedelta(hours=2) <= started <= at(burst["end"])


def test_x_pages_expand_every_author_and_referenced_tweet() -> None:
    for path in pages("x"):
        body = json.loads(path.read_text(encoding="utf-8"))
        users = {u["id"] for u in body["includes"]["users"]}
        tweets = {t["id"] for t in body["includes"]["tweets"]} | {t["id"] for t in body["data"]}
        assert all(t["author_id"] in users for t in body["data"]), path.name
        assert all(r["id"] in tweets for t in body["data"] for r in t.get("referenced_tweets", [])), path.name
        assert body["meta"]["result_count"] == len(body["data"])


def test_reddit_comments_point_at_threads_in_the_demo(expected: dict[str, Any]) -> None:
    keys = set(expected["posts"])
    comments = [p for p in expected["posts"].values() if p["external_id"].startswith("t1_")]
    assert comments
    for path in pages("reddit"):
        for child in json.loads(path.read_text(encoding="utf-8"))["data"]["children"]:
            if child["kind"] == "t1":
                assert f"reddit:{child['data']['link_id']}" in keys and f"reddit:{child['data']['parent_id']}" in keys


def test_the_demo_moves_by_the_most_whole_weeks_that_keep_every_post_in_the_past() -> None:
    from datetime import UTC

    from dangol.demo import DEMO_DATA_NEWEST, weeks_since_demo_data

    newest = max(p["created_at"] for p in json.loads(EXPECTATIONS.read_text())["posts"].values())
    assert datetime.fromisoformat(newest) == DEMO_DATA_NEWEST
    for now in ("2026-11-01T00:00", "2026-11-29T18:00", "2026-11-29T22:31", "2026-12-06T22:30", "2027-03-09T09:00"):
        moment = datetime.fromisoformat(now).replace(tzinfo=UTC)
        last = DEMO_DATA_NEWEST + timedelta(weeks=weeks_since_demo_data(moment))
        assert last <= moment or moment < DEMO_DATA_NEWEST
        assert moment - last < timedelta(weeks=1) or moment < DEMO_DATA_NEWEST


def test_demo_settings_pass_the_week_shift_to_every_demo_source(tmp_path) -> None:
    settings = demo_settings(REPO / "config.toml", tmp_path / "unused.db", shift_weeks=2)
    demo = [s for s in settings.sources.values() if s.enabled]
    assert demo and all(s.options()["shift_weeks"] == 2 for s in demo)


def test_a_demo_on_another_port_links_there_unless_the_config_names_its_own_address(tmp_path) -> None:
    assert demo_settings(REPO / "config.toml", tmp_path / "unused.db").dashboard.base_url == "http://localhost:8501"
    moved = demo_settings(REPO / "config.toml", tmp_path / "unused.db", port=8600)
    assert moved.dashboard.base_url == "http://localhost:8600"
    proxied = tmp_path / "config.toml"
    proxied.write_text((REPO / "config.toml").read_text().replace(
        'base_url = "http://localhost:8501"', 'base_url = "https://crm.example.com"'
    ))  # fmt: skip
    assert demo_settings(proxied, tmp_path / "unused.db", port=8600).dashboard.base_url == "https://crm.example.com"


def test_store_reviews_carry_their_stars_and_version_and_the_login_bug_is_on_5_2_0(
    parsed: tuple[dict[str, PostIn], Any], expected: dict[str, Any]
) -> None:
    found, _ = parsed
    reviews = {
        k: p for k, p in expected["posts"].items() if p["platform"] in ("appstore", "googleplay") and p["kind"] != "own"
    }
    assert {p["platform"] for p in reviews.values()} == {"appstore", "googleplay"}
    for key, post in reviews.items():
        assert found[key].metrics["rating"] == post["rating"], key
        assert found[key].raw[f"dangol:{post['platform']}"]["version"] == post["app_version"], key
        # Stars agree with the words: complaints 1-2, praise 4-5, a flat remark 3.
        assert post["rating"] in {"complaint": (1, 2), "praise": (4, 5), "chatter": (3,)}[post["kind"]], key
    release = at("2026-11-19T10:05:00Z")
    for post in reviews.values():
        assert (post["app_version"] == "5.2.0") is (at(post["created_at"]) >= release)
    login = [p for p in reviews.values() if p["topic"] == "app" and p["app_version"] == "5.2.0"]
    assert len(login) >= 8 and {p["platform"] for p in login} == {"appstore", "googleplay"}
    [edited] = [p for p in reviews.values() if p["edited_at"]]
    assert edited["kind"] == "praise" and found[f"appstore:{edited['external_id']}"].text.startswith("해결됐어요")
    answered = [k for k, p in reviews.items() if p["answered"]]
    replies = {
        p["reply_to"] for p in expected["posts"].values() if p["platform"] == "googleplay" and p["kind"] == "own"
    }
    assert answered and set(answered) == replies
    assert all(found[f"{k}:reply"].author.handle == "marucoffee" for k in answered)


def test_youtube_threads_come_from_the_brand_channels_video(
    parsed: tuple[dict[str, PostIn], Any], expected: dict[str, Any]
) -> None:
    found, _ = parsed
    comments = {k: p for k, p in expected["posts"].items() if p["platform"] == "youtube"}
    assert {p["kind"] for p in comments.values()} >= {"praise", "question", "complaint", "own"}
    assert {p["language"] for p in comments.values()} == {"en", "ko"}
    for key, post in comments.items():
        assert "watch?v=mArUwInTeR1" in (found[key].url or "")
        if post["kind"] == "own":
            assert found[key].reply_to_id == comments[post["reply_to"]]["external_id"]


def test_the_demo_google_play_source_passes_the_parser_what_the_generator_assumed() -> None:
    from dangol.demo_data import PARSER_OPTIONS

    sources = load_settings(REPO / "config.toml").sources
    replayed = {
        s.options()["platform"]: s.options().get("parser_options", {}) for s in sources.values() if s.use == "replay"
    }
    assert set(replayed) == set(PLATFORM_DIRS)
    assert {p: o for p, o in replayed.items() if o} == PARSER_OPTIONS
