"""Which words a set of posts uses far more than a baseline set: the "terms that rose" in an alert."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

TOKEN = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
# Function words only; topic words such as "order" or "app" are exactly what should surface.
STOPWORDS = frozenset(
    "a an and are as at be but by for from had has have i i'm im is it it's its just me my no not of on or so that "
    "the their them they this to too was we were what when with you your our us rt via amp https http www com "
    "still again very really can can't cant don't dont do did does why how".split()
)


def tokens(text: str) -> set[str]:
    """The distinct lower-cased words of a post (two letters or more, no stopwords, no URLs)."""
    text = re.sub(r"https?://\S+", " ", text.lower())
    return {t for t in TOKEN.findall(text) if len(t) >= 2 and t not in STOPWORDS}


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
