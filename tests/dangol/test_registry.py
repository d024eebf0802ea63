import pytest

from dangol.core.errors import ConfigError
from dangol.core.registry import Options, Registry, parse_options


class ExampleOptions(Options):
    path: str
    limit: int = 10


def test_unknown_name_lists_the_valid_ones() -> None:
    registry = Registry("collector", {"alpha": "json:loads", "beta": "json:dumps"}, group="dangol.test-none")
    with pytest.raises(ConfigError, match="unknown collector 'gamma'; valid: alpha, beta"):
        registry.get("gamma")


def test_builtin_is_imported_only_when_asked_for() -> None:
    registry = Registry("codec", {"loads": "json:loads"}, group="dangol.test-none")
    import json

    assert registry.get("loads") is json.loads


def test_options_refuse_unknown_keys_and_list_valid_ones() -> None:
    with pytest.raises(ConfigError) as err:
        parse_options(ExampleOptions, {"path": "a", "limt": 3}, "sources.demo")
    assert err.value.problems == ["sources.demo.limt: unknown key; valid: path, limit"]


def test_options_report_missing_required_key() -> None:
    with pytest.raises(ConfigError, match="sources.demo.path: Field required"):
        parse_options(ExampleOptions, {}, "sources.demo")


def test_collected_posts_and_authors_keep_only_web_links() -> None:
    from datetime import UTC, datetime

    from dangol.core.types import AuthorIn, PostIn, web_link

    assert web_link(" https://example.com/a?b=1 ") == "https://example.com/a?b=1"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "file:///etc/passwd", "//x.example",
                "http://", "https://ok.example/\nSet-Cookie: x", None, ""):  # fmt: skip
        assert web_link(bad) is None, bad
    author = AuthorIn("rss", "a", "a", url="javascript:alert(1)")
    post = PostIn("rss", "1", author, "t", datetime(2026, 1, 1, tzinfo=UTC), url="data:text/html,x")
    assert author.url is None and post.url is None
    nul = PostIn(
        "x", "2", AuthorIn("x", "b", "b\x00", display_name="B\x00"), "a\x00b", datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert (nul.text, nul.author.handle, nul.author.display_name) == ("ab", "b", "B")
