"""Risk with its breakdown, and the question / spam / complaint signals in English and Korean."""

from __future__ import annotations

import pytest

from dangol.core.risk import FLOORS, cluster_risk, escalated, reach_value, risk_priority
from nlp import signals
from nlp.risk import score_risk, signal_words
from tests.labelled_text import demo_posts

NEGATIVE = {"negative": 0.9, "neutral": 0.05, "positive": 0.05}
POSITIVE = {"negative": 0.05, "neutral": 0.15, "positive": 0.8}


def test_the_score_is_the_product_of_the_factor_multipliers() -> None:
    risk = score_risk("I want a refund", negative=0.8, followers=5000, engagement=20, customer_tier="gold")
    product = 1.0
    for name in FLOORS:
        parts = risk.breakdown[name]
        assert parts["multiplier"] == pytest.approx(parts["floor"] + (1 - parts["floor"]) * parts["value"], abs=1e-3)
        product *= parts["multiplier"]
    assert risk.score == pytest.approx(product, abs=1e-3)
    assert risk.breakdown["urgency"]["words"] == ["refund"]
    assert risk.breakdown["customer_value"]["tier"] == "gold"
    assert risk.breakdown["reach"]["followers"] == 5000


def test_no_negative_voice_means_no_risk_however_big_the_account_or_customer() -> None:
    # A weighted sum put a VIP's small talk from a big account at 0.35: queued and urgent.
    chatter = score_risk("오늘 일상: 아침 루틴 공유해요", negative=0.02, followers=2_000_000, customer_tier="vip")
    assert chatter.score < 0.03 and risk_priority(chatter.score) == 4


def test_lawyer_threat_from_a_big_account_is_priority_one_and_a_mild_gripe_is_not_urgent() -> None:
    threat = score_risk("My lawyer will hear about this", negative=0.95, followers=200_000)
    gripe = score_risk("coffee was a bit cold today", negative=0.7, followers=80)
    assert risk_priority(threat.score) == 1
    assert risk_priority(gripe.score) == 3


def test_each_factor_scales_the_negative_voice() -> None:
    base = score_risk("still waiting", negative=0.8, followers=100)
    assert score_risk("still waiting", negative=0.8, followers=100, customer_tier="vip").score > base.score
    assert score_risk("still waiting", negative=0.8, followers=100_000).score > base.score
    assert score_risk("still waiting for my refund", negative=0.8, followers=100).score > base.score
    assert score_risk("still waiting", negative=0.4, followers=100).score == pytest.approx(base.score / 2, abs=1e-3)


def test_a_cluster_is_scored_over_the_audience_of_all_its_posts() -> None:
    original = score_risk("the app lost my order", negative=0.9, followers=300)
    retweets = [score_risk("RT the app lost my order", negative=0.9, followers=2_000) for _ in range(50)]
    together = cluster_risk([original.breakdown, *(r.breakdown for r in retweets)])
    assert together is not None
    assert together.breakdown["reach"]["audience"] == 300 + 50 * 2_000
    assert together.score > max(r.score for r in [original, *retweets])
    assert risk_priority(together.score) < risk_priority(original.score)
    # A cluster's own breakdown counts as a member: adding posts one by one gives the same figure.
    running = original.breakdown
    for r in retweets:
        step = cluster_risk([running, r.breakdown])
        assert step is not None
        running = step.breakdown
    assert running == together.breakdown
    assert cluster_risk([{"negativity": {"value": 1, "weight": 0.4, "contribution": 0.4}}]) is None


def test_a_breached_sla_raises_urgency_to_its_top() -> None:
    risk = score_risk("my order is late", negative=0.9, followers=300, customer_tier="gold")
    raised = escalated(risk.breakdown)
    assert raised is not None and raised.breakdown["urgency"]["value"] == 1.0
    assert raised.score == pytest.approx(risk.score / 0.6, abs=1e-3)


def test_korean_signal_words_are_found_inside_words_with_particles() -> None:
    value, words = signal_words("변호사랑 상담했고 소송 준비중입니다. 환불도 안해주네요")
    assert value == 1.0
    assert words == ["변호사", "소송", "환불"]


def test_signal_words_respect_english_word_edges() -> None:
    assert signal_words("this pressure cooker is great")[1] == []
    assert signal_words("I will SUE you")[1] == ["sue"]


def test_reach_is_log_scaled_and_capped() -> None:
    assert reach_value(0) == 0.0
    assert reach_value(10**6) == pytest.approx(1.0, abs=1e-3)
    assert reach_value(10**9) == 1.0
    assert 0.6 < reach_value(10_000) < 0.7
    assert reach_value(100, engagement=1000) > reach_value(100)


def test_empty_text_and_missing_values_give_a_low_valid_risk() -> None:
    risk = score_risk("", negative=0.0, followers=None)
    assert risk.score == 0.0
    assert set(risk.breakdown) == set(FLOORS)


