"""Suggested replies: a topic template, the most similar past replies, and a tone-matched short answer.

A suggestion only states what the data says. Templates fill in the name the person uses in public
on that platform (never the name in the brand's CRM: a public reply must not reveal what the brand
knows about a pseudonymous account, and only when it looks like a name), the date we last answered
them and an order number written in the post itself, and leave out any sentence whose placeholder
is unknown. Past replies are reused sentence by sentence, dropping every
sentence that carries an order number, date, amount or refund promise this post does not contain.
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import Session

from dangol.core.redact import EMAIL, first_pii
from responder.limits import fit
from responder.memory import item_history, item_people
from storage.analyses import analysis_of
from storage.models import Analysis, Post
from storage.replies import given_replies_with_embeddings

TEMPLATES = Path(__file__).with_name("templates.toml")
MIN_SIMILARITY = 0.6
SIMILAR_POOL = 2000  # most recent approved/sent replies considered for retrieval
_ORDER = re.compile(
    r"(?:order|주문(?:번호)?)\s*(?:no\.?|number|num|번호)?\s*[:#]?\s*(#?[A-Za-z]{0,4}-?\d{3,}[A-Za-z0-9-]*)"
    r"|#([A-Za-z]{0,4}-?\d{4,}[A-Za-z0-9-]*)",
    re.IGNORECASE,
)
_FACT = re.compile(
    r"#?[A-Za-z]{0,4}-?\d{3,}[A-Za-z0-9-]*"  # order and ticket numbers
    r"|\d{1,4}[./-]\d{1,2}(?:[./-]\d{1,4})?"  # dates like 2026-11-03, 11/3
    r"|[$₩€£]\s?\d[\d,.]*|\d[\d,.]*\s?(?:원|won|dollars?|usd|krw)"  # amounts
    # dates in words
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b|\d{1,2}월\s?\d{1,2}일",
    re.IGNORECASE,
)
# A name to greet someone by: starts with a letter; letters, digits, spaces, . ' - only, initials
# with their full stop too ("Tom R.", "J. Park"); short. "<img", "@someone", "https://…" and
# emoji-only display names give no name at all.
_PLAUSIBLE_NAME = re.compile(r"^[^\W\d_][^\W_]*(?:(?:\. |[ .'-])[^\W_]+)*\.?$")
MAX_NAME_CHARS = 30
# The post says an app update brought the trouble: telling them to update would read as unread.
_UPDATE = re.compile(
    r"\b(?:updat(?:e|ed|es|ing)|upgrad(?:e|ed|es|ing)|(?:new|latest) version)\b|업데이트|업뎃|(?:새|최신)\s?버전",
    re.IGNORECASE,
)
# What the customer already told us is not asked for again: an app version ("5.2", "v5.2.0") and a phone.
_VERSION = re.compile(
    r"(?<![\w.,])(?:\d{1,3}\.\d{1,3}\.\d{1,4}"  # 5.2.0
    r"|(?:(?:v|ver\.?|version|app|앱)\s?)\d{1,3}\.\d{1,3}(?:\.\d{1,4})?"  # v5.2, app 5.2
    r"|\d{1,3}\.\d{1,3}(?=\s?(?:update|version|버전|업데이트|업뎃)))(?![\d,]|\.\d)",  # the 5.2 update
    re.IGNORECASE,
)
_DEVICE = re.compile(r"\b(?:iphone|ipad|galaxy|pixel)\b|아이폰|아이패드|갤럭시|픽셀", re.IGNORECASE)
_PROMISE = re.compile(r"refund|reimburs|compensat|voucher|coupon|환불|보상|쿠폰", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?。])\s+|(?<=다\.)\s*|\n+")


@dataclass(frozen=True)
class Suggestion:
    """One reply a person can start from, where it came from, and why it was suggested."""

    text: str
    source: str  # template:<topic>:<lang> | similar:<reply id> | tone:<kind>:<lang>
    explanation: str


@cache
def load_templates(path: Path = TEMPLATES) -> dict[str, Any]:
    """The reply templates, by language, topic and kind, and the notices ([notices]) by language."""
    with path.open("rb") as fh:
        return tomllib.load(fh)


def find_order(text: str) -> str | None:
    """An order number the customer wrote in the post ("order #A-1234", "주문번호 12345"), or None."""
    match = _ORDER.search(text)
    return (match.group(1) or match.group(2)).lstrip("#") if match else None


def kind_of(analysis: Analysis | None) -> str:
    """complaint (apology + next step), question (answer + next step) or praise (thanks)."""
    if analysis is None:
        return "question"
    if analysis.intent in ("complaint", "question", "praise"):
        return analysis.intent
    if analysis.is_complaint or analysis.sentiment == "negative":
        return "complaint"
    if analysis.is_question:
        return "question"
    return "praise" if analysis.sentiment == "positive" else "question"


def mentioned(pattern: re.Pattern[str], text: str) -> str | None:
    """What of `pattern` the post says, if anything (the words saying an app update brought the
    trouble, the app version, the phone)."""
    match = pattern.search(text)
    return match.group(0) if match else None


def render(parts: list[str], values: dict[str, str | None]) -> str:
    """Join the parts whose placeholders are all known; "!key text" parts only when `key` is
    unknown, "?key text" ones only when it is known."""
    out = []
    for part in parts:
        holds = True
        while part[:1] in ("!", "?"):  # "!device ?version text": each condition must hold
            key, _, rest = part[1:].partition(" ")
            holds = holds and bool(values.get(key)) == (part[0] == "?")
            part = rest
        if not holds:
            continue
        keys = [name for _, name, _, _ in string.Formatter().parse(part) if name]
        if all(values.get(k) for k in keys):
            out.append(part.format(**{k: values[k] for k in keys}))
    return " ".join(out)


def _embedding(blob: bytes | None) -> np.ndarray | None:
    if not blob:
        return None
    vector = np.frombuffer(blob, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else None


def _known_facts(post: Post, values: dict[str, str | None]) -> str:
    return " ".join([post.title or "", post.text, *(v for v in values.values() if v)]).lower()


def scrub(text: str, known: str, drop_names: list[str], name: str | None) -> tuple[str, int]:
    """Keep the sentences whose facts all appear in `known`; swap other customers' names. Returns (text, dropped)."""
    kept, dropped = [], 0
    for sentence in (s.strip() for s in _SENTENCE.split(text) if s and s.strip()):
        # An e-mail address is a fact too: the other customer's ("we found your account
        # amy.park@…") must not reach this one, with the name in it swapped or not.
        facts = [f.lower().lstrip("#") for f in (*_FACT.findall(sentence), *EMAIL.findall(sentence))]
        if _PROMISE.search(sentence) or any(f not in known for f in facts):
            dropped += 1
            continue
        for other in drop_names:
            if other and other.lower() not in known:
                sentence = re.sub(rf"(?<!\w){re.escape(other)}(?!\w)", name or "", sentence, flags=re.IGNORECASE)
        kept.append(re.sub(r"\s+([,.!?])", r"\1", " ".join(sentence.split())).strip(" ,"))
    return " ".join(s for s in kept if s), dropped


