"""How long a reply may be on each platform."""

from __future__ import annotations

from dangol.core.errors import ActionError

# Characters per post; Reddit's comment limit is 10,000, a YouTube comment's 10,000, a Google Play
# developer reply's 350 (the Developer API refuses longer ones) and an App Store Connect review
# response's 5,970. Platforms not listed have no practical limit.
LENGTH_LIMITS = {
    "x": 280,
    "bluesky": 300,
    "mastodon": 500,
    "reddit": 10_000,
    "youtube": 10_000,
    "googleplay": 350,
    "appstore": 5_970,
}


def limit_for(platform: str) -> int | None:
    """The platform's length limit in characters, or None."""
    return LENGTH_LIMITS.get(platform)


def check_reply_text(text: str, platform: str) -> None:
    """Raise ActionError when `text` is empty, holds a NUL character (no platform posts one, and
    PostgreSQL refuses it: an API reply with one was a 500) or is longer than the platform allows."""
    if not text.strip():
        raise ActionError("a reply needs some text")
    if "\x00" in text:
        raise ActionError("the reply holds a NUL character; remove it")
    limit = limit_for(platform)
    if limit is not None and len(text) > limit:
        raise ActionError(f"reply is {len(text)} characters; {platform} allows at most {limit}")


def fit(text: str, platform: str, *, tail: str = "") -> str:
    """Shorten `text` at a sentence or word boundary so it fits the platform, with `tail` (a
    sentence that must not be cut off) after it, whole."""
    limit = limit_for(platform)
    if not tail:
        return _fit(text, limit)
    # Before a tail, whole sentences only where there is one: "… so I can look into it… For your
    # privacy, …" read as a broken reply.
    return f"{_fit(text, None if limit is None else limit - len(tail) - 1, whole_sentences=True)} {tail}"


def _fit(text: str, limit: int | None, *, whole_sentences: bool = False) -> str:
    if limit is None or len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # The last sentence end, whichever its mark; a word boundary only when there is none far enough in.
    ends = [cut.rfind(sep) + len(sep) for sep in (". ", "! ", "? ", "。") if sep in cut]
    if ends and max(ends) > (0 if whole_sentences else limit // 2):
        return cut[: max(ends)].rstrip()
    at = cut.rfind(" ")
    if at > limit // 2:
        return cut[:at].rstrip() + "…"
    return cut + "…"
