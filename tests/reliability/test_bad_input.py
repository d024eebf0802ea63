"""Bad input from the platforms: mutated real payloads with oversized, broken and strange text
either parse into posts that store cleanly (SQLite and PostgreSQL) or become dead letters with a
reason. Nothing crashes and nothing PostgreSQL refuses (NUL, lone surrogates) reaches it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dangol.core.types import DeadLetterIn, Page, PostIn
from listener.base import parser_for
from storage import ingest
from storage.models import DeadLetter, Post
from tests.conftest import FIXTURES, REPO
from tests.listener.conftest import mastodon_body, reddit_body, x_fixture


def _bluesky() -> bytes:
    thread = json.loads((FIXTURES / "bluesky" / "thread_view_post_with_embed_media.json").read_text())
    return json.dumps({"posts": [thread["thread"]["post"]], "cursor": "1"}).encode()


BODIES: dict[str, bytes] = {
    "x": x_fixture("searches_search_tweets_query.json"),
    "reddit": reddit_body("TestSubredditListings.test_comments.json", "/comments"),
    "mastodon": mastodon_body("test_hashtag_tl.yaml", "/timelines/tag/hoot"),
    "bluesky": _bluesky(),
    "naver": (FIXTURES / "naver" / "synthetic_blog.json").read_bytes(),
    "rss": (REPO / "dangol" / "demo_data" / "rss" / "page-0001.xml").read_bytes(),  # no recorded RSS is vendored
    "youtube": (FIXTURES / "youtube" / "comment_threads_by_video_paged_1.json").read_bytes(),
    "appstore": (FIXTURES / "appstore" / "synthetic_reviews_with_app_entry.json").read_bytes(),
    "googleplay": (FIXTURES / "googleplay" / "synthetic_reviews.json").read_bytes(),
}

NASTY = st.one_of(
    st.text(max_size=40),
    st.just("x" * 300_000),  # far beyond any platform's limit
    st.just("😀" * 5000),
    st.just("bad\x00text\x00"),
    st.just("\u202eevil\u202c \u200b\u200c\u200d\ufeff zero width"),
    st.just("مرحبا بالعالم עברית"),
    st.just("lone \udcff surrogate"),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
)
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), NASTY)


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a JSON document."""
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += _paths(value, (*prefix, index))
    return found


