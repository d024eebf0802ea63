"""Language identification on short posts: script first, py3langid for Latin text, hint when too short."""

from __future__ import annotations

import pytest

from nlp.langid import detect_language, detect_languages
from tests.conftest import DATA
from tests.labelled_text import demo_posts, first_rows

# Short posts a coffee brand hears, written for this test (one per line: language, text).
SHORT_POSTS = [
    ("es", "El café estaba frío otra vez"),
    ("es", "Gracias por la atención, muy amables"),
    ("es", "¿A qué hora abren el domingo?"),
    ("es", "Me cobraron dos veces el pedido"),
    ("fr", "Le café était froid ce matin"),
    ("fr", "Merci beaucoup pour votre aide"),
    ("fr", "Ma commande n'est jamais arrivée"),
    ("fr", "Pourquoi l'application ne marche pas ?"),
    ("de", "Der Kaffee war heute kalt"),
    ("de", "Vielen Dank für die schnelle Hilfe"),
    ("de", "Meine Bestellung ist nie angekommen"),
    ("de", "Wann öffnet die Filiale am Sonntag?"),
    ("ja", "コーヒーが冷めていました"),
    ("ja", "注文がまだ届きません"),
    ("ja", "店員さんがとても親切でした"),
    ("ko", "배달이 너무 늦어요"),
    ("ko", "커피 맛있어요 ㅎㅎ"),
    ("ko", "환불 언제 되나요?"),
    ("en", "My latte was cold again"),
    ("en", "Thanks for the quick refund!"),
    ("en", "Why is the app down again?"),
    ("en", "The barista was so rude today"),
]


def test_short_posts_in_six_languages_are_identified_at_least_nine_times_in_ten() -> None:
    predicted = detect_languages([text for _, text in SHORT_POSTS])
    correct = sum(p == lang for p, (lang, _) in zip(predicted, SHORT_POSTS, strict=True))
    assert correct / len(SHORT_POSTS) >= 0.9, list(zip(predicted, SHORT_POSTS, strict=True))


def test_real_korean_reviews_and_comments_are_korean() -> None:
    reviews = [r["document"] for r in first_rows(DATA / "nsmc" / "val.tsv", 400)]
    comments = [r["text"] for r in first_rows(DATA / "kote" / "val.tsv", 300)]
    texts = [t for t in reviews + comments if any("가" <= c <= "힣" for c in t)]
    predicted = detect_languages(texts)
    assert len(texts) >= 650 and sum(p == "ko" for p in predicted) / len(texts) >= 0.99


def test_english_posts_with_brand_handles_and_links_are_mostly_english() -> None:
    # Every English demo post: complaints, praise, questions, chatter, spam and the brand's own.
    texts = [p.text for p in demo_posts() if p.language == "en"]
    predicted = detect_languages(texts)
    assert len(texts) >= 200 and sum(p == "en" for p in predicted) / len(texts) >= 0.98


@pytest.mark.parametrize(
    ("text", "expected"), [("ㅋㅋㅋ", "ko"), ("すごい", "ja"), ("咖啡很好喝", "zh"), ("Кофе холодный", "ru")]
)
def test_script_decides_before_any_statistics(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_platform_hint_decides_when_the_text_is_too_short() -> None:
    assert detect_language("ok merci", hint="fr-FR") == "fr"
    assert detect_language("ok", hint=None) == "en"


def test_hint_does_not_override_a_clear_script() -> None:
    assert detect_language("배송이 늦어요", hint="en") == "ko"


def test_links_mentions_and_tags_do_not_count_as_language() -> None:
    assert detect_language("@marucoffee #kaffee https://t.co/abc 커피 최고") == "ko"


def test_hints_must_line_up_with_texts() -> None:
    with pytest.raises(ValueError, match="one hint"):
        detect_languages(["a", "b"], ["en"])
