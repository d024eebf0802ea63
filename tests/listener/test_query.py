"""The boolean query language: parsing, errors with columns, platform syntax, local matching."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dangol.core.errors import ConfigError
from dangol.core.types import AuthorIn, PostIn
from listener.query import (
    QuerySyntaxError,
    compile_bluesky,
    compile_each,
    compile_mastodon,
    compile_naver,
    compile_reddit,
    compile_x,
    matches,
    parse_query,
    validate_query,
)

CONFIG_QUERY = '("maru coffee" OR @marucoffee OR 마루커피) -is:retweet'


def post(text: str, **overrides: Any) -> PostIn:
    fields: dict[str, Any] = {
        "platform": "x",
        "external_id": "1",
        "author": AuthorIn("x", "9", overrides.pop("handle", "someone")),
        "text": text,
        "created_at": datetime(2026, 11, 1, tzinfo=UTC),
    }
    return PostIn(**(fields | overrides))


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("coffee", "Best COFFEE in town", True),
        ("coffee", "no tea here", False),
        ("cold", "they were scolding me", False),  # terms start at a word boundary
        ("마루커피", "마루커피가 너무 늦게 왔어요", True),  # Korean particles attach to the word
        ("마루커피", "오늘 커피 맛있다", False),
        ('"maru coffee"', "I love Maru   Coffee!", True),
        ('"maru coffee"', "maru makes coffee", False),
        ("latte cold", "the latte was cold", True),
        ("latte AND cold", "the latte was warm", False),
        ("latte OR mocha", "a mocha please", True),
        ("latte -cold", "the latte was cold", False),
        ("latte NOT cold", "the latte was great", True),
        ("(latte OR mocha) late", "mocha came late", True),
        ("(latte OR mocha) late", "tea came late", False),
        ("@marucoffee", "hey @MaruCoffee where is my order", True),
        ("ｍａｒｕ", "maru is great", True),  # full-width letters fold
        ("", "anything", True),
    ],
)
def test_terms_phrases_and_boolean_operators_match_case_insensitively(query: str, text: str, expected: bool) -> None:
    assert matches(parse_query(query), post(text)) is expected


@pytest.mark.parametrize(
    ("query", "overrides", "expected"),
    [
        ("lang:ko", {"lang_hint": "ko"}, True),
        ("lang:ko", {"lang_hint": "en"}, False),
        ("lang:ko", {"lang_hint": None}, True),  # unknown language is not excluded
        ("from:marucoffee", {"handle": "MaruCoffee"}, True),
        ("from:@marucoffee", {"handle": "someone"}, False),
        ("-is:retweet", {"is_retweet": True}, False),
        ("-is:retweet", {"is_retweet": False}, True),
        ("-is:reply", {"is_reply": True}, False),
        ("is:quote", {"is_quote": True}, True),
    ],
)
def test_operators_match_post_fields(query: str, overrides: dict[str, Any], expected: bool) -> None:
    assert matches(parse_query(query), post("text", **overrides)) is expected


def test_the_sample_config_query_keeps_originals_and_drops_retweets() -> None:
    ast = parse_query(CONFIG_QUERY)
    assert matches(ast, post("마루커피 라떼 최고"))
    assert not matches(ast, post("RT 마루커피 라떼 최고", is_retweet=True))
    assert not matches(ast, post("other coffee"))


def test_title_is_searched_as_well_as_text() -> None:
    assert matches(parse_query("refund"), post("body", title="Refund please"))


@pytest.mark.parametrize(
    ("query", "column", "message"),
    [
        ("(latte", 1, "unclosed '('"),
        ("latte)", 6, "unexpected ')'"),
        ('latte "cold', 7, "unclosed quote"),
        ("latte OR", 9, "query ends where a term was expected"),
        ("OR latte", 1, "unexpected 'OR'"),
        ("latte AND AND cold", 11, "unexpected 'AND'"),
        ("is:funny", 4, "is: accepts retweet, reply, quote"),
        ("lang:korean!", 6, "lang: needs a language code"),
        ("from:", 6, "from: needs a handle"),
        ("a ()", 3, "empty parentheses"),
        ('""', 1, "empty phrase"),
        ("latte -", 7, "'-' must be followed by the term it excludes"),
    ],
)
def test_syntax_errors_name_the_column(query: str, column: int, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    assert info.value.column == column
    assert message in str(info.value) and str(info.value).endswith(f"at column {column}")


def test_validate_query_raises_a_config_error() -> None:
    validate_query(CONFIG_QUERY)
    with pytest.raises(ConfigError):
        validate_query("(a OR b")


Compiler = Callable[[Any], str | None]


@pytest.mark.parametrize(
    ("compiler", "query", "native"),
    [
        (compile_x, CONFIG_QUERY, '("maru coffee" OR @marucoffee OR 마루커피) -is:retweet'),
        (compile_x, "a b OR c", "(a b) OR c"),
        (compile_x, "NOT (a lang:ko)", "-(a lang:ko)"),
        (compile_x, "from:MaruCoffee -is:reply", "from:marucoffee -is:reply"),
        (compile_reddit, CONFIG_QUERY, '("maru coffee" OR @marucoffee OR 마루커피)'),
        (compile_reddit, "a b OR c", "(a AND b) OR c"),
        (compile_reddit, "from:kim coffee", "author:kim AND coffee"),
        (compile_reddit, "NOT (a lang:ko)", None),  # dropping lang: under NOT would narrow the search
        (compile_reddit, "lang:ko", None),
        (compile_mastodon, 'a -b "c d" lang:ko', 'a -b "c d" language:ko'),
        (compile_mastodon, "a OR b", None),
        (compile_bluesky, "maru from:kim.bsky.social", "maru from:kim.bsky.social"),
        (compile_naver, "마루 OR 커피", "마루 | 커피"),
        (compile_naver, '마루커피 -광고 "신메뉴 후기"', '마루커피 -광고 "신메뉴 후기"'),
        (compile_naver, "(a b) OR c", None),
        (compile_x, "", None),
        (compile_x, "latte or mocha", 'latte "or" mocha'),
    ],
)
def test_queries_compile_to_native_syntax_or_none(compiler: Compiler, query: str, native: str | None) -> None:
    assert compiler(parse_query(query)) == native


ALPHABET = 'ab 마루()"-:ORANDTlgfis@'


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=30))
def test_any_text_either_parses_or_fails_with_a_column_inside_it(text: str) -> None:
    try:
        ast = parse_query(text)
    except QuerySyntaxError as exc:
        assert 1 <= exc.column <= len(text) + 1
        return
    # Whatever parses can be matched and compiled without errors.
    matches(ast, post("ab 마루 a b"))
    for compiler in (compile_x, compile_reddit, compile_mastodon, compile_bluesky, compile_naver):
        compiler(ast)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abc 마루", min_size=1, max_size=12).filter(str.strip))
def test_compiled_x_query_means_the_same_as_the_original(word: str) -> None:
    # Re-parsing the X translation gives a query that matches exactly the same posts.
    ast = parse_query(f'"{word.strip()}" OR -{word.split()[0]}')
    again = parse_query(compile_x(ast) or "")
    for text in (word, "zzz", f"x {word} y"):
        assert matches(ast, post(text)) == matches(again, post(text))


@pytest.mark.parametrize(
    ("query", "branches"),
    [
        ('"maru coffee" OR marucoffee', ['"maru coffee"', "marucoffee"]),
        ('("maru coffee" OR 마루커피) -is:retweet', ['"maru coffee"', "마루커피"]),
        ("a (b OR c)", ["a b", "a c"]),
        ("a OR is:reply", None),  # is:reply cannot be searched on Bluesky, so that branch would be lost
        ("", None),
    ],
)
def test_or_queries_split_into_branches_for_platforms_without_or(query: str, branches: list[str] | None) -> None:
    assert compile_each(parse_query(query), compile_bluesky) == branches


def test_a_platform_without_parentheses_never_searches_for_the_exclusions_alone() -> None:
    # `(a OR b) -cold` cannot be grouped on Naver or YouTube; dropping the group left "-cold", a
    # search for nearly every post. The query is refused instead (the local filter cannot save it).
    from listener.query import compile_naver, compile_youtube

    for compiler in (compile_naver, compile_youtube):
        assert compiler(parse_query('("maru coffee" OR 마루커피) -cold')) is None
        assert compiler(parse_query("maru (a OR b) -cold")) == "maru -cold"  # still narrowed by "maru"
        assert compiler(parse_query("maru -cold")) == "maru -cold"
