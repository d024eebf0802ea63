"""Fine-tune the e5 encoder end to end on sentiment, in a few hundred kilobytes of low-rank adapters.

Every linear layer of the transformer gets a trainable low-rank update (W + B·A·scale, rank r; the
word embeddings and the original weights stay frozen), trained on English tweets (3 classes) and
Korean reviews and comments (2 classes) together, so each language's labels teach the shared
layers. A second loss keeps each post's embedding close to the original model's (cosine), because
the same vector also serves complaint topics, intent, near-duplicates and reply retrieval: those
read it by closeness to examples and must keep working without being retrained.

Merged into the weights (`nlp.encoders.adapter`) they cost nothing at serving time: the merged
model is exported to ONNX like any other. `python -m nlp.finetune` builds them from the
public training data (`--data-dir`, seeded); nlp/models/MODEL_CARD.md says what they measured and
whether they are in use.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlp.encoders.adapter import adapter_digest, apply_adapter, scale_adapter
from nlp.train import DATA, SEED, load_public, public_split

log = logging.getLogger(__name__)

DEFAULT_OUT = Path("var/models/e5-adapter.npz")
# The linear layers of each BERT block that get an adapter (attention and feed-forward).
TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
EN_CLASSES = ["negative", "neutral", "positive"]
KO_CLASSES = ["negative", "positive"]


@dataclass(frozen=True)
class Recipe:
    """What one fine-tuning run does; recorded in the adapter's metadata."""

    rank: int = 8
    alpha: float = 16.0
    lr: float = 5e-4
    epochs: float = 1.0
    batch_size: int = 32
    max_length: int = 64
    en_rows: int = 6000
    ko_rows: int = 6000
    keep_weight: float = 2.0  # weight of (1 - cosine to the original embedding)
    # Adapt the blocks from this one up: the lower blocks then need no backward pass (half the
    # training time on a CPU) and the lower layers' general features stay as they were.
    first_layer: int = 6
    logit_scale: float = 20.0
    seed: int = SEED


def _lora_module() -> Any:
    import torch

    class LoraLinear(torch.nn.Module):
        """A frozen linear layer plus a trainable rank-r update; B starts at zero, so training
        starts from the original model exactly. `enabled = False` gives the original layer."""

        def __init__(self, base: torch.nn.Linear, rank: int, alpha: float) -> None:
            super().__init__()
            self.base = base
            self.scale = alpha / rank
            self.lora_a = torch.nn.Parameter(torch.randn(rank, base.in_features) / math.sqrt(base.in_features))
            self.lora_b = torch.nn.Parameter(torch.zeros(base.out_features, rank))
            self.enabled = True

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = self.base(x)
            if self.enabled:
                out = out + (x @ self.lora_a.T @ self.lora_b.T) * self.scale
            return out

    return LoraLinear


def add_adapters(model: Any, rank: int, alpha: float, first_layer: int = 0) -> dict[str, Any]:
    """Wrap every TARGETS linear of `model`'s encoder layers from `first_layer` up; returns
    {module name: wrapper}."""
    lora_linear = _lora_module()
    for p in model.parameters():
        p.requires_grad_(False)
    wrapped: dict[str, Any] = {}
    for name, module in list(model.named_modules()):
        for target in TARGETS:
            layer = re.search(r"\.layer\.(\d+)\.", name)
            if name.endswith(target) and layer and int(layer[1]) >= first_layer and type(module).__name__ == "Linear":
                # "output.dense" also ends "attention.output.dense": keep each layer's own match.
                if target == "output.dense" and name.endswith("attention.output.dense"):
                    continue
                parent_name, _, child = name.rpartition(".")
                parent = model.get_submodule(parent_name)
                wrapper = lora_linear(module, rank, alpha)
                setattr(parent, child, wrapper)
                wrapped[name] = wrapper
    return wrapped


def set_adapters(wrapped: dict[str, Any], enabled: bool) -> None:
    for w in wrapped.values():
        w.enabled = enabled


