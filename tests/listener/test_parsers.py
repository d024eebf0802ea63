"""Every recorded API response in tests/fixtures/platforms goes through the platform parsers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from listener.bluesky import parse_bluesky
from listener.mastodon import parse_mastodon
from listener.naver import parse_naver
from listener.reddit import parse_reddit
from listener.rss import parse_rss
from listener.x import parse_x, snowflake_time
from tests.conftest import FIXTURES
from tests.listener.conftest import cassette, mastodon_body, reddit_body, x_fixture

X_CASSETTES = sorted(p.name for p in (FIXTURES / "x" / "decoded").glob("*.yaml"))


def test_x_search_with_expansions_joins_authors_and_reply_references() -> None:
    posts, dead = parse_x(x_fixture("searches_search_tweets_query.json"))
    assert (len(posts), dead) == (4, [])
    first = posts[0]
    assert first.external_id == "1276035977375477760"
    assert first.text.startswith("@snowman Ooo, thanks error message, public_metircs")
    assert first.created_at == datetime(2020, 6, 25, 6, 14, 19, tzinfo=UTC)
    assert first.lang_hint == "en"
    assert first.reply_to_id == "1275653067283759104"
    assert first.is_reply and not first.is_retweet and not first.is_quote
    assert first.author.platform_id == "63046977"
    assert first.author.handle == "happycamper"
    assert first.author.display_name == "Emily Waligoske 🏕"
    assert first.author.bio is not None and first.author.bio.startswith("Part-time fiddler")
    assert first.url == "https://x.com/happycamper/status/1276035977375477760"
    assert first.raw["source"] == "Twitter for iPhone"


def test_x_retweet_is_flagged_with_the_retweeted_id() -> None:
    posts, _ = parse_x(x_fixture("searches_search_tweets_for_nyc.json"))
    retweet = posts[0]
    assert retweet.external_id == "1275840892285399041"
    assert retweet.is_retweet and retweet.referenced_id == "1275809336988557314"
    assert retweet.author.platform_id == "1176828691365736451"
    assert retweet.author.handle == ""  # no includes.users in this response
    assert retweet.url == "https://x.com/i/web/status/1275840892285399041"
    assert len(posts) == 10


def test_x_public_metrics_and_conversation_become_metrics_and_thread() -> None:
    posts, dead = parse_x(x_fixture("tweet_tweet_quote_tweets_resp.json"))
    assert (len(posts), dead) == (15, [])
    post = posts[1]
    assert post.external_id == "1486385372401737728"
    assert post.author.handle == "whimchic"
    assert post.metrics == {"likes": 0, "reposts": 43, "replies": 0, "quotes": 0}
    assert post.thread_id == "1486385372401737728"
    assert post.created_at == datetime(2022, 1, 26, 17, 7, 43, tzinfo=UTC)


def test_x_tweets_lookup_with_author_expansion() -> None:
    posts, _ = parse_x(x_fixture("tweet_tweets_resp.json"))
    assert [p.author.handle for p in posts] == ["TwitterDev", "Twitter"]
    assert posts[0].external_id == "1261326399320715264"
    assert posts[0].text.startswith("Tune in to the @MongoDB @Twitch stream")


@pytest.mark.parametrize("name", ["timeline_timeline_mentions.json", "tweet_tweet_resp.json"])
def test_x_tweets_without_author_id_become_dead_letters(name: str) -> None:
    body = json.loads(x_fixture(name))
    posts, dead = parse_x(body)
    data = body["data"] if isinstance(body["data"], list) else [body["data"]]
    assert posts == []
    assert [d.raw["id"] for d in dead] == [t["id"] for t in data]
    assert {d.reason for d in dead} == {"missing field 'author_id'"}


@pytest.mark.parametrize("name", ["user_user_resp.json", "user_users_resp.json"])
def test_x_user_objects_are_refused_as_posts(name: str) -> None:
    posts, dead = parse_x(x_fixture(name))
    assert posts == [] and dead and all(d.reason == "missing field 'text'" for d in dead)


@pytest.mark.parametrize("name", X_CASSETTES)
def test_every_recorded_x_cassette_parses_without_crashing(name: str) -> None:
    body = x_fixture(name)
    doc = json.loads(body)
    posts, dead = parse_x(body)
    data = doc.get("data") or []
    records = data if isinstance(data, list) else [data]
    # tweepy recorded default fields only (no author_id expansion): every record is refused, none lost.
    assert posts == [] and len(dead) == len(records)
    assert all(d.platform == "x" and d.raw in records for d in dead)


def test_x_mentions_cassette_keeps_the_real_text_in_the_dead_letter() -> None:
    _, dead = parse_x(x_fixture("test_client_get_users_mentions.yaml"))
    assert dead[0].raw["id"] == "1578516295611748353"
    assert dead[0].raw["text"].startswith("@Twitter @TwitterSupport this is my ENTIRE feed")


def test_x_creation_time_can_be_read_from_the_snowflake_id() -> None:
    # 1578516068309794817 was recorded by tweepy's test at "2022-10-07 22:42:12.637103" (its text).
    written = datetime(2022, 10, 7, 22, 42, 12, 637103, tzinfo=UTC)
    assert 0 <= (snowflake_time("1578516068309794817") - written).total_seconds() < 1


def test_reddit_new_posts_listing() -> None:
    posts, dead = parse_reddit(reddit_body("TestSubredditListings.test_new.json", "/new"))
    assert (len(posts), dead) == (100, [])
    post = posts[0]
    assert post.external_id == "t3_48fbm9"
    assert post.title == "[Serious] Parents of Reddit, what's the biggest lie about yourself you've told your kids?"
    assert post.author.handle == "RedHeadQc"
    assert post.created_at == datetime(2016, 3, 1, 8, 37, 38, tzinfo=UTC)
    assert (
        post.url
        == "https://www.reddit.com/r/AskReddit/comments/48fbm9/serious_parents_of_reddit_whats_the_biggest_lie/"
    )
    assert post.metrics == {"score": 1, "replies": 1}
    assert post.thread_id == "t3_48fbm9" and not post.is_reply


def test_reddit_comments_listing_links_each_comment_to_its_post() -> None:
    posts, dead = parse_reddit(reddit_body("TestSubredditListings.test_comments.json", "/comments"))
    assert (len(posts), dead) == (100, [])
    comment = posts[0]
    assert comment.external_id == "t1_d4y8bdp"
    assert comment.text == "great, life is so much better when you can do what you enjoy for a living"
    assert comment.author.handle == "preppypuppy"
    assert comment.reply_to_id == "t3_4r4inc" and comment.thread_id == "t3_4r4inc" and comment.is_reply
    assert comment.created_at == datetime(2016, 7, 4, 0, 4, 50, tzinfo=UTC)
    assert comment.url == "https://www.reddit.com/comments/4r4inc/_/d4y8bdp/"


def test_reddit_search_results_join_title_and_selftext() -> None:
    posts, _ = parse_reddit(reddit_body("TestSubreddit.test_search.json", "/search"))
    assert len(posts) == 6
    post = posts[0]
    assert post.external_id == "t3_3gpbiu"
    assert post.title == "[PRAW][OAuth2Util] Problem using get_banned() : raise Forbidden(_raw=response)"
    assert post.text.startswith(post.title + "\n\n")
    assert post.metrics == {"score": 0, "replies": 21}


def test_reddit_mentions_and_stream_cassettes_parse() -> None:
    mentions, _ = parse_reddit(reddit_body("TestInbox.test_mentions.json", "/message/mentions"))
    assert len(mentions) == 16 and all(m.external_id.startswith("t1_") for m in mentions)
    first, _ = parse_reddit(reddit_body("TestSubredditStreams.test_comments__with_pause.json", "limit=100"))
    empty, dead = parse_reddit(reddit_body("TestSubredditStreams.test_comments__with_pause.json", "before="))
    assert len(first) == 16 and first[0].text == "i lick it"
    assert (empty, dead) == ([], [])


def test_reddit_429_html_body_is_one_dead_letter() -> None:
    body = reddit_body("TestSession.test_request__too__many_requests__with_retry_headers.json", "/me")
    posts, dead = parse_reddit(body)
    assert posts == [] and len(dead) == 1 and dead[0].reason.startswith("response is not valid JSON")


@pytest.mark.parametrize("parse", [parse_mastodon, parse_reddit])
def test_a_body_nested_too_deeply_to_read_is_one_dead_letter(parse: Any) -> None:
    body = b"[" * 100_000 + b"]" * 100_000  # Python's json gives up by recursion, not as invalid JSON
    posts, dead = parse(body)
    assert posts == [] and [d.reason for d in dead] == ["response is nested too deeply to read as JSON"]
    assert dead[0].raw == "[" * 2000


def test_mastodon_hashtag_timeline_strips_html() -> None:
    posts, dead = parse_mastodon(mastodon_body("test_hashtag_tl.yaml", "/timelines/tag/hoot"))
    assert (len(posts), dead) == (1, [])
    post = posts[0]
    assert post.external_id == "117020593741189701"
    assert post.text == "#hoot (hashtag toot)"
    assert post.lang_hint == "ja"
    assert post.author.handle == "mastodonpy_test_2" and post.author.followers == 0
    assert post.created_at == datetime(2026, 8, 1, 13, 55, 55, 867000, tzinfo=UTC)
    assert post.url == "http://localhost:3000/@mastodonpy_test_2/117020593741189701"


def test_mastodon_single_status_and_its_author() -> None:
    posts, _ = parse_mastodon(mastodon_body("test_status.yaml", "/statuses/117020583223442465"))
    post = posts[0]
    assert (post.text, post.lang_hint) == ("Toot!", "en")
    assert post.author.display_name == "John Lennon" and post.author.bio == "I walk funny"
    assert post.metrics == {"replies": 0, "reposts": 0, "likes": 0, "quotes": 0}


@pytest.mark.parametrize(
    ("name", "uri"),
    [("test_search.yaml", "/api/v2/search"), ("test_status_context.yaml", "/context")],
)
def test_mastodon_search_and_context_results_parse(name: str, uri: str) -> None:
    for interaction in cassette(FIXTURES / "mastodon" / name):
        if uri in interaction["request"]["uri"]:
            body = json.loads(interaction["response"]["body"]["string"])
            posts, dead = parse_mastodon(body)
            expected = body.get("statuses", []) + body.get("ancestors", []) + body.get("descendants", [])
            assert [p.external_id for p in posts] == [s["id"] for s in expected] and dead == []


def test_mastodon_created_statuses_in_every_cassette_parse() -> None:
    count = 0
    for path in sorted((FIXTURES / "mastodon").glob("*.yaml")):
        for interaction in cassette(path):
            if interaction["request"]["method"] == "POST" and interaction["request"]["uri"].endswith("/statuses"):
                posts, dead = parse_mastodon(interaction["response"]["body"]["string"])
                assert len(posts) == 1 and dead == []
                count += 1
    assert count == 3


def test_bluesky_post_view_with_quote_and_media() -> None:
    thread = json.loads((FIXTURES / "bluesky" / "thread_view_post_with_embed_media.json").read_text())
    posts, dead = parse_bluesky({"posts": [thread["thread"]["post"]], "cursor": "1"})
    assert dead == []
    post = posts[0]
    assert post.external_id == "at://did:plc:kvwvcn5iqfooopmyzvb4qzba/app.bsky.feed.post/3kaheyt6vpc22"
    assert post.author.platform_id == "did:plc:kvwvcn5iqfooopmyzvb4qzba"
    assert (post.author.handle, post.author.display_name) == ("test.marshal.dev", "Python SDK")
    assert post.text == "" and post.lang_hint == "en"
    assert post.created_at == datetime(2023, 9, 28, 12, 49, 36, 735000, tzinfo=UTC)
    assert post.is_quote
    assert post.referenced_id == "at://did:plc:kvwvcn5iqfooopmyzvb4qzba/app.bsky.feed.post/3kahesw26il2z"
    assert post.url == "https://bsky.app/profile/test.marshal.dev/post/3kaheyt6vpc22"
    assert parse_bluesky(thread)[0] == posts


def test_bluesky_follows_listing_is_not_a_post_response() -> None:
    posts, dead = parse_bluesky((FIXTURES / "bluesky" / "get_follows.json").read_bytes())
    assert posts == [] and dead[0].reason.startswith("a Bluesky response has posts")


def test_naver_blog_strips_highlights_and_reads_postdate_in_seoul() -> None:
    posts, dead = parse_naver((FIXTURES / "naver" / "synthetic_blog.json").read_bytes())
    assert (len(posts), dead) == (2, [])
    post = posts[0]
    assert post.title == "테스트 브랜드 신제품 사용 후기 & 장단점"
    assert post.text == post.title + '\n\n오늘은 테스트 브랜드의 신제품을 2주 동안 써 본 "솔직" 후기를 남깁니다...'
    assert post.created_at == datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # 2026-11-21 00:00 KST
    assert post.author.handle == "example_blogger" and post.author.display_name == "예시 블로그"
    assert post.external_id == post.url == "https://blog.naver.com/example_blogger/224000000001"


def test_naver_news_reads_rfc822_pubdate_and_publisher() -> None:
    posts, _ = parse_naver((FIXTURES / "naver" / "synthetic_news.json").read_bytes())
    assert posts[0].created_at == datetime(2026, 11, 22, 11, 45, tzinfo=UTC)
    assert posts[0].author.handle == "news.example.invalid"
    assert posts[0].title == "테스트전자, 3분기 실적 발표"


def test_naver_cafe_article_takes_the_response_build_time() -> None:
    posts, _ = parse_naver((FIXTURES / "naver" / "synthetic_cafearticle.json").read_bytes())
    assert posts[0].created_at == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert (posts[0].author.handle, posts[0].author.display_name) == ("examplecafe", "예시 카페")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("synthetic_error_401_auth.json", "Naver error 024: Authentication failed"),
        ("synthetic_error_400_SE03.json", "Naver error SE03: Invalid start value"),
    ],
)
def test_naver_error_bodies_become_one_dead_letter(name: str, reason: str) -> None:
    posts, dead = parse_naver((FIXTURES / "naver" / name).read_bytes())
    assert posts == [] and len(dead) == 1 and dead[0].reason.startswith(reason)


RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Coffee Blog</title><link>https://blog.example/</link>
<language>ko-KR</language>
<item><title>Maru &amp; friends</title><link>https://blog.example/1</link><guid>post-1</guid>
<description>&lt;p&gt;The &lt;b&gt;latte&lt;/b&gt; was cold.&lt;/p&gt;</description>
<pubDate>Sun, 22 Nov 2026 21:00:00 +0900</pubDate><author>kim@blog.example (Kim)</author></item>
<item><title>No date</title><link>https://blog.example/2</link></item>
</channel></rss>"""