def greeting_name(name: str | None, *, korean: bool) -> str | None:
    """The name a reply greets by: a Korean name whole (한소희님), else the first name ("Hi Tom,"
    for "Tom R."); a first word cut short by a full stop, an initial or a title, is no first name
    ("Hi J. Park,", "Hi Dr. Grace Park,")."""
    if not name or korean:
        return name
    first = name.split()[0]
    return name if first.endswith(".") else first


def public_name(display_name: str | None) -> str | None:
    """The public display name when it is a plausible name to greet someone by, else None."""
    name = " ".join((display_name or "").split())
    if not name or len(name) > MAX_NAME_CHARS or not _PLAUSIBLE_NAME.match(name):
        return None
    return name


def _names_of(*names: str | None) -> list[str]:
    """Each name and its first word, longest first (so "Grace Park" goes before "Grace")."""
    found = {n for name in names if name for n in (name, name.split()[0]) if len(n) >= 2}
    return sorted(found, key=len, reverse=True)


def _similar(
    post: Post,
    analysis: Analysis | None,
    values: dict[str, str | None],
    *,
    session: Session,
    exclude_item: int,
    notice: str,
) -> list[Suggestion]:
    query = _embedding(analysis.embedding if analysis else None)
    if query is None:
        return []
    # Replies to posts in this post's language only: the multilingual encoder finds an English
    # complaint close to a Korean one, and an English reply is no suggestion for a Korean customer.
    language = analysis.language if analysis else None
    rows = given_replies_with_embeddings(
        session=session, exclude_item=exclude_item, limit=SIMILAR_POOL, language=language
    )
    scored = []
    # The other person may have been greeted by any name we knew them by: all are taken out.
    for reply, blob, display_name, handle, customer_name in rows:
        vector = _embedding(blob)
        if vector is not None and vector.shape == query.shape:
            scored.append((float(vector @ query), reply, _names_of(display_name, handle, customer_name)))
    scored.sort(key=lambda s: -s[0])
    known = _known_facts(post, values)
    found: list[Suggestion] = []
    for similarity, reply, other_names in scored:
        if similarity < MIN_SIMILARITY or len(found) == 2:
            break
        text, dropped = scrub(_without_notices(reply.text), known, other_names, values.get("name"))
        if len(text) < 20 or any(text == s.text for s in found):
            continue
        note = f"; {dropped} sentence(s) with facts not in this post left out" if dropped else ""
        why = f"reply {reply.id} to a similar post (similarity {similarity:.2f}){note}"
        found.append(
            Suggestion(text=fit(text, post.platform, tail=notice), source=f"similar:{reply.id}", explanation=why)
        )
    return found


