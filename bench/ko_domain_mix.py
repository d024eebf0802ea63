"""How the Korean head's n-gram / embedding mix carries to a domain it was not trained on.

    python -m bench.ko_domain_mix [--head nlp/models/sentiment-ko.npz]

Leave one domain out: the head's two parts (today's recipe, `nlp.train.KO_CONFIG`) are trained on
one domain's training rows only (NSMC movie reviews, or KOTE's online comments), and each n-gram
weight of the calibration grid is scored on that domain's validation rows (the class bias chosen
there, as calibration does) and on the other domain's (never seen). With `--head`, the same grid for
a head trained on both, on each validation source. Prints a table per direction; the cached
embeddings in `var/cache` make a second run take ~2 minutes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from nlp.sentiment import SentimentHead
from nlp.train import (
    KO_CONFIG,
    Dataset,
    bias_grid,
    cached_embeddings,
    default_encode,
    encode_labels,
    log_softmax,
    public_split,
    train_head,
)

GRID = np.round(np.arange(0.0, 1.01, 0.1), 2)


def only(data: Dataset, source: str) -> Dataset:
    """The rows of `data` from one source."""
    keep = [i for i, s in enumerate(data.sources) if s == source]
    part = Dataset([data.texts[i] for i in keep], [data.labels[i] for i in keep], [data.languages[i] for i in keep])
    part.sources = [source] * len(keep)
    return part


def part_logs(head: SentimentHead, data: Dataset, encode: object) -> dict[str, np.ndarray]:
    emb = cached_embeddings(data.texts, encode, "ko-val")  # type: ignore[arg-type]
    return {name: log_softmax(v) for name, v in head.part_logits(data.texts, emb).items()}


def accuracy_at(logs: dict[str, np.ndarray], y: np.ndarray, w: float, bias: np.ndarray) -> float:
    mixed = logs["ngrams"] * w + logs["embedding"] * (1 - w) + bias
    return float(np.mean(np.argmax(mixed, axis=1) == y))


def leave_one_out(train: Dataset, val: Dataset, encode: object) -> None:
    classes = KO_CONFIG["classes"]
    for home, away in (("nsmc", "kote"), ("kote", "nsmc")):
        head, _ = train_head("ko", only(train, home), only(val, home), encode, KO_CONFIG)  # type: ignore[arg-type]
        seen, unseen = only(val, home), only(val, away)
        seen_logs, unseen_logs = part_logs(head, seen, encode), part_logs(head, unseen, encode)
        y_seen, y_unseen = encode_labels(seen.labels, classes), encode_labels(unseen.labels, classes)
        print(f"\ntrained on {home} only ({len(only(train, home))} rows), calibration chose {head.meta['weights']}")
        print(f"| n-gram weight | {home} val (trained domain) | {away} val (other domain) |")
        print("|---|---|---|")
        for w in GRID:
            bias = max(bias_grid(2), key=lambda b, w=w: accuracy_at(seen_logs, y_seen, w, b))
            home_acc, away_acc = accuracy_at(seen_logs, y_seen, w, bias), accuracy_at(unseen_logs, y_unseen, w, bias)
            print(f"| {w:.1f} | {home_acc:.4f} | {away_acc:.4f} |", flush=True)


def both_domains(head_path: Path, val: Dataset, encode: object) -> None:
    head = SentimentHead.load(head_path)
    logs, y = part_logs(head, val, encode), encode_labels(val.labels, KO_CONFIG["classes"])
    sources = np.array(val.sources)
    groups = {name: sources == name for name in ("nsmc", "kote")}

    def mean(w: float, b: np.ndarray) -> float:
        return float(np.mean([accuracy_at({k: v[g] for k, v in logs.items()}, y[g], w, b) for g in groups.values()]))

    print(f"\n{head_path} ({head.version}, mix {head.meta['weights']}), bias chosen on both sources' mean")
    print("| n-gram weight | nsmc val | kote val |")
    print("|---|---|---|")
    for w in GRID:
        bias = max(bias_grid(2), key=lambda b, w=w: mean(w, b))
        cells = [accuracy_at({k: v[g] for k, v in logs.items()}, y[g], w, bias) for g in groups.values()]
        print(f"| {w:.1f} | {cells[0]:.4f} | {cells[1]:.4f} |", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--head", type=Path, help="also score this head (trained on both domains) per weight")
    args = parser.parse_args(argv)
    train, val = public_split("ko")
    encode = default_encode()
    leave_one_out(train, val, encode)
    if args.head:
        both_domains(args.head, val, encode)


if __name__ == "__main__":
    main()