@pytest.mark.parametrize(
    "text",
    ["How do I reset my password", "@brand can you help me with my order", "Is the store open today?",
     "환불 언제 되나요", "배송 어떻게 확인해요", "why is my order late again"],
)  # fmt: skip
def test_questions_are_recognised_in_english_and_korean(text: str) -> None:
    assert signals.is_question(text)


@pytest.mark.parametrize("text", ["My latte was cold.", "배달이 너무 늦어요", "Thanks for the help!", "🙂🙂", ""])
def test_statements_are_not_questions(text: str) -> None:
    assert not signals.is_question(text)


@pytest.mark.parametrize(
    "text",
    ["FREE crypto airdrop!!! claim now https://x.co/a", "follow for follow, f4f",
     "Win a giveaway https://bit.ly/x https://bit.ly/y", "고수익 재택 알바 https://spam.kr",
     "WOWWWWWWWWWWW free stuff"],
)  # fmt: skip
def test_spam_is_recognised(text: str) -> None:
    assert signals.is_spam(text)


@pytest.mark.parametrize(
    "text", ["my order never arrived https://example.com/order/1", "I love the new free refill!", "", "😡😡😡"]
)
def test_ordinary_posts_are_not_spam(text: str) -> None:
    assert not signals.is_spam(text)


def test_negative_post_with_complaint_wording_is_a_complaint() -> None:
    assert signals.reads_as_complaint("the app keeps crashing and nobody helps", NEGATIVE, {})
    assert signals.reads_as_complaint("쿠폰이 안 돼요 최악", NEGATIVE, {})


def test_negative_post_with_a_topic_is_a_complaint_without_cue_words() -> None:
    assert signals.reads_as_complaint("my latte, seriously", NEGATIVE, {"quality": 0.7})


def test_positive_or_cueless_posts_are_not_complaints() -> None:
    assert not signals.reads_as_complaint("the refund came fast, thanks!", POSITIVE, {"billing": 0.8})
    assert not signals.reads_as_complaint("meh", NEGATIVE, {})


@pytest.mark.parametrize(
    "text",
    [
        "No complaints here, the delivery was on time",
        "no problems at all with the app",
        "Nothing wrong with my order this time",
        "never had an issue with the new cups",
        "can't complain, the latte was fine",
    ],
)
def test_english_stock_phrases_for_no_problem_are_no_complaint_cue(text: str) -> None:
    assert not signals.has_complaint_cue(text)
    assert not signals.reads_as_complaint(text, {"negative": 0.2, "neutral": 0.6, "positive": 0.2}, {"delivery": 0.7})


def test_a_complaint_beside_no_problem_wording_keeps_its_cue() -> None:
    assert signals.has_complaint_cue("No problems with the app, but my refund never arrived")


def test_most_complaints_have_complaint_cues_and_praise_mostly_has_none() -> None:
    # The demo's complaints (English and Korean, every topic) and its praise posts, written for Dangol.
    def cued(kind: str) -> float:
        texts = [p.text for p in demo_posts() if p.kind == kind]
        return sum(signals.has_complaint_cue(t) for t in texts) / len(texts)

    assert cued("complaint") > 0.75
    assert cued("complaint") - cued("praise") > 0.5


def test_customer_value_comes_from_the_value_score_when_there_is_one_else_the_tier() -> None:
    from nlp.risk import score_risk

    by_tier = score_risk("this is broken", 0.8, followers=10, customer_tier="standard")
    by_score = score_risk("this is broken", 0.8, followers=10, customer_tier="standard", customer_value=0.9)
    assert by_tier.breakdown["customer_value"]["value"] == 0.3
    assert by_tier.breakdown["customer_value"]["source"] == "tier"
    assert by_score.breakdown["customer_value"]["value"] == 0.9
    assert by_score.breakdown["customer_value"]["source"] == "value score"
    assert by_score.score > by_tier.score


@pytest.mark.parametrize(
    "text",
    [
        "마루커피 음료에서 이물질이 나왔어요. 플라스틱 조각 같은 게 떠 있었어요.",
        "Found a hair in my croissant this afternoon.",
        "There was a piece of plastic floating in my latte",
        "샌드위치에 곰팡이가 피어 있었어요",
        "I got sick after the cold brew and threw up all night",
    ],
)
def test_something_found_in_food_or_harm_from_it_is_a_severe_signal(text: str) -> None:
    # A foreign object in a drink was priority 3 with urgency "words: none".
    assert signal_words(text)[0] == 1.0, signal_words(text)


def test_an_apps_bug_or_a_burnt_taste_is_no_safety_signal() -> None:
    assert signal_words("there is a bug in the app since the update")[0] == 0
    assert signal_words("the americano tasted burnt and bitter")[0] == 0


def test_korean_words_that_only_look_like_harm_are_no_signal() -> None:
    assert signal_words("화상 회의 중에 주문했는데 배달이 늦어요")[0] == 0  # a video call
    assert signal_words("설사 늦더라도 연락은 주셔야죠")[0] == 0  # "even if"
