"""Which brands a post is about: the own brand and its competitors (`[brands.<key>]` in config.toml).

A post is tagged at ingest (storage.ingest) with every brand whose keywords or handles it names
(in its title or text, or as its author). When it names none, the brand the source collects for
(`[sources.x] brand`, default the own brand) is assumed: a source's query is what found the post.
A post that names only competitors is a competitor post even when an own-brand source found it:
it is analyzed and counted for share of voice, but never queued and never linked to a customer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from dangol.core.text import normalize_handle

# Without a [brands] table the one brand of [brand] is the own brand, under this key.
DEFAULT_OWN_KEY = "own"


@dataclass(frozen=True, slots=True)
class Brand:
    """One brand: its key (stored on each post it is tagged with), name, whether it is ours, the
    accounts it posts from ((platform or None, lowercase handle)) and the words that name it."""

    key: str
    name: str
    own: bool
    accounts: tuple[tuple[str | None, str], ...]
    keywords: tuple[str, ...]


def _fold(text: str) -> str:
    # NFKC leaves ASCII as it is: most posts skip it.
    text = text or ""
    return (text if text.isascii() else unicodedata.normalize("NFKC", text)).casefold()


_MENTION = re.compile(r"@([\w.@-]+)")


def _keyword_pattern(keyword: str) -> str:
    word = re.escape(_fold(keyword).strip())
    # Latin words need edges ("maru" is not in "marumaru"); Korean particles attach to the name
    # ("별빛커피가"), so Hangul keywords match anywhere.
    return rf"(?<!\w){word}(?!\w)" if keyword.isascii() else word


@dataclass(frozen=True)
class BrandCatalog:
    """The configured brands, the own one first."""

    brands: tuple[Brand, ...]
    _patterns: dict[str, tuple[tuple[str, ...], re.Pattern[str]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if sum(1 for b in self.brands if b.own) != 1:
            raise ValueError("exactly one brand must be the own brand")
        # One pattern per brand, compiled once: every stored post is matched against them. With it the
        # folded keywords: a pattern matches only where one of them is a substring, and looking for
        # the substrings first is ~20× cheaper than the pattern's search, which tries its edges at
        # every position (2.2 µs a brand on a 74-character post; most posts name no brand).
        patterns = {
            b.key: (
                tuple(_fold(k).strip() for k in b.keywords if k.strip()),
                re.compile("|".join(_keyword_pattern(k) for k in b.keywords if k.strip())),
            )
            for b in self.brands
            if any(k.strip() for k in b.keywords)
        }
        object.__setattr__(self, "_patterns", patterns)

    @property
    def own(self) -> Brand:
        return next(b for b in self.brands if b.own)

    @property
    def keys(self) -> list[str]:
        return [b.key for b in self.brands]

    @property
    def names(self) -> dict[str, str]:
        return {b.key: b.name for b in self.brands}

    def named_in(self, platform: str, author_handle: str, text: str) -> list[str]:
        """Keys of the brands the text names (a keyword, or @handle of one of its accounts) or
        whose account wrote it, in catalog order."""
        folded = _fold(text)
        mentioned = {normalize_handle(m).rstrip(".") for m in _MENTION.findall(folded)} if "@" in folded else set()
        author = normalize_handle(author_handle)
        found = []
        for brand in self.brands:
            by_account = any(p in (None, platform) and (h == author or h in mentioned) for p, h in brand.accounts)
            words, pattern = self._patterns.get(brand.key, ((), None))
            by_word = any(w in folded for w in words) and pattern is not None and pattern.search(folded) is not None
            if by_account or by_word:
                found.append(brand.key)
        return found

    def tag(self, platform: str, author_handle: str, text: str, source_brand: str | None) -> tuple[list[str], bool]:
        """(brand keys of the post, True when it is about competitors only)."""
        keys = self.named_in(platform, author_handle, text) or [source_brand or self.own.key]
        return keys, self.own.key not in keys
