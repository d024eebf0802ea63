"""What a collected post says about its reach, and how a collected post is cleaned when built."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dangol.core.types import MAX_COUNT, MAX_ID_CHARS, AuthorIn, PostIn, bounded_id

AUTHOR = AuthorIn(platform="appstore", platform_id="u1", handle="reviewer")
WHEN = datetime(2026, 12, 1, tzinfo=UTC)


def _review(metrics: dict[str, int]) -> PostIn:
    return PostIn(
        platform="appstore", external_id="r1", author=AUTHOR, text="Crashes on launch", created_at=WHEN, metrics=metrics
    )


def test_a_star_rating_is_not_engagement_but_reactions_are() -> None:
    # A 5-star rating counted as reach would rank praise above a 1-star complaint.
    assert _review({"rating": 5}).engagement == _review({"rating": 1}).engagement == 0
    assert _review({"rating": 1, "likes": 3, "replies": 2}).engagement == 5


def test_a_collected_post_is_cleaned_when_built() -> None:
    seoul = timezone(timedelta(hours=9))
    long_id = "9" * (MAX_ID_CHARS + 1)
    post = PostIn(
        platform="x",
        external_id=long_id,
        author=AUTHOR,
        text="a\x00b",
        title="t\x00",
        created_at=datetime(2026, 12, 1, 9, tzinfo=seoul),
        url="javascript:alert(1)",
        reply_to_id=long_id,
        thread_id="t" * MAX_ID_CHARS,
        referenced_id=None,
        metrics={"likes": 10**12, "reposts": -3, "quotes": True, "views": "12", "ratio": 0.5},
    )
    assert post.created_at == datetime(2026, 12, 1, 0, tzinfo=UTC) and post.created_at.tzinfo is UTC
    assert (post.text, post.title, post.url) == ("ab", "t", None)
    assert post.external_id == post.reply_to_id == bounded_id(long_id) and post.external_id.startswith("sha256:")
    assert post.thread_id == "t" * MAX_ID_CHARS and post.referenced_id is None
    # Only integers are kept, clamped to 0..MAX_COUNT; True counts as 1.
    assert post.metrics == {"likes": MAX_COUNT, "reposts": 0, "quotes": 1}


def test_a_post_without_text_or_id_is_kept_with_empty_strings() -> None:
    post = PostIn(platform="rss", external_id=None, author=AUTHOR, text=None, created_at=WHEN)  # type: ignore[arg-type]
    assert (post.external_id, post.text, post.metrics) == ("", "", {})


@pytest.mark.parametrize("created_at", [datetime(2026, 12, 1), "2026-12-01T00:00:00+00:00", 1_764_547_200])
def test_a_time_without_a_zone_or_not_a_time_is_refused(created_at: object) -> None:
    # A naive time is ambiguous; a string or a number is never read as a time.
    with pytest.raises((ValueError, AttributeError)):
        PostIn(platform="x", external_id="1", author=AUTHOR, text="t", created_at=created_at)  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["is_reply", "lang_hint", "platform"])
def test_no_value_is_coerced_into_another_type(field: str) -> None:
    with pytest.raises(ValueError):
        PostIn(**{"platform": "x", "external_id": "1", "author": AUTHOR, "text": "t", "created_at": WHEN, field: 1})


def test_the_plain_link_shortcut_agrees_with_the_full_check() -> None:
    """web_link accepts plain http(s) links by a regex before urlsplit: both must decide alike."""
    import random

    from dangol.core import types

    def full_check(url: str) -> str | None:
        shortcut, types._PLAIN_WEB_LINK = types._PLAIN_WEB_LINK, types.re.compile(r"(?!)")
        try:
            return types.web_link(url)
        finally:
            types._PLAIN_WEB_LINK = shortcut

    pieces = ["http", "https", "HTTP", "javascript", ":", "//", "/", "a", "b.example", "-", ".", "?", "#", "=",
              "%20", " ", "\t", "\n", "\x00", "[", "]", "@", "마루", ":8080", ":99999", "\x7f", "\\"]  # fmt: skip
    rng = random.Random(20261205)
    urls = ["https://example.com/a?b=1", "http://a.example:8080/x#y", "https://마루.example/", "http://[::1]/"]
    urls += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 9))) for _ in range(20_000)]
    hosts = ["a", "b.example", "x-y.example", "a.example:8080", ""]
    urls += [
        f"{rng.choice(['http', 'https'])}://{rng.choice(hosts)}{''.join(rng.choice(pieces[5:]) for _ in range(5))}"
        for _ in range(20_000)
    ]
    shortcut_taken = 0
    for url in urls:
        shortcut_taken += bool(types._PLAIN_WEB_LINK.fullmatch(url.strip()))
        assert types.web_link(url) == full_check(url), repr(url)
    assert shortcut_taken > 1000  # the comparison covered the shortcut, not only the slow path
