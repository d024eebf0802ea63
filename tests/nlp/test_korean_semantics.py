"""Korean posts under an encoder that cannot read them (English MiniLM): topics from characters, duplicates by exact
text only, complaints from Korean complaint wording."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dangol.core.settings import load_settings
from nlp.dedup import DedupItem, cluster_keys
from nlp.encoders.base import MINILM, TRAITS
from nlp.signals import reads_as_complaint
from nlp.taxonomy import from_catalog
from nlp.topics import LexicalScorer, PrototypeScorer, TopicModel

REPO = Path(__file__).resolve().parents[2]
TAXONOMY = from_catalog(load_settings(REPO / "config.toml").topic_catalog)
BLIND = TRAITS[MINILM].blind_languages
NEUTRAL = {"negative": 0.3, "neutral": 0.45, "positive": 0.25}


def test_korean_post_gets_the_topic_whose_korean_example_it_repeats() -> None:
    scores = LexicalScorer(TAXONOMY).scores(
        ["마루커피 앱 업데이트하고 나서 앱이 계속 꺼져요", "배달이 너무 늦어요 벌써 한 시간"]
    )
    keys = TAXONOMY.keys
    assert keys[int(scores[0].argmax())] == "app"
    assert keys[int(scores[1].argmax())] == "delivery"


def test_encoder_noise_alone_does_not_give_a_korean_post_a_topic() -> None:
    # An embedding equal to the "store" centroid would score ~1.0 for an English post.
    centroids = np.eye(len(TAXONOMY), 8, dtype=np.float32)
    model = TopicModel(PrototypeScorer(TAXONOMY, centroids), threshold=0.45, blind_languages=BLIND)
    store = TAXONOMY.keys.index("store")
    embedding = centroids[store : store + 1]
    english, korean = model.classify(["x", "오늘 날씨가 맑아요"], np.vstack([embedding, embedding]), ["en", "ko"])
    assert english[1] == "store"
    assert korean[1] == "other"


def test_distinct_korean_posts_are_not_merged_by_look_alike_embeddings() -> None:
    texts = [
        "마루커피 앱이 업데이트 후 계속 튕겨요 주문을 못 해요",
        "마루커피 매장 직원이 너무 불친절했어요 다시는 안 가요",
    ]
    items = [DedupItem(i, "x", t, None, "ko") for i, t in enumerate(texts, start=1)]
    same = np.ones((2, 4), dtype=np.float32) / 2  # identical embeddings: cosine 1.0
    _, keys = cluster_keys(items, same, [], threshold=0.92, blind_languages=BLIND)
    assert keys[0] != keys[1]
    copied = [DedupItem(3, "x", texts[0], None, "ko"), DedupItem(4, "bluesky", texts[0], None, "ko")]
    assert len(set(cluster_keys(copied, same, [], threshold=0.92, blind_languages=BLIND)[1])) == 1


def test_calm_korean_complaint_is_a_complaint_and_calm_chatter_is_not() -> None:
    assert reads_as_complaint("아이폰에서 마루커피 앱이 업데이트 후 계속 강제 종료돼요.", NEUTRAL, {})
    assert reads_as_complaint("마루커피 생일 쿠폰이 안 먹혀요.", NEUTRAL, {})
    assert not reads_as_complaint("오늘 마루커피 안내문을 봤어요. 연말 영업시간이 바뀐대요.", NEUTRAL, {})
    assert not reads_as_complaint(
        "마루커피 라떼 정말 맛있어요! 또 갈게요", {"negative": 0.05, "neutral": 0.1, "positive": 0.85}, {}
    )
