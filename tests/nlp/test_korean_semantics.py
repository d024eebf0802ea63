"""Korean posts under an encoder that cannot read them (English MiniLM): topics from characters, duplicates by exact
text only, complaints from Korean complaint wording."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dangol.core.settings import load_settings
from nlp.dedup import DedupItem, cluster_keys
from nlp.encoders.base import MINILM, TRAITS
from nlp.signals import has_korean_complaint_cue, reads_as_complaint
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


# Moderately positive: below signals.COMPLAINT_MAX_POSITIVE, where a Korean complaint word alone
# makes a complaint.
MILD_PRAISE = {"negative": 0.25, "neutral": 0.15, "positive": 0.6}


@pytest.mark.parametrize(
    "text",
    [
        "배송도 빠르고 문제없이 잘 받았어요.",  # the problem is absent
        "불편함 없이 잘 쓰고 있습니다.",
        "부족함 없이 딱 좋네요. 재구매 의사 있어요.",
        "처음엔 걱정했는데 아무 문제 없네요",
        "오류 없이 잘 작동합니다.",
        "배송이 늦지 않고 빨랐어요.",  # "-지 않": not late, not expensive
        "가격도 비싸지 않고 품질도 좋아요.",
        "하나도 안 늦었어요. 감사합니다.",  # "안" before the adjective
        "고객센터가 한 시간 만에 문제를 해결해 줬어요. 감사합니다.",  # put right
        "환불도 빠르게 처리해 주셨어요. 친절하세요.",
        "앱 오류 고쳐 주셔서 고마워요.",
        "환불 문제 바로 처리해 주셔서 감사합니다!",
    ],
)
def test_korean_praise_that_names_a_problem_only_to_deny_or_close_it_is_no_complaint(text: str) -> None:
    assert not has_korean_complaint_cue(text)
    assert not reads_as_complaint(text, MILD_PRAISE, {})


@pytest.mark.parametrize(
    "text",
    [
        "배송이 너무 늦어요.",
        "문의한 지 일주일인데 아직도 문제가 해결이 안 됐어요.",  # the fix did not happen
        "문제를 해결해 준다더니 연락이 없네요.",  # only promised
        "해결했다고 하더니 또 꺼져요.",  # another complaint word stands
        "볼거리도 별로 없는 영화",  # "hardly any" is a complaint
        "별로 안 좋아요.",
        "주문이 취소 처리됐어요.",  # the cancellation is what happened, not a fix
        "환불도 없고 사과도 없어요.",  # a refund's absence is the complaint
        "결국 환불하지 않았어요.",
        "제 잘못은 없는데 왜 제가 다시 결제해야 하죠?",
        "문제가 없는 줄 알았는데 오류가 나요.",
    ],
)
def test_korean_complaints_stay_complaints_beside_those_words(text: str) -> None:
    assert has_korean_complaint_cue(text)
    assert reads_as_complaint(text, NEUTRAL, {})
