"""Google Play reviews: the parser on the package's serialised shape (hand-built, see
tests/fixtures/platforms/googleplay/README.md), and the collector over a fake of the package's
`reviews` function (never play.google.com)."""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dangol.core.errors import CollectError, ConfigError, PayloadError
from dangol.core.settings import load_settings
from listener.base import build_collector, parse_file
from listener.googleplay import RAW_KEY, GooglePlayCollector, GooglePlayOptions, parse_googleplay, scraper
from tests.conftest import FIXTURES

GP = FIXTURES / "googleplay"
APP = "com.maru.coffee"
START = datetime(2026, 11, 1, tzinfo=UTC)


def review(n: int, **extra: Any) -> dict[str, Any]:
    """Review number `n` in the package's Python shape (newer numbers are newer, one minute apart);
    `at` is naive local time, as the package's `datetime.fromtimestamp` makes it."""
    at = (START + timedelta(minutes=n)).astimezone().replace(tzinfo=None)
    return {
        "reviewId": f"gp:{n}",
        "userName": f"user {n}",
        "userImage": f"https://play-lh.googleusercontent.com/a-/u{n}",
        "content": f"review {n}",
        "score": 3,
        "thumbsUpCount": n % 7,
        "reviewCreatedVersion": "3.2.1",
        "at": at,
        "replyContent": None,
        "repliedAt": None,
        "appVersion": "3.2.1",
        **extra,
    }


class FakeReviews:
    """`google_play_scraper.reviews` with the package's signature, serving pages by continuation token."""

    def __init__(self) -> None:
        self.pages: dict[tuple[str, str, str, str | None], tuple[list[dict[str, Any]], str | None]] = {}
        self.calls: list[dict[str, Any]] = []

    def add(self, lang: str, country: str, token: str | None, records: list[dict[str, Any]], following: str | None):
        self.pages[(APP, lang, country, token)] = (records, following)

    def __call__(self, app_id: str, lang: str = "en", country: str = "us", sort: Any = None, count: int = 100,
                 filter_score_with: int | None = None, filter_device_with: int | None = None,
                 continuation_token: Any = None) -> tuple[list[dict[str, Any]], Any]:  # fmt: skip
        token = continuation_token.token if continuation_token is not None else None
        if continuation_token is not None:  # the package takes lang/country/count from the token
            assert (continuation_token.lang, continuation_token.country, continuation_token.count) == (
                lang,
                country,
                count,
            )
        self.calls.append(
            {"app": app_id, "lang": lang, "country": country, "sort": sort, "count": count, "token": token}
        )
        records, following = self.pages.get((app_id, lang, country, token), ([], None))
        return records[:count], type("Token", (), {"token": following})()


def collector(fake: FakeReviews, query: str = "", **extra: Any) -> GooglePlayCollector:
    return GooglePlayCollector(fake, query, GooglePlayOptions(apps=[APP], **extra))


