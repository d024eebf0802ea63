"""The zero-shot topic midpoint of an encoder, measured on off-topic public text.

    python -m bench.topic_midpoint [--model NAME] [--rows 2000] [--profile fast]

A topic score is sigmoid(slope × (cosine − midpoint)); the midpoint is the cosine from which a post
reads as on the topic. Measured as the 90th percentile of the best topic cosine (config.toml's
topics) of text that is about none of them: NSMC validation movie reviews and TweetEval validation
neutral tweets. `nlp.encoders.base.TRAITS` records the figure per model, `STATIC_ZERO_SHOT` the fast
profile's (`--profile fast`: the static table distilled from `--model`; nlp/models/MODEL_CARD.md).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from dangol.core.settings import load_settings
from nlp.encoders import build_encoder
from nlp.encoders.base import PACKAGED_MODEL
from nlp.taxonomy import from_catalog
from nlp.topics import PrototypeScorer
from nlp.train import load_public


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=PACKAGED_MODEL)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--profile", choices=["default", "fast"], default="default")
    args = parser.parse_args(argv)
    # Its own export folder, so measuring another model never replaces the configured one's export.
    onnx_dir = f"var/models/{args.model}-onnx"
    encoder_keys = {"model": args.model}
    if args.model != PACKAGED_MODEL:  # the packaged model's folders are the configured ones
        encoder_keys |= {"onnx_dir": onnx_dir, "static_dir": f"var/models/{args.model}-static"}
    nlp = {"profile": args.profile, "encoder": encoder_keys}
    settings = load_settings("config.toml", overrides={"nlp": nlp})
    encoder = build_encoder(settings)
    scorer = PrototypeScorer.from_encoder(from_catalog(settings.topic_catalog), encoder)
    reviews = load_public("nsmc", "val").texts[: args.rows]
    tweets = load_public("tweeteval", "val")
    neutral = [t for t, label in zip(tweets.texts, tweets.labels, strict=True) if label == "neutral"][: args.rows]
    result: dict[str, float | str] = {"model": encoder.version}
    for name, texts in (("nsmc_val_reviews", reviews), ("tweeteval_val_neutral", neutral)):
        best = scorer.similarities(encoder.encode(texts)).max(axis=1)
        result[f"{name}_p90"] = round(float(np.percentile(best, 90)), 3)
        result[f"{name}_median"] = round(float(np.median(best)), 3)
    # On-topic: each topic's own examples against the prototypes (the best topic's cosine).
    examples = [e for topic in from_catalog(settings.topic_catalog).topics for e in topic.examples]
    result["topic_examples_median"] = round(
        float(np.median(scorer.similarities(encoder.encode(examples)).max(axis=1))), 3
    )
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