def _without_notices(text: str) -> str:
    """A past reply without the notices its own post called for (they are added where this post calls for them)."""
    for notice in (n for notices in load_templates()["notices"].values() for n in notices.values()):
        text = text.replace(notice, "")
    return text


def _repeats(short: str, text: str) -> bool:
    """True when every sentence of `short` is in `text` already: the short reply would be that
    suggestion with its last sentences cut (the default template's own first sentences), a second
    choice that offers the agent nothing."""
    return all(sentence in text for sentence in _SENTENCE.split(short) if sentence.strip())


def suggest(item_id: int, *, session: Session) -> list[Suggestion]:
    """One to three replies to start from, each within the platform's length limit, none of them
    another with sentences left out."""
    item, post, author, customer = item_people(item_id, session=session)
    analysis = analysis_of(session=session, post_id=post.id)
    last = item_history(author, customer, session=session).last_contact(apart_from_item=item.id)
    name = public_name(author.display_name)
    said = f"{post.title or ''} {post.text}"
    values: dict[str, str | None] = {
        "name": greeting_name(name, korean=analysis is not None and analysis.language == "ko"),
        # A retweet's words are its writer's: their order number is not the retweeter's to be told about.
        "order": None if post.is_retweet else find_order(said),
        "last_contact": last.date().isoformat() if last else None,
        "update": mentioned(_UPDATE, said),
        "version": mentioned(_VERSION, said),
        "device": mentioned(_DEVICE, said),
        # Contact details the author posted (not a retweet's, which are its writer's): the reply asks
        # for none and suggests deleting them.
        "contact": None if post.is_retweet else first_pii(said),
    }
    lang = "ko" if analysis is not None and analysis.language == "ko" else "en"
    kind = kind_of(analysis)
    templates = load_templates()[lang]
    notice = load_templates()["notices"]["contact"][lang] if values["contact"] else ""
    topic = analysis.primary_topic if analysis is not None and analysis.primary_topic in templates else "default"
    if not templates[topic].get(kind):  # the topic has no template of this kind (praise of a delivery)
        topic = "default"
    parts = templates[topic][kind]
    filled = ", ".join(k for k, v in values.items() if v) or "nothing"
    tones = {
        "complaint": "apology and a concrete next step",
        "question": "an answer and a next step",
        "praise": "thanks",
    }
    found = [
        Suggestion(
            text=fit(render(parts, values), post.platform, tail=notice),
            source=f"template:{topic}:{lang}",
            explanation=f"{topic} {kind} template ({lang}): {tones[kind]}; filled in from the data: {filled}",
        )
    ]
    found += _similar(post, analysis, values, session=session, exclude_item=item.id or 0, notice=notice)
    short = render(
        templates["default"][kind][:3] + [p for p in templates["default"][kind] if p.startswith("!order")], values
    )
    if len(found) < 3 and not any(_repeats(short, s.text) for s in found):
        found.append(
            Suggestion(
                text=fit(short, post.platform, tail=notice),
                source=f"tone:{kind}:{lang}",
                explanation=f"short reply matched to the tone: {tones[kind]}",
            )
        )
    return found[:3]
