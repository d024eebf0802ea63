"""What a post wants: complaint, question, praise, suggestion or other, in any language the encoder reads.

Sentiment says how a post feels; intent says what to do with it. A polite complaint ("환불 언제
되나요?") is calm, yet it is a complaint to answer. Sarcasm is caught only where the sentiment model
sees through it: a "great service, 2 hours on hold" it reads as confident praise stays praise (rules
for it found fewer complaints than they lost praise: nlp/models/MODEL_CARD.md). Intent is decided in
this order, the first that holds:

1. spam is `other`;
2. `complaint`: the complaint rules of `nlp.signals` (complaint wording with a negative reading or a
   complaint topic), or a post closest to the complaint examples that is not read as positive;
3. `question`: a question mark, an English question opener or a Korean question ending;
4. `suggestion`: suggestion wording, or closest to the suggestion examples;
5. `praise`: read as positive;
6. `other`: chatter, news, announcements.

The examples (`[intent]` in config.toml, any language) are the few-shot part: each intent's
examples are embedded once and a post is compared to their mean, like complaint topics. Because
the encoder is multilingual, English examples match Korean posts and the other way round.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from nlp import signals

if TYPE_CHECKING:
    from nlp.base import Encoder

INTENTS = ("complaint", "question", "praise", "suggestion", "other")
# Intents with examples; "other" is what is left.
EXAMPLE_INTENTS = ("complaint", "question", "praise", "suggestion")

_SUGGESTION = re.compile(
    r"\b(would be (nice|great|cool)|it'?d be (nice|great)|please (add|bring|consider|make)|"
    r"(you )?should (add|bring|offer|have)|i wish (you|they|there)|suggest(ion)?|feature request|"
    r"how about (adding|a|an)|could you (add|bring|offer))\b"
    r"|(있으면 좋겠|했으면 좋겠|해\s?주시면 좋겠|추가해\s?주세요|추가해\s?주시|건의|제안)",
    re.IGNORECASE,
)
# Closest to the complaint examples by at least this much (cosine) over the runner-up intent.
PROTOTYPE_MARGIN = 0.01
# A post read this positive is never a complaint by examples alone (it may still be by the rules).
MAX_POSITIVE_FOR_EXAMPLES = 0.5


class IntentModel:
    """Intent of posts from the complaint rules, question and suggestion wording, sentiment and the
    closeness of the post to each intent's examples."""

    def __init__(self, centroids: dict[str, np.ndarray]) -> None:
        self.names = [name for name in EXAMPLE_INTENTS if name in centroids]
        dim = next(iter(centroids.values())).shape[0] if centroids else 0
        self.centroids = (
            np.stack([centroids[n] for n in self.names]) if self.names else np.zeros((0, dim), dtype=np.float32)
        )

    @classmethod
    def from_examples(cls, examples: Mapping[str, list[str]], encoder: Encoder) -> IntentModel:
        """Embed every intent's examples in one encoder call; an intent without examples is left out."""
        names = [n for n in EXAMPLE_INTENTS if examples.get(n)]
        texts = [t for n in names for t in examples[n]]
        if not texts:
            return cls({})
        vectors = np.asarray(encoder.encode(texts), dtype=np.float32)
        out: dict[str, np.ndarray] = {}
        start = 0
        for name in names:
            mean = vectors[start : start + len(examples[name])].mean(axis=0)
            out[name] = mean / max(float(np.linalg.norm(mean)), 1e-12)
            start += len(examples[name])
        return cls(out)

    def nearest(self, embeddings: np.ndarray) -> list[str | None]:
        """Per post, the intent whose examples it is clearly closest to (None when no clear winner)."""
        if not self.names or not len(embeddings):
            return [None] * len(embeddings)
        sims = np.asarray(embeddings, dtype=np.float32) @ self.centroids.T
        order = np.argsort(-sims, axis=1)
        out: list[str | None] = []
        for row, ranked in zip(sims, order, strict=True):
            clear = len(ranked) == 1 or row[ranked[0]] - row[ranked[1]] >= PROTOTYPE_MARGIN
            out.append(self.names[ranked[0]] if clear else None)
        return out

    def classify(
        self,
        texts: list[str],
        embeddings: np.ndarray,
        sentiments: Sequence[Mapping[str, float]],
        topics: Sequence[Mapping[str, float]],
        spam: Sequence[bool],
        questions: Sequence[bool],
    ) -> list[str]:
        """One intent per post (see the module docstring for the order of the rules); `spam` and
        `questions` say which posts `signals.is_spam` and `signals.is_question` found to be so (the
        analyzer reads both once a post and stores them too)."""
        nearest = self.nearest(embeddings)
        return [decide(*post) for post in zip(texts, sentiments, topics, nearest, spam, questions, strict=True)]


def decide(
    text: str, probs: Mapping[str, float], topics: Mapping[str, float], nearest: str | None, spam: bool, question: bool
) -> str:
    """The intent of one post from its text, sentiment, topics, nearest examples, whether it is spam
    (`signals.is_spam`) and whether it asks something (`signals.is_question`)."""
    if spam:
        return "other"
    positive = probs.get("positive", 0.0)
    if signals.reads_as_complaint(text, probs, topics):
        return "complaint"
    if nearest == "complaint" and positive < MAX_POSITIVE_FOR_EXAMPLES and probs.get("negative", 0.0) >= positive:
        return "complaint"
    if question:
        return "question"
    if _SUGGESTION.search(text or "") or nearest == "suggestion":
        return "suggestion"
    if max(probs, key=lambda label: probs[label], default="neutral") == "positive":
        return "praise"
    return "other"


def complaint_sentiment(probs: Mapping[str, float]) -> dict[str, float]:
    """A complaint's sentiment: its neutral share counts as negative. Calm complaints ("my stamps
    disappeared") read neutral to models trained on tweets and reviews, yet they are the customer's
    negative voice, and queue order, reports and alerts must count them so."""
    out = dict(probs)
    out["negative"] = out.get("negative", 0.0) + out.get("neutral", 0.0)
    out["neutral"] = 0.0
    return out
