"""Words and handles, read one way everywhere: the complaint-topic proposals (nlp.topics), the terms
that rose in an alert (reports.terms), customer linking (nlp.linking, storage.customers), a query's
from: filter (listener.query) and the brand's own accounts (dangol.core.settings); and the language codes
staff and complaint topics are tagged with (responder.accounts.staff, responder.topic_admin)."""

from __future__ import annotations

import re

# A word starts with a letter (any script), not inside another token ("3rd" is no word "rd"), and
# goes on with letters, digits, apostrophes or hyphens.
_WORD = re.compile(r"(?<!\w)[^\W\d_][\w'’-]*", re.UNICODE)
_NOT_WORDS = re.compile(r"https?://\S+|@\w+")
# Function words only; topic words such as "order" or "app" are exactly what should surface.
STOPWORDS = frozenset(
    "a about all am amp an and any are as at be been but by can can't cant could com did do does don't dont "
    "for from get got had has have here how http https i i'm if im in is it it's its just me my no not of on "
    "or our out really rt so still than that the their them then there they this to too up us via was we "
    "were what when why will with would www you your again very".split()
)


def words(text: str) -> list[str]:
    """The words of a post, case-folded, in order: two letters or more, no stopwords, no links or
    @mentions."""
    return [
        w for w in (m.group(0).casefold() for m in _WORD.finditer(_NOT_WORDS.sub(" ", text or ""))) if len(w) >= 2
        and w not in STOPWORDS
    ]  # fmt: skip


def normalize_handle(handle: str) -> str:
    """A handle without the leading @ and case: "@Jane_Doe" -> "jane_doe"."""
    return (handle or "").strip().lstrip("@").casefold()


# An ISO 639 code as stored, lowercase ("en", "ko"). Staff members and complaint topics both list their
# languages by these codes, so both are checked against this one pattern.
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
