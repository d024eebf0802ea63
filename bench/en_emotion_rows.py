"""Does the English head read unseen tweets better with TweetEval-emotion tweets as weak polar rows?

    python -m bench.en_emotion_rows

Issue #13 asks for TweetEval sentiment on unseen tweets, and a head that is right on validation can
fall ~6 points on the held-back test. The emotion set (SemEval-2018: anger, joy, optimism, sadness)
is tweets of another year and topic mix; read as polarity (anger and sadness negative, joy and
optimism positive), its 3,257 training tweets could widen what the head has seen. Two heads are
trained with today's recipe (`nlp.train.EN_CONFIG`, calibrated on TweetEval validation as shipped):
without and with those rows, counted as public rows (no adaptation weighting). The judge is data
neither was tuned on: the airline validation tweets (another domain, never trained on) and the
emotion validation tweets read as polarity (in the added rows' domain). Prints one JSON line per
head; the cached embeddings in `var/cache` make a second run take ~2 minutes.
"""

from __future__ import annotations

import json
from pathlib import Path

from nlp.train import (
    DATA,
    EN_CONFIG,
    Dataset,
    add_rows,
    default_encode,
    evaluate_head,
    load_public,
    public_split,
    read_table,
    train_head,
)

# An emotion read as polarity: the two negative and the two positive emotions of the set.
POLARITY = {"anger": "negative", "sadness": "negative", "joy": "positive", "optimism": "positive"}


def emotion_rows(split: str, data_dir: Path = DATA) -> list[tuple[str, str, str]]:
    """(text, polarity, "en") of the emotion set's `split` ("train" or "val")."""
    rows = read_table(data_dir / "tweeteval-emotion" / f"{split}.csv")
    return [(r["text"], POLARITY[r["label_name"]], "en") for r in rows]


def as_dataset(rows: list[tuple[str, str, str]]) -> Dataset:
    return Dataset([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])


def main() -> None:
    encode = default_encode()
    judges = {"airline_val": load_public("airline", "val"), "emotion_val_polar": as_dataset(emotion_rows("val"))}
    for variant in ("shipped recipe", "with emotion rows"):
        train, val = public_split("en")
        if variant == "with emotion rows":
            add_rows(train, emotion_rows("train"), "en", EN_CONFIG["classes"], source="emotion")
        head, tuned = train_head("en", train, val, encode, EN_CONFIG, public_rows=len(train))
        scores = {name: evaluate_head(head, data, encode) for name, data in judges.items()}
        report = {"variant": variant, "tweeteval_val (tuned on)": tuned, **scores, "mix": head.meta["weights"]}
        print(json.dumps(report, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
