"""One reading of words and handles for topic proposals, alert terms, linking and queries."""

from dangol.core.text import normalize_handle, words


def test_words_are_case_folded_without_links_mentions_stopwords_or_numbers() -> None:
    text = "@marucoffee The APP keeps crashing!! https://t.co/x1 since v5.2 — it's the 3rd time, I'm done"
    assert words(text) == ["app", "keeps", "crashing", "since", "v5", "time", "done"]


def test_korean_words_and_hyphenated_words_stay_whole() -> None:
    assert words("마루커피 앱이 또 멈췄어요 log-in 안 돼요") == ["마루커피", "앱이", "멈췄어요", "log-in", "돼요"]


def test_handles_compare_without_at_sign_case_or_spaces() -> None:
    assert normalize_handle(" @Jane_Doe ") == normalize_handle("jane_doe") == "jane_doe"
    assert normalize_handle("maru@Coffee.Social") == "maru@coffee.social"
    assert normalize_handle("") == ""
