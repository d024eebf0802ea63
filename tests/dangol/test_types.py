"""What a collected post says about its reach."""

from datetime import UTC, datetime

from dangol.core.types import AuthorIn, PostIn


def _review(metrics: dict[str, int]) -> PostIn:
    author = AuthorIn(platform="appstore", platform_id="u1", handle="reviewer")
    return PostIn("appstore", "r1", author, "Crashes on launch", datetime(2026, 12, 1, tzinfo=UTC), metrics=metrics)


def test_a_star_rating_is_not_engagement_but_reactions_are() -> None:
    # A 5-star rating counted as reach would rank praise above a 1-star complaint.
    assert _review({"rating": 5}).engagement == _review({"rating": 1}).engagement == 0
    assert _review({"rating": 1, "likes": 3, "replies": 2}).engagement == 5
