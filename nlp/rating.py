"""A review's star rating as evidence for its sentiment, next to what its text says.

A store review (App Store, Google Play) comes with 1 to 5 stars, the reviewer's own verdict. The
text model reads only words, and short or sarcastic reviews ("great, another update that logs me
out") fool it. So, after the text model, each post with `metrics["rating"]` gets its probabilities
mixed with the rating's prior:

    p = (1 - RATING_WEIGHT) · p_text + RATING_WEIGHT · prior[rating]

1–2 stars lean negative, 3 neutral, 4–5 positive. The text keeps the larger share, so a clearly
negative text survives 4 or 5 stars ("great app but it crashes on every order" with 4 stars is
still negative, and still a complaint), while an unsure or flat text follows the stars. One rule
comes after: a 1- or 2-star review is never shown positive. If positive is still the largest share
(praise words under 1–2 stars: irony, or praise of one thing in a complaint about another), the
positive and negative shares are swapped. There is no such rule for 4–5 stars: customers do give
good ratings with a complaint, and that complaint must reach the queue.
"""

from __future__ import annotations

from collections.abc import Mapping

# The rating's share of the mix. 0.4 leaves the text the larger part: a text the model reads as
# ≥ 75% negative stays negative under 5 stars; one it is unsure of (≤ 60%) follows the stars.
RATING_WEIGHT = 0.4
# What each rating says alone, over negative / neutral / positive (sums to 1).
RATING_PRIORS: dict[int, dict[str, float]] = {
    1: {"negative": 0.90, "neutral": 0.08, "positive": 0.02},
    2: {"negative": 0.70, "neutral": 0.25, "positive": 0.05},
    3: {"negative": 0.20, "neutral": 0.60, "positive": 0.20},
    4: {"negative": 0.05, "neutral": 0.25, "positive": 0.70},
    5: {"negative": 0.02, "neutral": 0.08, "positive": 0.90},
}
# Ratings at or below this are never shown positive.
NEVER_POSITIVE_AT_OR_BELOW = 2


def with_rating(probs: Mapping[str, float], rating: int | None) -> dict[str, float]:
    """The text's sentiment probabilities with the star rating's prior mixed in (see the module
    docstring); unchanged without a rating or with one outside 1–5."""
    prior = RATING_PRIORS.get(rating) if isinstance(rating, int) else None
    if prior is None:
        return dict(probs)
    labels = list(dict.fromkeys([*probs, *prior]))
    out = {k: (1 - RATING_WEIGHT) * probs.get(k, 0.0) + RATING_WEIGHT * prior.get(k, 0.0) for k in labels}
    assert rating is not None
    if rating <= NEVER_POSITIVE_AT_OR_BELOW and out["positive"] >= max(out["negative"], out["neutral"]):
        out["positive"], out["negative"] = out["negative"], out["positive"]
    return out
