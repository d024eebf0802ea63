"""Showing untrusted text (posts, names, bios) inert: never as HTML, never as markdown.

Streamlit parses markdown in st.markdown, st.caption, headers and widget labels, so any user
text placed there goes through `md`, which backslash-escapes every markdown character. Whole
posts go through `st.text`, which renders characters as they are.
"""

from __future__ import annotations

import json
import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=\"'&])")


def md(text: object) -> str:
    """`text` with every markdown-significant character escaped, newlines flattened to spaces."""
    return _MARKDOWN.sub(r"\\\1", " ".join(str(text).split()))


def author_md(handle: str, display_name: str | None) -> str:
    """ "**@handle** (Display Name)", inert; the name left out when the author has none (a Reddit
    account, an erased author), so no empty "()" is shown."""
    name = " ".join((display_name or "").split())
    return f"**@{md(handle)}**" + (f" ({md(name)})" if name else "")


def short(text: str, limit: int = 120) -> str:
    """One line of at most `limit` characters (for table cells and select options)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def readable_payload(raw: str) -> tuple[str, str | None]:
    """A stored payload as a person reads it in `st.code`, and the highlighting to use: JSON (stored
    on one line) indented, anything else (XML, a broken body) as it is. Still only text: `st.code`
    renders no markup."""
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to lay out
        return raw, None
    if not isinstance(parsed, dict | list):  # a bare string or number: nothing to lay out
        return raw, None
    return json.dumps(parsed, ensure_ascii=False, indent=2), "json"
