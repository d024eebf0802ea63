"""A review's star rating mixed into the text's sentiment (nlp.rating)."""

from __future__ import annotations

import pytest

from nlp.rating import RATING_PRIORS, RATING_WEIGHT, with_rating

PRAISE = {"negative": 0.02, "neutral": 0.08, "positive": 0.90}
FLAT = {"negative": 0.30, "neutral": 0.40, "positive": 0.30}
ANGRY = {"negative": 0.90, "neutral": 0.08, "positive": 0.02}


def top(probs: dict[str, float]) -> str:
    return max(probs, key=lambda label: probs[label])


def test_the_mix_is_the_weighted_average_of_text_and_prior() -> None:
    mixed = with_rating(FLAT, 4)
    for label in FLAT:
        expected = (1 - RATING_WEIGHT) * FLAT[label] + RATING_WEIGHT * RATING_PRIORS[4][label]
        assert mixed[label] == pytest.approx(expected)
    assert sum(mixed.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(("rating", "expected"), [(1, "negative"), (2, "negative"), (3, "neutral"), (4, "positive"),
                                                  (5, "positive")])  # fmt: skip
def test_an_unsure_text_follows_the_stars(rating: int, expected: str) -> None:
    assert top(with_rating(FLAT, rating)) == expected


@pytest.mark.parametrize("rating", [1, 2])
@pytest.mark.parametrize("text", [PRAISE, {"positive": 1.0, "neutral": 0.0, "negative": 0.0}])
def test_one_or_two_stars_are_never_shown_positive(rating: int, text: dict[str, float]) -> None:
    mixed = with_rating(text, rating)
    assert top(mixed) != "positive" and sum(mixed.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("rating", [4, 5])
def test_a_clearly_negative_text_stays_negative_under_good_stars(rating: int) -> None:
    assert top(with_rating(ANGRY, rating)) == "negative"


@pytest.mark.parametrize("rating", [None, 0, 6, "5"])
def test_no_rating_or_an_impossible_one_leaves_the_text_alone(rating: object) -> None:
    assert with_rating(PRAISE, rating) == PRAISE  # type: ignore[arg-type]