def adapter_arrays(wrapped: dict[str, Any]) -> dict[str, np.ndarray]:
    """The merged update B·A·scale would be large; the factors are what is stored."""
    out: dict[str, np.ndarray] = {}
    for name, w in wrapped.items():
        out[f"{name}::a"] = w.lora_a.detach().numpy().astype(np.float16)
        out[f"{name}::b"] = (w.lora_b.detach().numpy() * w.scale).astype(np.float16)
    return out


def training_rows(recipe: Recipe, data_dir: Path = DATA) -> list[tuple[str, int, str]]:
    """(text, class index, language) rows: a seeded sample of TweetEval train (English) and of the
    Korean head's training part (NSMC train, half of NSMC val, KOTE's train part; never the held-out
    NSMC half or the KOTE test fifth), balanced between NSMC and KOTE so comments are not outvoted."""
    rng = np.random.default_rng(recipe.seed)
    en = load_public("tweeteval", "train", data_dir)
    ko, _ = public_split("ko", data_dir)
    rows: list[tuple[str, int, str]] = []
    for i in rng.permutation(len(en))[: recipe.en_rows]:
        rows.append((en.texts[i], EN_CLASSES.index(en.labels[i]), "en"))
    kote = [i for i, s in enumerate(ko.sources) if s == "kote" and ko.labels[i] in KO_CLASSES]
    nsmc = [i for i, s in enumerate(ko.sources) if s != "kote" and ko.labels[i] in KO_CLASSES]
    picked = list(rng.permutation(kote)[: recipe.ko_rows // 3]) + list(
        rng.permutation(nsmc)[: recipe.ko_rows - min(len(kote), recipe.ko_rows // 3)]
    )
    for i in picked:
        rows.append((ko.texts[i], KO_CLASSES.index(ko.labels[i]), "ko"))
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def mean_pooled(model: Any, tokenizer: Any, texts: list[str], max_length: int, layers: tuple[int, ...] = ()) -> Any:
    """e5's sentence vectors as the pipeline reads them ("query: " prefix, mean over the tokens,
    unit length), as a torch tensor: with gradients while training, under no_grad for probes.
    With `layers` (1 = the first block's output), those blocks' outputs are pooled the same way
    and concatenated instead of the last block's alone."""
    import torch

    batch = tokenizer(
        ["query: " + t for t in texts], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
    )
    output = model(**batch, output_hidden_states=bool(layers))
    mask = batch["attention_mask"].unsqueeze(-1).float()
    hidden_states = [output.hidden_states[i] for i in layers] if layers else [output.last_hidden_state]
    pooled = [(hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9) for hidden in hidden_states]
    return torch.cat([torch.nn.functional.normalize(p, dim=-1) for p in pooled], dim=-1)


def warm_up_then_decay(optimiser: Any, steps: int) -> Any:
    """The learning rate over `steps`: up from zero over the first tenth, then down to zero linearly."""
    import torch

    warm = max(1, steps // 10)
    return torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warm) * max(0.0, 1 - s / max(1, steps))
    )


def take_step(loss: Any, optimiser: Any, schedule: Any) -> float:
    """One optimisation step on `loss`; its value, for the progress log."""
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    schedule.step()
    return float(loss.detach())


def finetune(
    model_dir: Path, recipe: Recipe, rows: list[tuple[str, int, str]], out: Path = DEFAULT_OUT
) -> dict[str, Any]:
    """Train adapters on `model_dir` (the rebuilt e5 folder) over (text, class index, language)
    rows (`training_rows`) and write them to `out`; returns their metadata."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(recipe.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir))
    wrapped = add_adapters(model, recipe.rank, recipe.alpha, recipe.first_layer)
    dim = int(model.config.hidden_size)
    heads = torch.nn.ModuleDict({"en": torch.nn.Linear(dim, 3), "ko": torch.nn.Linear(dim, 2)})
    params = [p for w in wrapped.values() for p in (w.lora_a, w.lora_b)] + list(heads.parameters())
    optimiser = torch.optim.AdamW(params, lr=recipe.lr, weight_decay=0.01)
    steps = max(1, int(len(rows) * recipe.epochs) // recipe.batch_size)
    schedule = warm_up_then_decay(optimiser, steps)

    def embed(texts: list[str]) -> Any:
        return mean_pooled(model, tokenizer, texts, recipe.max_length)

    model.train()
    started = time.monotonic()
    losses: list[float] = []
    for step in range(steps):
        chunk = [rows[(step * recipe.batch_size + j) % len(rows)] for j in range(recipe.batch_size)]
        texts = [r[0] for r in chunk]
        with torch.no_grad():
            set_adapters(wrapped, False)
            model.eval()
            original = embed(texts)
            set_adapters(wrapped, True)
            model.train()
        vectors = embed(texts)
        loss = recipe.keep_weight * (1 - (vectors * original).sum(-1)).mean()
        for language in ("en", "ko"):
            idx = [j for j, r in enumerate(chunk) if r[2] == language]
            if idx:
                logits = heads[language](vectors[idx] * recipe.logit_scale)
                target = torch.tensor([chunk[j][1] for j in idx])
                loss = loss + torch.nn.functional.cross_entropy(logits, target) * len(idx) / len(chunk)
        losses.append(take_step(loss, optimiser, schedule))
        if step % 20 == 0 or step == steps - 1:
            rate = (step + 1) * recipe.batch_size / (time.monotonic() - started)
            log.info("step %d/%d loss %.4f (%.1f texts/s)", step + 1, steps, np.mean(losses[-20:]), rate)
    arrays = adapter_arrays(wrapped)
    meta = {
        "version": adapter_digest(arrays),
        "base": model_dir.name,
        "recipe": recipe.__dict__,
        "rows": len(rows),
        "steps": steps,
        "seconds": round(time.monotonic() - started),
        "final_loss": float(np.mean(losses[-50:])),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(out, **arrays)  # type: ignore[arg-type]
    return meta


PROBE_ROWS = 3000


def _probe_sets(data_dir: Path, exclude: set[str]) -> dict[str, tuple[list[str], list[str]]]:
    """Training and test rows of the logistic-regression probes: seeded samples of TweetEval train
    and NSMC train that the fine-tuning rows did not use, against TweetEval val, the NSMC held-out
    half and the KOTE test fifth (never trained, calibrated or fine-tuned on)."""
    from nlp.train import kote_split

    rng = np.random.default_rng(SEED + 1)
    en = load_public("tweeteval", "train", data_dir)
    ko = load_public("nsmc", "train", data_dir)
    sets: dict[str, tuple[list[str], list[str]]] = {}
    for name, data in (("en-train", en), ("ko-train", ko)):
        picked = [i for i in rng.permutation(len(data)) if data.texts[i] not in exclude][:PROBE_ROWS]
        sets[name] = ([data.texts[i] for i in picked], [data.labels[i] for i in picked])
    val = load_public("tweeteval", "val", data_dir)
    sets["tweeteval-val"] = (val.texts, val.labels)
    _, ko_val = public_split("ko", data_dir)
    nsmc = [i for i, s in enumerate(ko_val.sources) if s == "nsmc"]
    sets["nsmc-heldout"] = ([ko_val.texts[i] for i in nsmc], [ko_val.labels[i] for i in nsmc])
    kote = kote_split(data_dir)["test"]
    polar = [i for i, label in enumerate(kote.labels) if label in KO_CLASSES]
    sets["kote-test"] = ([kote.texts[i] for i in polar], [kote.labels[i] for i in polar])
    return sets


def probe(
    model_dir: Path, adapter: Path | None, recipe: Recipe, data_dir: Path = DATA, layers: tuple[int, ...] = ()
) -> dict[str, float]:
    """Logistic-regression probes over the (adapted) encoder's embeddings, torch fp32: English
    3-class macro-recall on TweetEval val; Korean accuracy on the NSMC held-out half and, with the
    probe trained on movie reviews only, on KOTE's comments (a domain the probe never saw).
    `layers`: probe these blocks' pooled outputs, concatenated, instead of the sentence vector."""
    import torch
    from sklearn.linear_model import LogisticRegression
    from transformers import AutoModel, AutoTokenizer

    from nlp.train import macro_recall

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).eval()
    if adapter is not None:
        apply_adapter(model, adapter)
    exclude = {text for text, _, _ in training_rows(recipe, data_dir)}
    sets = _probe_sets(data_dir, exclude)

    def encode(texts: list[str]) -> np.ndarray:
        with torch.no_grad():
            chunks = [
                mean_pooled(model, tokenizer, texts[i : i + 64], recipe.max_length, layers)
                for i in range(0, len(texts), 64)
            ]
        return np.concatenate([c.numpy() for c in chunks])

    vectors = {name: encode(texts) for name, (texts, _) in sets.items()}
    labels = {name: np.array(y) for name, (_, y) in sets.items()}
    results: dict[str, float] = {}
    en = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced").fit(vectors["en-train"], labels["en-train"])
    predicted = en.predict(vectors["tweeteval-val"])
    codes = {c: i for i, c in enumerate(EN_CLASSES)}
    results["tweeteval_val_macro_recall"] = macro_recall(
        np.array([codes[c] for c in labels["tweeteval-val"]]), np.array([codes[c] for c in predicted]), 3
    )
    ko = LogisticRegression(C=1.0, max_iter=2000).fit(vectors["ko-train"], labels["ko-train"])
    for name in ("nsmc-heldout", "kote-test"):
        results[f"{name.replace('-', '_')}_accuracy"] = float((ko.predict(vectors[name]) == labels[name]).mean())
    # Cross-lingual: the English probe's positive-vs-negative call on Korean comments.
    polar = [EN_CLASSES.index("negative"), EN_CLASSES.index("positive")]
    en_scores = en.predict_proba(vectors["kote-test"])[:, polar]
    results["kote_test_from_english_accuracy"] = float(
        (np.array(KO_CLASSES)[en_scores.argmax(1)] == labels["kote-test"]).mean()
    )
    return {k: round(v, 4) for k, v in results.items()}


def _layer_list(text: str) -> tuple[int, ...]:
    try:
        layers = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of block numbers: {text!r}") from None
    if not layers or min(layers) < 1:
        raise argparse.ArgumentTypeError(f"block numbers start at 1: {text!r}")
    return layers


def main(argv: list[str] | None = None) -> int:
    from nlp.encoders.base import rebuilt_e5

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--probe",
        metavar="ADAPTER",
        help="do not train: score logistic-regression probes over the original encoder and over "
        "the encoder with ADAPTER merged (the recipe options must match the adapter's run)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        metavar="ALPHA",
        help="do not train: write to --out the adapter --from with its update scaled by ALPHA (0..1)",
    )
    parser.add_argument("--from", dest="source", type=Path, metavar="ADAPTER", help="the adapter --scale reads")
    parser.add_argument(
        "--probe-layers",
        type=_layer_list,
        default=(),
        metavar="L1,L2,...",
        help="with --probe: probe these blocks' pooled outputs concatenated (1-12; 12 is the sentence "
        "vector's block) instead of the sentence vector",
    )
    for name, value in Recipe().__dict__.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    recipe = Recipe(**{k: getattr(args, k) for k in Recipe().__dict__})
    if args.scale is not None:
        if args.source is None:
            parser.error("--scale needs --from ADAPTER")
        sys.stdout.write(json.dumps(scale_adapter(args.source, args.scale, args.out)) + "\n")
        return 0
    if args.probe:
        scores = {
            "original": probe(rebuilt_e5(), None, recipe, args.data_dir, args.probe_layers),
            "adapted": probe(rebuilt_e5(), Path(args.probe), recipe, args.data_dir, args.probe_layers),
        }
        sys.stdout.write(json.dumps(scores) + "\n")
        return 0
    meta = finetune(rebuilt_e5(), recipe, training_rows(recipe, args.data_dir), args.out)
    sys.stdout.write(json.dumps(meta) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