def _replace(doc: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[head] = _replace(doc[head], rest, value)
    return copy


@st.composite
def mutated(draw: st.DrawFn, platform: str) -> bytes | Any:
    """A real payload with a few values replaced, or its bytes cut or corrupted."""
    body = BODIES[platform]
    how = draw(st.sampled_from(["values", "values", "values", "bytes"]))
    if platform == "rss" or how == "bytes":
        data = bytearray(body)
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(data) - 1))
            insert = draw(NASTY).encode("utf-8", errors="surrogateescape")
            data[at:at] = draw(st.sampled_from([insert, b"\xff\xfe", b"\x00", b""]))
        return bytes(data[: draw(st.integers(len(data) // 2, len(data)))]) if draw(st.booleans()) else bytes(data)
    doc = json.loads(body)
    paths = _paths(doc)
    for _ in range(draw(st.integers(1, 5))):
        doc = _replace(doc, draw(st.sampled_from(paths)), draw(JSON_LEAF))
        paths = _paths(doc)
    return doc


def _check_records(platform: str, posts: list[PostIn], dead: list[DeadLetterIn]) -> None:
    assert all(isinstance(p, PostIn) and p.platform == platform for p in posts)
    assert all(isinstance(d, DeadLetterIn) and d.reason.strip() for d in dead)


@pytest.mark.parametrize("platform", sorted(BODIES))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_payloads_are_stored_or_dead_lettered_with_a_reason_never_a_crash(platform, data, session):
    body = data.draw(mutated(platform))
    posts, dead = parser_for(platform)(body)
    _check_records(platform, posts, dead)
    source = ingest.get_or_create_source(session, name=f"fuzz_{platform}", use="replay")
    result = ingest.store_page(session, source=source, page=Page(posts, {"n": 1}, dead))
    session.commit()
    assert result.new_posts + result.duplicates + result.deleted == len(posts)
    assert result.dead_letters == len(dead)


@pytest.mark.parametrize(
    "text",
    ["x" * 300_000, "😀" * 5000, "nul\x00inside\x00", "\u202eRTL\u202c\u200b\u200d\ufeff", "lone \udcff half", ""],
    ids=["oversized", "emoji", "nul", "rtl-zero-width", "surrogate", "empty"],
)
def test_strange_text_reaching_storage_is_stored_without_nul_or_broken_characters(text, session, make_post):
    post = make_post(text=text, title=f"t{text[:10]}", raw={"text": text}, display_name=f"n{text[:5]}")
    source = ingest.get_or_create_source(session, name="strange", use="replay")
    assert ingest.store_page(session, source=source, page=Page([post], {})).new_posts == 1
    session.commit()
    stored = session.execute(select(Post).where(Post.external_id == post.external_id)).scalar_one()
    assert "\x00" not in stored.text and "\x00" not in (stored.raw or "")
    stored.text.encode("utf-8")  # no lone surrogates left
    assert stored.text == text.replace("\x00", "").encode("utf-8", errors="replace").decode("utf-8")


def test_dead_letters_with_nul_bytes_and_broken_utf8_are_kept_with_their_reason(session):
    posts, dead = parser_for("x")(b'{"data": [{"id": "1", "text": "a\\u0000b", "author_id": "9"}]}\xff')
    assert posts == [] and dead
    source = ingest.get_or_create_source(session, name="broken", use="replay")
    ingest.store_page(session, source=source, page=Page([], {}, [*dead, DeadLetterIn("x", "why\x00", b"\x00\xff")]))
    session.commit()
    letters = list(session.execute(select(DeadLetter)).scalars())
    assert len(letters) == len(dead) + 1 and all(letter.reason and "\x00" not in letter.raw for letter in letters)


QUERY_PARTS = st.sampled_from(
    ['"', "(", ")", "-", ":", "OR", "AND", "NOT", "lang:", "from:", "is:retweet", " ", "마루"]
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.lists(st.one_of(QUERY_PARTS, st.text(max_size=6)), max_size=12).map("".join), text=NASTY)
def test_any_query_parses_or_is_refused_with_a_column_and_matches_any_text_without_crashing(query, text, make_post):
    from listener.query import QuerySyntaxError, matches, parse_query

    try:
        ast = parse_query(query)
    except QuerySyntaxError as exc:
        assert 1 <= exc.column <= len(query) + 1 and str(exc)
        return
    assert matches(ast, make_post(text=text, title=text[:50])) in (True, False)


@pytest.mark.parametrize("declared", [b"\xff\xfeUTF-8", b"\x00UTF-8", b"no-such-codec"])
def test_an_rss_body_with_a_broken_encoding_declaration_is_one_dead_letter(declared):
    body = BODIES["rss"].replace(b'encoding="UTF-8"', b'encoding="' + declared + b'"', 1)
    assert body != BODIES["rss"]
    posts, dead = parser_for("rss")(body)
    assert len(dead) <= 1 and all(d.reason for d in dead)
    assert posts or dead


def test_a_huge_id_link_and_follower_count_are_stored_not_fatal(session) -> None:
    from datetime import UTC, datetime

    from dangol.core.types import MAX_COUNT, AuthorIn, PostIn

    link = "https://blog.naver.com/x/" + "9" * 3000  # over PostgreSQL's btree row limit
    author = AuthorIn("naver", "b" * 3000, "h" * 3000, followers=3_000_000_000)
    posts = [
        PostIn(
            platform="naver",
            external_id=link,
            author=author,
            text="긴 링크",
            created_at=datetime(2026, 11, 20, tzinfo=UTC),
            url=link,
            metrics={"likes": 10**12},
        ),
        # the same id again
        PostIn(
            platform="naver",
            external_id=link,
            author=author,
            text="같은 링크",
            created_at=datetime(2026, 11, 20, tzinfo=UTC),
        ),
    ]
    source = ingest.get_or_create_source(session, name="huge", use="replay")
    result = ingest.store_page(session, source=source, page=Page(posts, {"n": 1}, []))
    session.commit()
    assert (result.new_posts, result.duplicates) == (1, 1)
    assert posts[0].external_id.startswith("sha256:") and len(posts[0].external_id) == 71
    assert author.followers == MAX_COUNT and posts[0].metrics == {"likes": MAX_COUNT}
