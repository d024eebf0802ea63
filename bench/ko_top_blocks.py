"""Whether fine-tuning the encoder's top blocks for Korean sentiment adds to the Korean head.

    python -m bench.ko_top_blocks --first-block 9 [--epochs 2 --lr 5e-5]

A study, not a shipped model (nlp/models/MODEL_CARD.md, "tried, not kept"). The served encoder's
blocks from `--first-block` up are copied and fine-tuned in full, with a linear classifier over their
mean-pooled output, on the Korean head's training rows (NSMC train, the NSMC validation half it
trains on, KOTE's train part). The blocks below stay frozen, so their output is computed once
(torch fp32, the shipped adapter merged) and kept in memory: training then costs only the blocks
above. The result is scored on the head's calibration rows (the NSMC held-out half, KOTE's val
part), alone and mixed with the shipped head's log-probabilities; the mixing weight and class bias
are chosen on one half of those rows and scored on the other, both ways round, so the mixed figure is
not read off the rows it was chosen on. Prints JSON. ~5 minutes to compute the frozen blocks' output
for ~43,000 texts and ~15 (3 blocks) to ~30 minutes (6 blocks) to train, on 2 cores.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from nlp.encoders.base import tuned_e5
from nlp.finetune import Recipe, take_step, warm_up_then_decay
from nlp.sentiment import SentimentHead, log_softmax
from nlp.train import SEED, Dataset, accuracy, cached_embeddings, default_encode, per_source, public_split

MAX_LENGTH = 64
BATCH = 32
POOL = 50  # batches drawn together and sorted by length, so a batch pads little
LABELS = ("negative", "positive")


def polar_rows(data: Dataset) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The positive and negative rows of `data`: texts, class index (1 = positive) and source."""
    keep = [i for i, label in enumerate(data.labels) if label in LABELS]
    return (
        [data.texts[i] for i in keep],
        np.array([LABELS.index(data.labels[i]) for i in keep]),
        np.array([data.sources[i] for i in keep]),
    )


def lower_states(model: Any, tokenizer: Any, texts: list[str], first_block: int) -> list[np.ndarray]:
    """Each text's token states entering block `first_block` (fp16, no padding), as the pipeline
    tokenizes it ("query: " prefix, cut at MAX_LENGTH)."""
    import torch

    ids = tokenizer(["query: " + t for t in texts], truncation=True, max_length=MAX_LENGTH)["input_ids"]
    states: list[np.ndarray] = [np.zeros(0)] * len(texts)
    order = np.argsort([len(x) for x in ids])
    for start in range(0, len(order), 64):
        idx = order[start : start + 64]
        batch = tokenizer.pad({"input_ids": [ids[i] for i in idx]}, return_tensors="pt")
        with torch.no_grad():
            hidden = model(**batch, output_hidden_states=True).hidden_states[first_block]
        for j, i in enumerate(idx):
            states[i] = hidden[j, : len(ids[i])].numpy().astype(np.float16)
    return states


def padded(states: list[np.ndarray], idx: list[int]) -> tuple[Any, Any]:
    """The states of rows `idx` padded to the longest, with their attention mask, as torch tensors."""
    import torch

    longest = max(len(states[i]) for i in idx)
    x = np.zeros((len(idx), longest, states[idx[0]].shape[1]), dtype=np.float32)
    mask = np.zeros((len(idx), longest), dtype=np.float32)
    for j, i in enumerate(idx):
        x[j, : len(states[i])] = states[i]
        mask[j, : len(states[i])] = 1.0
    return torch.from_numpy(x), torch.from_numpy(mask)


def length_batches(lengths: list[int], steps: int, rng: np.random.Generator) -> list[list[int]]:
    """`steps` batches of BATCH row indices: epochs of shuffled rows, each POOL batches' worth sorted
    by length and cut into batches, the batches shuffled; a short last batch is left out."""
    batches: list[list[int]] = []
    while len(batches) < steps:
        order = rng.permutation(len(lengths))
        for start in range(0, len(order), BATCH * POOL):
            pool = sorted(order[start : start + BATCH * POOL].tolist(), key=lambda i: lengths[i])
            chunk = [pool[k : k + BATCH] for k in range(0, len(pool), BATCH)]
            rng.shuffle(chunk)  # type: ignore[arg-type]
            batches.extend(c for c in chunk if len(c) == BATCH)
    return batches[:steps]