def test_rss_items_become_posts_and_undated_items_dead_letters() -> None:
    posts, dead = parse_rss(RSS)
    assert len(posts) == 1 and len(dead) == 1
    post = posts[0]
    assert post.external_id == "post-1"
    assert post.title == "Maru & friends"
    assert post.text == "Maru & friends\n\nThe latte was cold."
    assert post.created_at == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert post.lang_hint == "ko"
    assert post.url == "https://blog.example/1"
    assert dead[0].reason.startswith("entry has no published or updated date")


def test_rss_body_that_is_not_xml_is_one_dead_letter() -> None:
    posts, dead = parse_rss(b"<html><body>502 Bad Gateway")
    assert posts == [] and len(dead) == 1 and dead[0].reason.startswith("not a readable RSS/Atom feed")


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><title>Cafe news</title>
<link href="https://cafe.example/"/><updated>2026-11-22T10:00:00Z</updated><id>urn:feed</id>
<entry><title>New roast</title><id>urn:entry:1</id><link href="https://cafe.example/1"/>
<updated>2026-11-21T08:30:00Z</updated><author><name>Lee</name></author>
<content type="html">&lt;p&gt;Dark and &lt;em&gt;smooth&lt;/em&gt;&lt;/p&gt;</content></entry>
</feed>"""


def test_atom_entries_use_content_and_author() -> None:
    posts, dead = parse_rss(ATOM)
    assert dead == [] and len(posts) == 1
    post = posts[0]
    assert (post.external_id, post.title, post.url) == ("urn:entry:1", "New roast", "https://cafe.example/1")
    assert post.text == "New roast\n\nDark and smooth"
    assert post.author.handle == "Lee"
    assert post.created_at == datetime(2026, 11, 21, 8, 30, tzinfo=UTC)


def test_mastodon_boost_carries_the_boosted_text_and_reference() -> None:
    original = json.loads(mastodon_body("test_status.yaml", "/statuses/117020583223442465"))
    booster = json.loads(mastodon_body("test_hashtag_tl.yaml", "/timelines/tag/hoot"))[0]
    boost = booster | {"id": "117020600000000000", "content": "", "reblog": original}
    posts, dead = parse_mastodon([boost])
    assert dead == [] and posts[0].is_retweet
    assert posts[0].referenced_id == "117020583223442465"
    assert posts[0].text == "Toot!" and posts[0].author.handle == "mastodonpy_test_2"
