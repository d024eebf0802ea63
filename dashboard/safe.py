"""Showing untrusted text (posts, names, bios) inert: never as HTML, never as markdown.

Streamlit parses markdown in st.markdown, st.caption, headers and widget labels, so any user
text placed there goes through `md`, which backslash-escapes every markdown character. Whole
posts go through `st.text`, which renders characters as they are.
"""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=\"'&])")


def md(text: object) -> str:
    """`text` with every markdown-significant character escaped, newlines flattened to spaces."""
    return _MARKDOWN.sub(r"\\\1", " ".join(str(text).split()))


def short(text: str, limit: int = 120) -> str:
    """One line of at most `limit` characters (for table cells and select options)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
