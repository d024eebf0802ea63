"""Customer linking: which known customer, if any, is this social author?

Evidence, strongest first:

- the author's platform id or handle is one the customer record lists (confidence 1.0);
- an e-mail address or order number of the customer appears in the post or the author's bio (0.95):
  anyone can type those, so the link is a proposal unless `apply_text_evidence` is set;
- the display name resembles the customer's name (rapidfuzz score >= `fuzzy_min_score`): a
  proposal for staff to confirm, so its confidence always stays below `apply_confidence`.

Exact evidence is looked up in dicts built once; only fuzzy matching scans names (rapidfuzz's C
implementation, with a score cutoff).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from typing import TYPE_CHECKING

from dangol.core.text import normalize_handle
from nlp.base import KnownCustomer, LinkCandidate, analysis_text

if TYPE_CHECKING:
    from dangol.core.settings import LinkingSettings
    from dangol.core.types import AuthorIn

EXACT_CONFIDENCE = 1.0
TEXT_EVIDENCE_CONFIDENCE = 0.95
# Evidence only the customer record can give (a listed handle or platform id).
RECORD_METHODS = frozenset({"platform_id", "handle"})
TEXT_METHODS = frozenset({"email", "order"})
# Fuzzy proposals get score/100 × this, and always less than the apply threshold.
FUZZY_SCALE = 0.85
FUZZY_LIMIT = 3
# Names shorter than this (after normalizing) are too ambiguous for fuzzy matching.
MIN_FUZZY_CHARS = 3

# Bounded parts (RFC 5321: local part <= 64, labels <= 63) and a match only where a local part can
# start: linear time. The unbounded form backtracked quadratically: 6 minutes on one 300 KB post.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_ORDER_TOKEN = re.compile(r"#?([A-Za-z0-9][A-Za-z0-9-]{3,})")
_NAME_NOISE = re.compile(r"[^\w\s]+|_")


def normalize_order(number: str) -> str:
    """An order number without # and dashes, upper-cased: "#ab-1234" -> "AB1234"."""
    return number.strip().lstrip("#").replace("-", "").upper()


def normalize_name(name: str) -> str:
    """A display name without emoji, punctuation and case, spaces collapsed."""
    name = unicodedata.normalize("NFKC", name or "")
    return " ".join(_NAME_NOISE.sub(" ", name.casefold()).split())


def applies_alone(candidate: LinkCandidate, settings: LinkingSettings) -> bool:
    """True when the link may be applied without a person: strong enough, and from the customer
    record (or from text evidence where the brand chose to trust it)."""
    trusted = candidate.method in RECORD_METHODS or (settings.apply_text_evidence and candidate.method in TEXT_METHODS)
    return trusted and candidate.confidence >= settings.apply_confidence


class CustomerLinker:
    """Proposes customer links for an author, from an index of the known customers."""

    def __init__(self, customers: list[KnownCustomer], linking_settings: LinkingSettings) -> None:
        self.customers = list(customers)
        self.settings = linking_settings
        self._handles: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._emails: dict[str, list[int]] = defaultdict(list)
        self._orders: dict[str, list[int]] = defaultdict(list)
        self._names: dict[int, str] = {}
        for customer in self.customers:
            self._index(customer)

    def _index(self, customer: KnownCustomer) -> None:
        cid = customer.customer_id
        for platform, handles in customer.handles.items():
            for handle in handles:
                self._handles[(platform, normalize_handle(handle))].append(cid)
        if customer.email:
            self._emails[customer.email.strip().casefold()].append(cid)
        for number in customer.order_numbers:
            self._orders[normalize_order(number)].append(cid)
        name = normalize_name(customer.name)
        if len(name) >= MIN_FUZZY_CHARS:
            self._names[cid] = name

    def candidates(self, author: AuthorIn, text: str) -> list[LinkCandidate]:
        """Customers this author may be, best first, at most one candidate per customer."""
        found: dict[int, LinkCandidate] = {}
        for candidate in [*self._exact(author), *self._in_text(author, text), *self._fuzzy(author)]:
            best = found.get(candidate.customer_id)
            if best is None or candidate.confidence > best.confidence:
                found[candidate.customer_id] = candidate
        return sorted(found.values(), key=lambda c: (-c.confidence, c.customer_id))

    def _exact(self, author: AuthorIn) -> list[LinkCandidate]:
        by_id = self._handles.get((author.platform, normalize_handle(author.platform_id)), [])
        by_handle = self._handles.get((author.platform, normalize_handle(author.handle)), []) if author.handle else []
        return [
            *(
                LinkCandidate(c, "platform_id", EXACT_CONFIDENCE, f"{author.platform} id {author.platform_id}")
                for c in by_id
            ),
            *(
                LinkCandidate(c, "handle", EXACT_CONFIDENCE, f"{author.platform} handle @{author.handle}")
                for c in by_handle
            ),
        ]

    def _in_text(self, author: AuthorIn, text: str) -> list[LinkCandidate]:
        body = f"{analysis_text(text)}\n{analysis_text(author.bio)}"
        found: list[LinkCandidate] = []
        for email in dict.fromkeys(m.group(0).casefold().rstrip(".") for m in _EMAIL.finditer(body)):
            found += [
                LinkCandidate(c, "email", TEXT_EVIDENCE_CONFIDENCE, f"e-mail {email} in post")
                for c in self._emails.get(email, [])
            ]
        if self._orders:
            # Matched without "#" and dashes, shown as written: staff compare it with the post and the
            # customer record, which say "MC-2026-10161", not "MC202610161".
            written: dict[str, str] = {}
            for m in _ORDER_TOKEN.finditer(_EMAIL.sub(" ", body)):
                written.setdefault(normalize_order(m.group(1)), m.group(1))
            for token, as_written in written.items():
                found += [
                    LinkCandidate(c, "order", TEXT_EVIDENCE_CONFIDENCE, f"order {as_written} in post")
                    for c in self._orders.get(token, [])
                ]
        return found

    def _fuzzy(self, author: AuthorIn) -> list[LinkCandidate]:
        from rapidfuzz import fuzz, process

        name = normalize_name(author.display_name)
        if len(name) < MIN_FUZZY_CHARS or not self._names:
            return []
        ceiling = max(self.settings.apply_confidence - 0.01, 0.0)
        matches = process.extract(
            name,
            self._names,
            scorer=fuzz.token_sort_ratio,
            score_cutoff=self.settings.fuzzy_min_score,
            limit=FUZZY_LIMIT,
        )
        return [
            LinkCandidate(
                customer_id=int(cid),
                method="fuzzy_name",
                confidence=round(min(score / 100 * FUZZY_SCALE, ceiling), 3),
                evidence=f"display name {author.display_name!r} resembles {matched!r} ({score:.0f}/100)",
            )
            for matched, score, cid in matches
        ]
