"""Retraining the topic head: a stratified hold-out, and the new head kept only if not worse."""

from __future__ import annotations

from nlp.taxonomy import Taxonomy, Topic
from nlp.topic_training import holdout_split, retrain_head
from nlp.topics import train_head
from tests.nlp.semantic_fakes import HashingEncoder

TAXONOMY = Taxonomy((Topic("delivery", "Delivery", "late orders"), Topic("billing", "Billing", "refunds")))
LABELS = ["delivery"] * 10 + ["billing"] * 10


def test_the_holdout_takes_a_fifth_of_each_label_and_never_its_last_row() -> None:
    train, held = holdout_split(["a"] * 10 + ["b"] * 5 + ["c"])
    assert sorted(train + held) == list(range(16))
    assert [sum(i < 10 for i in held), sum(10 <= i < 15 for i in held), 15 in held] == [2, 1, False]
    assert holdout_split(["a"] * 10 + ["b"] * 5 + ["c"]) == (train, held)


def _corrections(held_text: dict[str, str]) -> list[tuple[str, str]]:
    """Twenty corrections; the held-out rows of each label read `held_text[label]`."""
    _, held = holdout_split(LABELS)
    train_text = {"delivery": "alpha parcel courier", "billing": "beta refund charge"}
    return [(f"{held_text[label] if i in held else train_text[label]} {i}", label) for i, label in enumerate(LABELS)]


def test_a_head_that_reads_the_held_out_rows_right_is_kept() -> None:
    corrections = _corrections({"delivery": "alpha parcel courier", "billing": "beta refund charge"})
    choice = retrain_head([], corrections, HashingEncoder(), TAXONOMY, current=None, threshold=0.45)
    assert choice.head is not None and choice.held_out == 4
    assert choice.new_f1 is not None and choice.current_f1 is not None and choice.new_f1 >= choice.current_f1


def test_a_new_head_worse_than_the_current_one_is_not_kept() -> None:
    # The held-out rows read like the other label's training rows: the candidate gets them wrong.
    crossed = {"delivery": "beta refund charge", "billing": "alpha parcel courier"}
    corrections = _corrections(crossed)
    _, held = holdout_split(LABELS)
    truth = [corrections[i] for i in held] * 15
    encoder = HashingEncoder()
    texts = [t for t, _ in truth]
    current = train_head(texts, [k for _, k in truth], encoder.encode(texts), TAXONOMY)
    choice = retrain_head([], corrections, encoder, TAXONOMY, current=current, threshold=0.45)
    assert choice.head is None and "current head kept" in choice.reason
    assert choice.new_f1 is not None and choice.current_f1 is not None and choice.new_f1 < choice.current_f1