@pytest.fixture
def seoul() -> Iterator[None]:
    """This process's local time is Seoul's (UTC+9) for the test."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Seoul"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


# --- parser ----------------------------------------------------------------------------------------


def test_a_review_with_rating_likes_version_and_the_developers_answer() -> None:
    posts, dead = parse_googleplay((GP / "synthetic_reviews.json").read_bytes(), app_id=APP, lang="ko", country="kr")
    assert dead == []
    assert [p.external_id for p in posts] == [
        "gp:AOqpTOH1maru0003", "gp:AOqpTOH1maru0002", "gp:AOqpTOH1maru0001", "gp:AOqpTOH1maru0002:reply",
    ]  # fmt: skip
    first, answered, silent, answer = posts
    assert first.platform == "googleplay" and first.metrics == {"rating": 4, "likes": 12}
    assert first.created_at == datetime(2026, 11, 30, 8, 15, 2, tzinfo=UTC)  # no zone in the file: UTC
    assert first.text.startswith("Great app but it crashes") and first.lang_hint == "ko"
    assert first.author.handle == "Jiwoo Park" and first.author.platform_id == "name:Jiwoo Park"
    assert first.raw[RAW_KEY] == {"app_id": APP, "lang": "ko", "country": "kr", "version": "3.2.1"}
    assert first.url == f"https://play.google.com/store/apps/details?id={APP}&hl=ko&gl=kr&reviewId=gp:AOqpTOH1maru0003"
    assert silent.text == "" and silent.metrics == {"rating": 5, "likes": 0} and silent.raw[RAW_KEY]["version"] is None
    assert answered.reply_to_id is None
    assert answer.reply_to_id == answer.thread_id == "gp:AOqpTOH1maru0002" and answer.is_reply
    assert answer.author.handle == APP and answer.text.startswith("We are sorry about the double charge")
    assert answer.created_at == datetime(2026, 11, 30, 1, 2, 3, tzinfo=UTC) and answer.metrics == {}


def test_the_developer_handle_is_configurable() -> None:
    posts, _ = parse_googleplay((GP / "synthetic_reviews.json").read_bytes(), app_id=APP, developer="Maru Coffee")
    assert [p.author.handle for p in posts if p.reply_to_id] == ["Maru Coffee"]


def test_bad_records_are_dead_letters_and_the_rest_is_kept() -> None:
    posts, dead = parse_file("googleplay", GP / "synthetic_reviews_with_bad_records.json")
    assert [p.external_id for p in posts] == ["gp:AOqpTOH1maru0010"]
    assert [d.reason for d in dead] == [
        "field 'score' must be 1 to 5, got 7",
        "field 'at' is not an ISO-8601 time: 'yesterday'",
        "record must be an object, got str",
    ]


def test_a_body_that_is_not_a_list_of_reviews_is_refused(tmp_path: Any) -> None:
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"reviews": []}')
    with pytest.raises(PayloadError, match="not a googleplay response"):
        parse_file("googleplay", wrong)
    assert parse_googleplay([]) == ([], [])


def test_the_packages_naive_datetimes_are_local_time(seoul: None) -> None:
    record = review(0, at=datetime(2026, 11, 30, 17, 15, 2), replyContent="Thanks!", repliedAt=datetime(2026, 12, 1, 9))
    review_post, reply = parse_googleplay([record], app_id=APP)[0]
    assert review_post.created_at == datetime(2026, 11, 30, 8, 15, 2, tzinfo=UTC)
    assert reply.created_at == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


# --- collector -------------------------------------------------------------------------------------


def test_newest_first_following_the_continuation_token_until_a_short_page() -> None:
    fake = FakeReviews()
    fake.add("en", "us", None, [review(n) for n in range(100, 90, -1)], "t1")
    fake.add("en", "us", "t1", [review(n) for n in range(90, 85, -1)], "t2")
    pages = list(collector(fake, count=10).fetch({}))
    assert [len(p.posts) for p in pages] == [10, 5]
    assert [c["token"] for c in fake.calls] == [None, "t1"]
    assert {c["sort"] for c in fake.calls} == {scraper().Sort.NEWEST} and {c["count"] for c in fake.calls} == {10}
    assert pages[0].cursor[f"{APP}/en/us"]["token"] == "t1"
    assert pages[-1].cursor[f"{APP}/en/us"] == {"since": "2026-11-01T01:40:00.000000Z", "at_since": ["gp:100"]}


def test_the_next_run_stops_at_the_newest_review_read_and_an_edited_review_comes_again() -> None:
    fake = FakeReviews()
    fake.add("en", "us", None, [review(n) for n in (5, 4, 3)], None)
    first = list(collector(fake).fetch({}))
    edited = review(4, at=review(9)["at"], content="review 4, edited", score=1)  # an edit moves it to the top
    fake.add("en", "us", None, [review(10), edited, review(5), review(3)], "more")
    second = list(collector(fake, count=4).fetch(first[-1].cursor))
    assert [p.external_id for p in second[0].posts] == ["gp:10", "gp:4"]
    assert second[0].posts[1].metrics["rating"] == 1 and [c["token"] for c in fake.calls] == [None, None]


def test_an_answer_comes_with_its_review_and_never_alone() -> None:
    fake = FakeReviews()
    answered = review(7, replyContent="Sorry, fixed in 3.2.2", repliedAt=review(8)["at"])
    fake.add("en", "us", None, [answered, review(6)], None)
    [page] = list(
        collector(fake, developer="Maru Coffee").fetch(
            {"com.maru.coffee/en/us": {"since": "2026-11-01T00:06:30.000000Z"}}
        )
    )
    assert [(p.external_id, p.author.handle) for p in page.posts] == [("gp:7", "user 7"), ("gp:7:reply", "Maru Coffee")]


def test_restart_in_the_middle_resumes_with_the_stored_token() -> None:
    fake = FakeReviews()
    fake.add("en", "us", None, [review(n) for n in range(100, 90, -1)], "t1")
    fake.add("en", "us", "t1", [review(n) for n in (90, 89)], None)
    [first] = list(collector(fake, count=10).fetch({}, max_requests=1))
    rest = list(collector(fake, count=10).fetch(first.cursor))
    assert [p.external_id for p in rest[0].posts] == ["gp:90", "gp:89"]
    assert [c["token"] for c in fake.calls] == [None, "t1"]
    assert rest[-1].cursor[f"{APP}/en/us"]["since"] == "2026-11-01T01:40:00.000000Z"  # the run's newest, not the page's


def test_languages_countries_pairs_backfill_and_the_query() -> None:
    fake = FakeReviews()
    fake.add("ko", "kr", None, [review(n) for n in range(20, 10, -1)], "t")
    fake.add("en", "kr", None, [review(30)], None)
    pages = list(collector(fake, query='"review 20" OR "review 19"', pairs=["ko/kr", "en/kr"], count=10).fetch({}))
    assert [(c["lang"], c["country"]) for c in fake.calls] == [("ko", "kr"), ("ko", "kr"), ("en", "kr")]
    assert [p.text for p in pages[0].posts] == ["review 20", "review 19"]
    fake.calls.clear()
    list(collector(fake, langs=["ko", "en"], countries=["kr"], count=10, backfill_pages=1).fetch({}))
    assert [(c["lang"], c["token"]) for c in fake.calls] == [("ko", None), ("en", None)]


def test_a_failing_scraper_is_a_collect_error() -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("the page changed")

    with pytest.raises(CollectError, match="ValueError: the page changed"):
        list(GooglePlayCollector(broken, "", GooglePlayOptions(apps=[APP])).fetch({}))
    with pytest.raises(CollectError, match="returned list"):
        list(GooglePlayCollector(lambda *a, **k: [], "", GooglePlayOptions(apps=[APP])).fetch({}))


def test_options_are_checked_and_the_real_package_is_bound_without_its_unverified_tls() -> None:
    def build(**source: Any) -> Any:
        return build_collector(
            "g", load_settings(None, overrides={"sources": {"g": {"use": "googleplay", **source}}}).sources
        )

    built = build(apps=[APP], pairs=["ko/kr"])
    assert isinstance(built, GooglePlayCollector) and built.fetch_reviews is scraper().reviews
    assert ssl._create_default_https_context is not ssl._create_unverified_context
    with pytest.raises(ConfigError, match="apps"):
        build()
    with pytest.raises(ConfigError, match="package names"):
        build(apps=["not a package"])
    with pytest.raises(ConfigError, match="package names"):
        build(apps=[APP], pairs=["korea"])
    with pytest.raises(ConfigError, match="count"):
        build(apps=[APP], count=201)
