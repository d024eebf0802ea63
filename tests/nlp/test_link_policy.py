"""Which links apply without a person: only evidence from the customer record, unless the brand opts in."""

from __future__ import annotations

from dangol.core.settings import LinkingSettings
from dangol.core.types import AuthorIn
from nlp.base import KnownCustomer
from nlp.linking import CustomerLinker, applies_alone

GRACE = KnownCustomer(
    customer_id=7,
    name="Grace Park",
    email="grace@example.com",
    tier="vip",
    handles={"x": ["gracep"]},
    order_numbers=["MC-20931"],
)


def _best(author: AuthorIn, text: str, settings: LinkingSettings):  # type: ignore[no-untyped-def]
    return CustomerLinker([GRACE], settings).candidates(author, text)[0]


def _stranger(handle: str = "pseudonym_77") -> AuthorIn:
    return AuthorIn(platform="x", platform_id="991", handle=handle, display_name="moon")


def test_a_listed_handle_applies_on_its_own() -> None:
    settings = LinkingSettings()
    assert applies_alone(_best(_stranger("gracep"), "hello", settings), settings)


def test_an_email_or_order_number_typed_in_a_post_is_only_a_proposal() -> None:
    settings = LinkingSettings()
    for text in ("write me at grace@example.com please", "order #MC-20931 never arrived"):
        best = _best(_stranger(), text, settings)
        assert best.customer_id == GRACE.customer_id and best.method in {"email", "order"}
        assert not applies_alone(best, settings), text


def test_a_brand_can_choose_to_trust_text_evidence() -> None:
    settings = LinkingSettings(apply_text_evidence=True)
    assert applies_alone(_best(_stranger(), "order #MC-20931 never arrived", settings), settings)
    weak = LinkingSettings(apply_text_evidence=True, apply_confidence=0.99)
    assert not applies_alone(_best(_stranger(), "order #MC-20931 never arrived", weak), weak)
