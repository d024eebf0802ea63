"""Offline language identification for short social posts (ISO 639-1 codes).

Short posts defeat n-gram identifiers, so the order is: (1) the script, which settles Korean,
Japanese, Chinese, Thai and the Cyrillic/Arabic/Greek/Hebrew languages outright; (2) for Latin
text long enough to judge, py3langid restricted to the languages a brand is likely to hear; (3)
the platform's own hint when the text is too short or the identifier is unsure; (4) English.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

# Latin-script languages py3langid may choose between; a wider set only adds confusions.
LATIN_LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "nl", "id", "tr", "vi", "pl", "sv")
SUPPORTED = ("en", "ko", "ja", "zh", "es", "fr", "de", "pt", "it", "nl", "id", "tr", "vi", "pl", "sv", "ru", "th")
DEFAULT_LANGUAGE = "en"
# Fewer letters than this (after removing links, mentions, tags) is too short to judge.
MIN_LETTERS = 12
# Below this py3langid probability the platform hint wins when there is one.
MIN_CONFIDENCE = 0.7

_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#][\w.]+|&\w+;|\brt\b", re.IGNORECASE)


def clean(text: str) -> str:
    """The text without links, @mentions, #tags and HTML entities, which carry no language."""
    return _NOISE.sub(" ", text or "")


SCRIPTS = ("hangul", "kana", "han", "thai", "cyrillic", "arabic", "greek", "hebrew", "latin")


def script_counts(text: str) -> dict[str, int]:
    """Letters per script: hangul, kana, han, thai, cyrillic, arabic, greek, hebrew, latin."""
    counts = dict.fromkeys(SCRIPTS, 0)
    for ch in text:
        script = _script(ch)
        if script is not None:
            counts[script] += 1
    return counts


@cache
def _script(ch: str) -> str | None:
    # Cached per character: unicodedata.name on every letter of every post was most of language
    # id's cost (0.2 ms a post); a post's characters are nearly all ones seen before.
    if not ch.isalpha():
        return None
    code = ord(ch)
    if 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return "hangul"
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9D:
        return "kana"
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
        return "han"
    if 0x0E00 <= code <= 0x0E7F:
        return "thai"
    name = unicodedata.name(ch, "")
    for script in ("CYRILLIC", "ARABIC", "GREEK", "HEBREW", "LATIN"):
        if name.startswith(script):
            return script.lower()
    return None


def language_of_script(counts: dict[str, int], hint: str | None) -> str | None:
    """The language a non-Latin script decides, or None when the text is (mostly) Latin."""
    cjk_and_other = {k: v for k, v in counts.items() if k != "latin" and v}
    if not cjk_and_other:
        return None
    # Any kana means Japanese (kanji-only text would otherwise look Chinese).
    if counts["kana"]:
        return "ja"
    if counts["hangul"] and counts["hangul"] >= max(counts["han"], 1) * 0.3:
        return "ko"
    script = max(cjk_and_other, key=lambda k: cjk_and_other[k])
    # A few foreign letters inside a long Latin post do not make it foreign.
    if counts["latin"] > 4 * cjk_and_other[script]:
        return None
    if script == "han":
        return "ja" if hint == "ja" else "zh"
    return {"thai": "th", "cyrillic": "ru", "arabic": "ar", "greek": "el", "hebrew": "he", "hangul": "ko"}.get(script)


@cache
def load_identifier() -> Any:
    """py3langid restricted to LATIN_LANGUAGES, loaded once per process."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LATIN_LANGUAGES))
    return identifier


def normalise_hint(hint: str | None) -> str | None:
    """A platform's language tag reduced to ISO 639-1 ("en-US" -> "en"); unknown tags -> None."""
    if not hint:
        return None
    code = hint.strip().lower().replace("_", "-").split("-")[0]
    return code if len(code) == 2 and code.isalpha() else None


def detect_language(text: str, hint: str | None = None) -> str:
    """The ISO 639-1 language of one post; `hint` is the platform's tag, used when text is too short."""
    hint = normalise_hint(hint)
    body = clean(text)
    counts = script_counts(body)
    by_script = language_of_script(counts, hint)
    if by_script:
        return by_script
    if counts["latin"] < MIN_LETTERS:
        return hint or DEFAULT_LANGUAGE
    language, confidence = load_identifier().classify(body.lower())
    if confidence < MIN_CONFIDENCE and hint:
        return hint
    return str(language)


def detect_languages(texts: list[str], hints: list[str | None] | None = None) -> list[str]:
    """`detect_language` for a batch; `hints` lines up with `texts` (or is None)."""
    hints = hints if hints is not None else [None] * len(texts)
    if len(hints) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(hints)} hints; give one hint (or None) per text")
    return [detect_language(text, hint) for text, hint in zip(texts, hints, strict=True)]
