"""Bad records become dead letters with a reason; the rest of the page is kept."""

from __future__ import annotations

import json
from typing import Any

import pytest

from listener.base import parser_for
from tests.conftest import FIXTURES
from tests.listener.conftest import mastodon_body, reddit_body, x_fixture


def x_page() -> dict[str, Any]:
    return json.loads(x_fixture("searches_search_tweets_query.json"))


def test_wrong_type_is_refused_and_the_other_records_kept() -> None:
    page = x_page()
    page["data"][1]["text"] = 42
    posts, dead = parser_for("x")(page)
    assert len(posts) == 3 and len(dead) == 1
    assert dead[0].reason == "field 'text' must be str, got int"
    assert dead[0].raw["id"] == "1275882613572583424"


def test_nul_bytes_in_text_are_refused() -> None:
    page = x_page()
    page["data"][0]["text"] = "bad\x00text"
    posts, dead = parser_for("x")(page)
    assert len(posts) == 3 and dead[0].reason == "field 'text' contains NUL bytes"


def test_invalid_utf8_in_one_record_refuses_only_that_record() -> None:
    body = json.dumps(x_page(), ensure_ascii=False).encode()
    broken = body.replace(b"Emily Waligoske", b"Emily \xff\xfe").replace(b"Ooo, thanks", b"Ooo\xc3, thanks")
    posts, dead = parser_for("x")(broken)
    assert [d.raw["id"] for d in dead] == ["1276035977375477760"]
    assert dead[0].reason == "field 'text' is not valid UTF-8 text"
    assert len(posts) == 3


def test_lone_surrogate_escapes_are_refused() -> None:
    body = x_fixture("searches_search_tweets_query.json").replace(b"Wait, when I try", b"Wait \\ud83d when I try")
    posts, dead = parser_for("x")(body)
    assert len(posts) == 3 and dead[0].reason == "field 'text' is not valid UTF-8 text"


def test_missing_created_time_on_mastodon_is_refused() -> None:
    statuses = json.loads(mastodon_body("test_hashtag_tl.yaml", "/timelines/tag/hoot"))
    good = dict(statuses[0])
    del statuses[0]["created_at"]
    posts, dead = parser_for("mastodon")([statuses[0], good])
    assert len(posts) == 1 and dead[0].reason == "missing field 'created_at'"


def test_bad_time_on_bluesky_is_refused() -> None:
    view = json.loads((FIXTURES / "bluesky" / "thread_view_post_with_embed_media.json").read_text())["thread"]["post"]
    bad = json.loads(json.dumps(view))
    bad["record"]["createdAt"] = "yesterday"
    posts, dead = parser_for("bluesky")({"posts": [bad, view]})
    assert len(posts) == 1 and dead[0].reason == "field 'record.createdAt' is not an ISO-8601 time: 'yesterday'"


def test_reddit_child_without_data_is_refused() -> None:
    listing = json.loads(reddit_body("TestSubreddit.test_search.json", "/search"))
    listing["data"]["children"][2] = {"kind": "t3"}
    listing["data"]["children"][3] = "not an object"
    posts, dead = parser_for("reddit")(listing)
    assert len(posts) == 4
    assert [d.reason for d in dead] == ["missing field 'data'", "record must be an object, got str"]


def test_naver_bad_postdate_is_refused() -> None:
    body = json.loads((FIXTURES / "naver" / "synthetic_blog.json").read_text())
    body["items"][0]["postdate"] = "2026-11-21"
    posts, dead = parser_for("naver")(body)
    assert len(posts) == 1 and dead[0].reason == "field 'postdate' must be YYYYMMDD, got '2026-11-21'"


@pytest.mark.parametrize(
    "platform", ["x", "reddit", "mastodon", "bluesky", "naver", "youtube", "appstore", "googleplay"]
)
@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe\x00", b"[1, 2", "null"])
def test_unreadable_bodies_become_one_dead_letter(platform: str, body: bytes | str) -> None:
    posts, dead = parser_for(platform)(body)
    assert posts == [] and len(dead) == 1 and dead[0].platform == platform and dead[0].reason


@pytest.mark.parametrize(
    "platform", ["x", "reddit", "mastodon", "bluesky", "naver", "youtube", "appstore", "googleplay"]
)
def test_records_of_the_wrong_shape_never_crash(platform: str) -> None:
    shapes: list[Any] = [{"data": [1, None, "x", []]}, [1, None, {}], {"posts": [None, 3]}, {"items": [[], 2]}]
    for shape in shapes:
        posts, dead = parser_for(platform)(shape)
        assert posts == []


def test_broken_text_in_an_author_field_refuses_the_post() -> None:
    body = x_fixture("searches_search_tweets_query.json").replace(b"Emily Waligoske", b"Emily \xff")
    posts, dead = parser_for("x")(body)
    assert {d.reason for d in dead} == {"field 'author.display_name' is not valid UTF-8 text"}
    assert all(p.author.handle != "happycamper" for p in posts)
