"""Which words a set of posts uses far more than a baseline set: the "terms that rose" in an alert."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from dangol.core.text import words


def tokens(text: str) -> set[str]:
    """The distinct words of a post (see `dangol.core.text.words`)."""
    return set(words(text))


def rising_terms(
    episode: Iterable[str], baseline: Iterable[str], *, limit: int = 8, min_posts: int = 3
) -> list[tuple[str, int, float]]:
    """(term, posts using it, lift) for terms used by far more of the episode's posts than the baseline's.

    Lift is the ratio of the shares of posts using the term, add-one smoothed so a term absent
    from a small baseline does not get an infinite score; it must be at least 2.
    """
    episode_df, baseline_df = Counter[str](), Counter[str]()
    n_episode = n_baseline = 0
    for text in episode:
        episode_df.update(tokens(text))
        n_episode += 1
    for text in baseline:
        baseline_df.update(tokens(text))
        n_baseline += 1
    scored = []
    for term, count in episode_df.items():
        if count < min_posts:
            continue
        lift = ((count + 1) / (n_episode + 2)) / ((baseline_df[term] + 1) / (n_baseline + 2))
        if lift >= 2:
            scored.append((term, count, lift))
    scored.sort(key=lambda t: (-math.log(t[2]) * t[1], t[0]))
    return scored[:limit]
