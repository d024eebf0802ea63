"""The Analyzer: everything the NLP stage concludes about a batch of posts, in one pass.

Per batch: language id, ONE encoder call (its embeddings feed sentiment, topics and near-duplicate
grouping, and are returned for storage and reply retrieval), sentiment, topic scores, signals,
risk, text hash and cluster key. Everything after the encoder is vectorised or cheap regexes,
so the whole runs close to the encoder's own speed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dangol.core.types import ClusterMember, utcnow
from nlp import signals
from nlp.base import PostText, Understanding, analysis_text
from nlp.dedup import DedupItem, cluster_keys
from nlp.encoders.cache import CachedEncoder
from nlp.intent import IntentModel, complaint_sentiment
from nlp.rating import with_rating
from nlp.risk import score_risk
from nlp.topics import DEFAULT_HEAD_PATH, FewShotHead, PrototypeScorer, TopicModel

if TYPE_CHECKING:
    from dangol.core.settings import Settings
    from nlp.base import Encoder, SentimentClassifier
    from nlp.taxonomy import Taxonomy

log = logging.getLogger(__name__)

ANALYZER_VERSION = "3"  # 2: intent, and complaints read negative; 3: star ratings mixed into sentiment
LanguageDetector = Callable[[list[str], list[str | None]], list[str]]


class Analyzer:
    """Turns PostTexts into Understandings; build it once (`from_settings`) and reuse it."""

    def __init__(
        self,
        encoder: Encoder,
        sentiment: SentimentClassifier,
        topics: TopicModel,
        *,
        duplicate_similarity: float = 0.92,
        detect_languages: LanguageDetector | None = None,
        head_path: Path | None = None,
        intents: IntentModel | None = None,
    ) -> None:
        if detect_languages is None:
            from nlp.langid import detect_languages as default_detector

            detect_languages = default_detector
        # Repeated texts (retweets, copy-paste waves) are encoded once per worker lifetime.
        self.encoder = encoder if isinstance(encoder, CachedEncoder) else CachedEncoder(encoder)
        self.sentiment = sentiment
        self.topics = topics
        self.duplicate_similarity = duplicate_similarity
        self.detect_languages = detect_languages
        self.intents = intents or IntentModel({})
        # The caller's version of the taxonomy in use (see `use_taxonomy`); None: as built.
        self.taxonomy_stamp: object = None
        self.head_path = head_path
        self._head_mtime = _mtime(head_path)

    @classmethod
    def from_settings(cls, settings: Settings, head_path: Path | str = DEFAULT_HEAD_PATH) -> Analyzer:
        """Build the configured encoder, sentiment classifier and topic model (with its head if trained)."""
        from nlp.encoders import build_encoder
        from nlp.langid import load_identifier
        from nlp.sentiment import build_sentiment
        from nlp.taxonomy import from_catalog

        encoder = build_encoder(settings)
        sentiment = build_sentiment(settings)
        check = getattr(sentiment, "check_encoder", None)
        if check is not None:
            check(encoder.version)
        taxonomy = from_catalog(settings.topic_catalog)
        scorer = PrototypeScorer.from_encoder(taxonomy, encoder)
        head = FewShotHead.load(head_path) if Path(head_path).exists() else None
        if head is not None and head.coef.shape[1] - len(head.kept) != encoder.dim:
            # Trained on another encoder's vectors (the other profile's): they would not fit.
            log.warning("topic head %s was trained on another encoder's vectors; ignoring it", head_path)
            head = None
        if head is not None and not set(head.classes) & set(taxonomy.keys):
            log.warning("topic head %s knows none of the configured topics; ignoring it", head_path)
            head = None
        # An encoder may read a language well enough for sentiment yet not match its posts to the
        # topic examples (the static table: Korean posts' best topic cosine is noise-level, 0.1-0.27):
        # those languages' topics come from characters, as for the languages it cannot read.
        lexical = blind_languages(encoder) | frozenset(getattr(encoder, "lexical_topic_languages", frozenset()))
        topics = TopicModel(scorer, settings.nlp.topic_threshold, head, lexical)
        # py3langid's model loads on first use (~0.5 s): here, with the other models, rather than
        # inside the first batch a worker analyzes.
        load_identifier()
        return cls(
            encoder,
            sentiment,
            topics,
            duplicate_similarity=settings.nlp.duplicate_similarity,
            head_path=Path(head_path),
            intents=IntentModel.from_examples(settings.nlp.intent.model_dump(), encoder),
        )

    def use_taxonomy(self, taxonomy: Taxonomy, stamp: object = None) -> None:
        """Classify into `taxonomy`'s topics from now on; only its added or edited topics are encoded.

        `stamp` is the caller's version of `taxonomy`, kept as `taxonomy_stamp` to compare with later.
        """
        scorer = PrototypeScorer.from_encoder(taxonomy, self.encoder, reuse=self.topics.scorer)
        self.topics = TopicModel(scorer, self.topics.threshold, self.topics.head, self.topics.blind_languages)
        self.taxonomy_stamp = stamp

    def reload_head_if_changed(self) -> bool:
        """Read the topic head again when `dangol topics train` rewrote (or removed) its file, and
        the sentiment heads when a retraining wrote one; True if either changed.

        The worker keeps one Analyzer for its lifetime, so a retrained head must reach it this way.
        """
        reload_sentiment = getattr(self.sentiment, "reload_if_changed", None)
        sentiment = bool(reload_sentiment()) if reload_sentiment is not None else False
        return self._reload_topic_head() or sentiment

    def _reload_topic_head(self) -> bool:
        mtime = _mtime(self.head_path)
        if self.head_path is None or mtime == self._head_mtime:
            return False
        head = FewShotHead.load(self.head_path) if mtime is not None else None
        self.topics = TopicModel(self.topics.scorer, self.topics.threshold, head, self.topics.blind_languages)
        self._head_mtime = mtime
        return True

    @property
    def versions(self) -> dict[str, str]:
        """The version of every model involved, stored with each analysis."""
        return {
            "analyzer": ANALYZER_VERSION,
            "encoder": self.encoder.version,
            "sentiment": self.sentiment.version,
            "topics": self.topics.version,
        }

    def warm_up(self) -> None:
        """Analyze two built-in sentences (English and Korean, similar enough to be compared as
        near duplicates) and forget them: what the first batch would otherwise make on the way (the
        n-gram and fuzzy-matching libraries, the heads' converted weights) is made now. A worker's
        first batch is then no slower than the rest, and `dangol.pipeline.load_analyzer` freezes
        these objects with the models instead of leaving them for every garbage collection."""
        now = utcnow()
        posts = [
            PostText(post_id=-(i + 1), text=text, platform="warm-up", created_at=now)
            for i, text in enumerate(_WARM_UP_TEXTS)
        ]
        self.analyze(posts, [])
        self.encoder.forget(analysis_text(text) for text in _WARM_UP_TEXTS)

    def analyze(self, posts: list[PostText], recent: list[ClusterMember]) -> list[Understanding]:
        """One Understanding per post, in order; `recent` are analyzed posts for near-duplicate grouping."""
        if not posts:
            return []
        texts = [analysis_text(p.text) for p in posts]
        languages = self.detect_languages(texts, [p.lang_hint for p in posts])
        embeddings = np.asarray(self.encoder.encode(texts), dtype=np.float32)
        # The text model's probabilities, then a review's star rating as a prior (nlp.rating).
        read = self.sentiment.predict(texts, embeddings, languages)
        sentiments = [with_rating(probs, p.rating) for probs, p in zip(read, posts, strict=True)]
        topic_results = self.topics.classify(texts, embeddings, languages)
        spam = [signals.is_spam(text) for text in texts]
        questions = [signals.is_question(text) for text in texts]
        applied_topics = [applied for applied, _ in topic_results]
        intents = self.intents.classify(texts, embeddings, sentiments, applied_topics, spam, questions)
        items = [
            DedupItem(p.post_id, p.platform, t, p.referenced_id, lang, p.external_id)
            for p, t, lang in zip(posts, texts, languages, strict=True)
        ]
        hashes, keys = cluster_keys(items, embeddings, recent, self.duplicate_similarity, blind_languages(self.encoder))
        versions = self.versions
        results = []
        for i, post in enumerate(posts):
            complaint = intents[i] == "complaint" and self._complaint_rule(languages[i])
            probs = complaint_sentiment(sentiments[i]) if complaint else sentiments[i]
            applied, primary = topic_results[i]
            risk = score_risk(
                texts[i], probs.get("negative", 0.0), post.followers, post.engagement, post.customer_tier,
                customer_value=post.customer_value,
            )  # fmt: skip
            results.append(
                Understanding(
                    post_id=post.post_id,
                    language=languages[i],
                    sentiment=max(probs, key=lambda label: probs[label]),
                    sentiment_probs=probs,
                    topics=applied,
                    primary_topic=primary,
                    is_complaint=intents[i] == "complaint",
                    is_question=questions[i],
                    is_spam=spam[i],
                    risk=risk.score,
                    risk_breakdown=risk.breakdown,
                    embedding=embeddings[i],
                    text_hash=hashes[i],
                    cluster_key=keys[i],
                    model_versions=dict(versions),
                    intent=intents[i],
                )
            )
        return results

    def _complaint_rule(self, language: str) -> bool:
        # A classifier without a say (a Hugging Face model) keeps the rule.
        rule = getattr(self.sentiment, "complaint_rule", None)
        return True if rule is None else bool(rule(language))


_WARM_UP_TEXTS = (
    "The app logs me out every time I open it, is there a fix?",
    "The app logs me out every time I open it. Is there a fix??",
    "앱을 열 때마다 로그아웃돼요. 해결 방법이 있나요?",
)


def blind_languages(encoder: Encoder) -> frozenset[str]:
    """The languages `encoder` cannot read (none for encoders that do not say)."""
    return frozenset(getattr(encoder, "blind_languages", frozenset()))


def _mtime(path: Path | None) -> int | None:
    return path.stat().st_mtime_ns if path is not None and path.exists() else None