def top_blocks_classifier(layers: list[Any], dim: int) -> Any:
    """Blocks `layers` (copied from the encoder), mean pooling over the mask, unit length, and a
    linear layer to the two classes (scaled as `nlp.finetune` scales them)."""
    import torch

    class TopBlocks(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = torch.nn.ModuleList(layers)
            self.classify = torch.nn.Linear(dim, 2)

        def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            blocked = (1.0 - mask[:, None, None, :]) * torch.finfo(torch.float32).min
            for layer in self.layers:
                out = layer(x, attention_mask=blocked)
                x = out[0] if isinstance(out, tuple) else out
            pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
            return self.classify(torch.nn.functional.normalize(pooled, dim=-1) * Recipe.logit_scale)

    return TopBlocks()


def train(states: list[np.ndarray], y: np.ndarray, first_block: int, epochs: float, lr: float) -> Any:
    """The top blocks from `first_block` fine-tuned on (states, y); logs progress to stderr."""
    import torch
    from transformers import AutoModel

    torch.manual_seed(SEED)
    encoder = AutoModel.from_pretrained(str(tuned_e5()))
    blocks = [copy.deepcopy(encoder.encoder.layer[i]) for i in range(first_block, encoder.config.num_hidden_layers)]
    model = top_blocks_classifier(blocks, int(encoder.config.hidden_size))
    del encoder
    steps = int(len(states) * epochs) // BATCH
    batches = length_batches([len(s) for s in states], steps, np.random.default_rng(SEED))
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = warm_up_then_decay(optimiser, steps)
    model.train()
    started = time.monotonic()
    losses: list[float] = []
    for step, idx in enumerate(batches):
        x, mask = padded(states, idx)
        loss = torch.nn.functional.cross_entropy(model(x, mask), torch.from_numpy(y[idx]))
        losses.append(take_step(loss, optimiser, schedule))
        if step % 200 == 0 or step == steps - 1:
            rate = (step + 1) * BATCH / (time.monotonic() - started)
            sys.stderr.write(f"step {step + 1}/{steps} loss {np.mean(losses[-200:]):.4f} ({rate:.0f} texts/s)\n")
    return model.eval()


def logits_of(model: Any, states: list[np.ndarray]) -> np.ndarray:
    import torch

    out = np.zeros((len(states), 2), dtype=np.float32)
    order = np.argsort([len(s) for s in states])
    with torch.no_grad():
        for start in range(0, len(order), 128):
            idx = order[start : start + 128].tolist()
            out[idx] = model(*padded(states, idx)).numpy()
    return out


def per_source_accuracy(logits: np.ndarray, y: np.ndarray, sources: np.ndarray) -> dict[str, float]:
    """Accuracy of the positive-vs-negative call on each source's rows."""
    said = (logits[:, 1] > logits[:, 0]).astype(int)
    return {str(s): round(float((said[sources == s] == y[sources == s]).mean()), 4) for s in np.unique(sources)}


def mixed(head: np.ndarray, blocks: np.ndarray, weight: float, bias: float) -> np.ndarray:
    """(1 - weight) × the head's log-probabilities + weight × the blocks', plus `bias` on positive."""
    return (1 - weight) * log_softmax(head) + weight * log_softmax(blocks) + np.array([0.0, bias])


GRID = [(round(w, 1), round(b, 1)) for w in np.arange(0.0, 1.01, 0.1) for b in np.arange(-1.0, 1.01, 0.1)]


def cross_fitted_mix(head: np.ndarray, blocks: np.ndarray, y: np.ndarray, sources: np.ndarray) -> list[dict[str, Any]]:
    """Per half of the rows (seeded): the weight and bias that score best on the other half (mean of
    the sources' accuracies, as the head's calibration weighs them), and what they and the head alone
    score on this half."""
    half = np.random.default_rng(SEED).permutation(len(y)) % 2
    folds = []
    for part in (0, 1):
        fit, held = half != part, half == part
        score = per_source(accuracy, list(sources[fit]))
        fitted = [score(y[fit], mixed(head[fit], blocks[fit], *choice).argmax(axis=1)) for choice in GRID]
        weight, bias = GRID[int(np.argmax(fitted))]  # the first best, as max() would take
        folds.append(
            {
                "weight": weight,
                "bias": bias,
                "mixed": per_source_accuracy(mixed(head[held], blocks[held], weight, bias), y[held], sources[held]),
                "head_alone": per_source_accuracy(head[held], y[held], sources[held]),
            }
        )
    return folds


def main(argv: list[str] | None = None) -> int:
    from transformers import AutoModel, AutoTokenizer

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--first-block", type=int, default=9, help="fine-tune blocks from this one (0-11) up")
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--head", type=Path, default=Path("nlp/models/sentiment-ko.npz"))
    parser.add_argument("--limit", type=int, help="only this many rows of each set, seeded (a quick trial)")
    args = parser.parse_args(argv)
    train_set, calibration = public_split("ko")
    train_texts, train_y, _ = polar_rows(train_set)
    val_texts, val_y, val_sources = polar_rows(calibration)
    if args.limit:
        rng = np.random.default_rng(SEED)
        pick = rng.permutation(len(train_texts))[: args.limit]
        train_texts, train_y = [train_texts[i] for i in pick], train_y[pick]
        pick = rng.permutation(len(val_texts))[: args.limit]
        val_texts, val_y, val_sources = [val_texts[i] for i in pick], val_y[pick], val_sources[pick]
    folder = tuned_e5()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    encoder = AutoModel.from_pretrained(str(folder)).eval()
    # Only the frozen blocks' output is read: the blocks above it are not run.
    encoder.encoder.layer = encoder.encoder.layer[: args.first_block]
    sys.stderr.write(f"computing blocks 0-{args.first_block - 1} for {len(train_texts) + len(val_texts):,} texts\n")
    train_states = lower_states(encoder, tokenizer, train_texts, args.first_block)
    val_states = lower_states(encoder, tokenizer, val_texts, args.first_block)
    del encoder
    model = train(train_states, train_y, args.first_block, args.epochs, args.lr)
    blocks = logits_of(model, val_states)
    shipped = SentimentHead.load(args.head)
    parts = shipped.part_logits(val_texts, cached_embeddings(val_texts, default_encode(), "ko-val"))
    head = shipped.combine(parts)
    result = {
        "first_block": args.first_block,
        "epochs": args.epochs,
        "lr": args.lr,
        "train_rows": len(train_texts),
        "top_blocks_alone": per_source_accuracy(blocks, val_y, val_sources),
        "head_alone": per_source_accuracy(head, val_y, val_sources),
        "mixed_cross_fitted": cross_fitted_mix(head, blocks, val_y, val_sources),
    }
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
