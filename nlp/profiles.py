"""What `[nlp] profile` switches: the encoder, the packaged sentiment heads and where retrained ones go.

- "default": `[nlp.encoder] use` (int8 e5 with Dangol's adapter) and the heads in nlp/models/.
- "fast": the static token table distilled from that encoder (`nlp.encoders.static`) and the heads
  trained on it in nlp/models/fast/ (retrained ones in var/models/sentiment-fast, so the two
  profiles' heads never overwrite each other). `[nlp.encoder]` `use` is then ignored; its `model`
  is the table's teacher. Everything else (topics, intents, near-duplicates, risk) is the same
  code reading the fast vectors.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dangol.core.settings import Settings

FAST = "fast"
# The shipped heads of the default profile, and where retrained ones go unless `heads_dir` is set.
PACKAGED_HEADS = Path(__file__).resolve().parent / "models"
DEFAULT_HEADS_DIR = Path("var/models/sentiment")
FAST_HEADS = PACKAGED_HEADS / FAST
FAST_RETRAINED = Path("var/models/sentiment-fast")


def encoder_use(settings: Settings) -> str:
    """The encoder implementation the profile runs."""
    return "static" if settings.nlp.profile == FAST else settings.nlp.encoder.use


def packaged_heads(settings: Settings) -> Path:
    """The folder of the shipped heads trained for the profile's encoder."""
    return FAST_HEADS if settings.nlp.profile == FAST else PACKAGED_HEADS


def retrained_heads(settings: Settings) -> Path:
    """Where retrained heads go when `[nlp.sentiment] heads_dir` is not set."""
    return FAST_RETRAINED if settings.nlp.profile == FAST else DEFAULT_HEADS_DIR
