"""The record kept beside a retrained head of the newest staff correction it was trained on.

`dangol.pipeline.train_topics` writes it beside the topic head after every training (kept or not),
and `dangol.jobs.sentiment_train_job` beside the retrained sentiment heads; `dangol.jobs` reads
them so the scheduled retraining runs only when staff have corrected labels since.
"""

from __future__ import annotations

import json
from pathlib import Path

from dangol.core.types import utcnow


def record_path(head_path: Path) -> Path:
    """The file beside the head that records the newest topic correction already trained on."""
    return head_path.with_name(head_path.stem + ".trained.json")


def corrections_trained_through(head_path: Path) -> int | None:
    """The newest topic correction id the last training saw (None: never trained, or no record)."""
    try:
        return int(json.loads(record_path(head_path).read_text(encoding="utf-8"))["corrections_through"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def record_training(head_path: Path, through: int | None, reason: str) -> None:
    """Record that the head at `head_path` was trained on corrections up to id `through`, and the outcome."""
    record = {"corrections_through": through, "trained_at": utcnow().isoformat(), "outcome": reason}
    path = record_path(head_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2), encoding="utf-8")
