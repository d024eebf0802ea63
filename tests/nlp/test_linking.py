"""Customer linking: exact ids and handles, e-mail and order numbers in text, fuzzy names proposed."""

from __future__ import annotations

import time

from dangol.core.settings import LinkingSettings
from dangol.core.types import AuthorIn
from nlp.base import KnownCustomer
from nlp.linking import CustomerLinker

SETTINGS = LinkingSettings(fuzzy_min_score=88, apply_confidence=0.9)
CUSTOMERS = [
    KnownCustomer(1, "Jane Doe", email="jane@example.com", tier="vip", handles={"x": ["@JaneD", "12345"]},
                  order_numbers=["A-1001"]),
    KnownCustomer(2, "김민수", email="minsu@example.kr", handles={"naver": ["minsu_k"]},
                  order_numbers=["20261116-0042"]),
    KnownCustomer(3, "Robert Smith", tier="gold"),
]  # fmt: skip


def author(**overrides: object) -> AuthorIn:
    fields: dict[str, object] = {"platform": "x", "platform_id": "999", "handle": "someone", "display_name": "Someone"}
    fields.update(overrides)
    return AuthorIn(**fields)  # type: ignore[arg-type]


def linker() -> CustomerLinker:
    return CustomerLinker(CUSTOMERS, SETTINGS)


def test_known_handle_links_with_full_confidence_ignoring_at_and_case() -> None:
    [candidate] = linker().candidates(author(handle="janed"), "hello")
    assert (candidate.customer_id, candidate.method, candidate.confidence) == (1, "handle", 1.0)
    assert "@janed" in candidate.evidence


def test_known_platform_id_links_with_full_confidence() -> None:
    [candidate] = linker().candidates(author(platform_id="12345"), "")
    assert (candidate.customer_id, candidate.method) == (1, "platform_id")


def test_handle_on_another_platform_does_not_link() -> None:
    assert linker().candidates(author(platform="reddit", handle="JaneD"), "hi") == []


def test_email_in_the_post_links_at_095() -> None:
    [candidate] = linker().candidates(author(), "my account is JANE@example.com. please help")
    assert (candidate.customer_id, candidate.method, candidate.confidence) == (1, "email", 0.95)
    assert "jane@example.com" in candidate.evidence


def test_order_number_in_korean_text_links_at_095() -> None:
    [candidate] = linker().candidates(author(platform="naver"), "주문번호 #20261116-0042 아직 안 왔어요")
    assert (candidate.customer_id, candidate.method) == (2, "order")


def test_order_number_is_matched_without_dashes_or_case() -> None:
    [candidate] = linker().candidates(author(), "order a1001 is missing")
    assert candidate.customer_id == 1


def test_an_order_numbers_evidence_shows_it_as_the_post_wrote_it() -> None:
    # Staff compare the evidence with the post and the customer record; "202611160042" was neither.
    [candidate] = linker().candidates(author(platform="naver"), "주문번호 #20261116-0042 아직 안 왔어요")
    assert candidate.evidence == "order 20261116-0042 in post"


def test_similar_display_name_is_proposed_below_the_apply_threshold() -> None:
    [candidate] = linker().candidates(author(display_name="Robert Smith 🌟"), "")
    assert (candidate.customer_id, candidate.method) == (3, "fuzzy_name")
    assert 0 < candidate.confidence < SETTINGS.apply_confidence
    assert "Robert Smith" in candidate.evidence


def test_dissimilar_or_too_short_names_are_not_proposed() -> None:
    assert linker().candidates(author(display_name="Roberta Smythe-Jones"), "") == []
    assert linker().candidates(author(display_name="J"), "") == []


def test_strongest_evidence_wins_and_candidates_are_sorted() -> None:
    found = linker().candidates(author(handle="JaneD", display_name="Robert Smith"), "order A-1001")
    assert [(c.customer_id, c.method) for c in found] == [(1, "handle"), (3, "fuzzy_name")]


def test_empty_text_and_no_customers_give_no_candidates() -> None:
    assert CustomerLinker([], SETTINGS).candidates(author(display_name="Jane Doe"), "") == []
    assert linker().candidates(author(), "") == []


def test_exact_lookups_stay_fast_with_many_customers() -> None:
    many = [KnownCustomer(i, f"Customer Number {i}", email=f"c{i}@example.com", handles={"x": [f"c{i}"]},
                          order_numbers=[f"ORD-{i}"]) for i in range(20_000)]  # fmt: skip
    big = CustomerLinker(many, SETTINGS)
    start = time.perf_counter()
    for i in range(0, 20_000, 200):
        assert big.candidates(author(handle=f"c{i}", display_name=""), f"order ORD-{i}")[0].customer_id == i
    assert time.perf_counter() - start < 2.0


def test_a_huge_post_is_read_only_up_to_the_analysis_cap_and_emails_in_it_still_link() -> None:
    from nlp.base import MAX_ANALYSIS_CHARS, analysis_text
    from nlp.linking import _EMAIL

    hostile = "a" * 300_000 + " jane@example.com"
    assert len(analysis_text(hostile)) == MAX_ANALYSIS_CHARS
    assert linker().candidates(author(), hostile) == []  # the address lies past the cap
    [candidate] = linker().candidates(author(), "x" * 5_000 + " write to jane@example.com")
    assert candidate.method == "email"
    # Bounded parts: what the unbounded pattern found in ordinary text, this one finds too.
    for text, found in [("hana.k+x@example.co.kr.", ["hana.k+x@example.co.kr"]), ("a@b", []),
                        ("문의: kim_1@mail.example.kr 입니다", ["kim_1@mail.example.kr"])]:  # fmt: skip
        assert [m.group(0) for m in _EMAIL.finditer(text)] == found
