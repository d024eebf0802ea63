"""Intent: what a post wants, from complaint rules, question and suggestion wording, sentiment and examples."""

from __future__ import annotations

import numpy as np
import pytest

from nlp import signals
from nlp.intent import INTENTS, IntentModel, complaint_sentiment, decide

CALM = {"negative": 0.2, "neutral": 0.6, "positive": 0.2}
HAPPY = {"negative": 0.05, "neutral": 0.15, "positive": 0.8}
ANGRY = {"negative": 0.8, "neutral": 0.15, "positive": 0.05}


@pytest.mark.parametrize(
    ("text", "probs", "topics", "intent"),
    [
        # A polite question about a refund is a complaint to answer, not a question.
        ("환불 언제 되나요?", CALM, {"billing": 0.8}, "complaint"),
        ("적립한 포인트가 사라졌어요", CALM, {}, "complaint"),
        # Sarcasm: positive words, negative reading, complaint wording.
        ("great service, two hours on hold and still nothing", ANGRY, {}, "complaint"),
        ("What time do you open on Sunday?", CALM, {}, "question"),
        ("매장 주차 가능한가요?", CALM, {}, "question"),
        ("It would be great if you added a decaf option", CALM, {}, "suggestion"),
        ("앱에 다크 모드가 있으면 좋겠어요", CALM, {}, "suggestion"),
        ("Best latte in town, thank you!", HAPPY, {}, "praise"),
        ("Walked past the new store on Main Street today", CALM, {}, "other"),
        ("FREE crypto giveaway click here http://x.example", ANGRY, {}, "other"),
    ],
)
def test_rules_decide_the_intent(text: str, probs: dict[str, float], topics: dict[str, float], intent: str) -> None:
    assert decide(text, probs, topics, None, signals.is_spam(text), signals.is_question(text)) == intent


def test_examples_make_a_post_without_cue_words_a_complaint_unless_it_reads_positive() -> None:
    text = "the thing I ordered is not what showed up"  # no question, no Korean cue
    assert decide(text, CALM, {}, "complaint", False, False) == "complaint"
    assert decide(text, HAPPY, {}, "complaint", False, False) == "praise"
    assert decide("we should talk about the menu", CALM, {}, "suggestion", False, False) == "suggestion"


def test_nearest_needs_a_clear_winner() -> None:
    model = IntentModel({"complaint": np.array([1.0, 0.0]), "praise": np.array([0.0, 1.0])})
    near = model.nearest(np.array([[0.9, 0.1], [0.6, 0.6], [0.0, 1.0]], dtype=np.float32))
    assert near == ["complaint", None, "praise"]


def test_examples_are_embedded_once_and_intents_without_examples_are_left_out() -> None:
    class Counting:
        dim = 2
        calls: list[int] = []

        def encode(self, texts: list[str]) -> np.ndarray:
            self.calls.append(len(texts))
            return np.tile(np.array([1.0, 0.0], dtype=np.float32), (len(texts), 1))

    encoder = Counting()
    model = IntentModel.from_examples({"complaint": ["a", "b"], "praise": ["c"], "suggestion": []}, encoder)
    assert encoder.calls == [3] and model.names == ["complaint", "praise"]
    assert set(model.names) <= set(INTENTS)


def test_a_complaints_neutral_share_becomes_negative() -> None:
    assert complaint_sentiment(CALM) == pytest.approx({"negative": 0.8, "neutral": 0.0, "positive": 0.2})
