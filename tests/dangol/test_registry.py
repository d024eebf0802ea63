import pytest
from pydantic import SecretStr

from dangol.core.errors import ConfigError
from dangol.core.registry import Options, Registry, parse_options, required_secret


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


class SecretOptions(Options):
    token: SecretStr | None = None
    note: str = "changeme"  # not a secret: never judged as one


def test_a_placeholder_secret_is_refused_for_any_implementation_naming_its_variable() -> None:
    for placeholder in ("changeme", "<your token>", " CHANGEME "):
        with pytest.raises(ConfigError, match="sources.demo.token is a placeholder; set DANGOL_SOURCES__DEMO__TOKEN"):
            parse_options(SecretOptions, {"token": placeholder}, "sources.demo")
    assert parse_options(SecretOptions, {"token": "real-4f9a"}, "sources.demo").token.get_secret_value() == "real-4f9a"
    assert parse_options(SecretOptions, {}, "sources.demo").token is None


def test_a_required_secret_names_its_variable_when_missing() -> None:
    with pytest.raises(ConfigError, match="sources.demo: Demo needs a token; set DANGOL_SOURCES__DEMO__TOKEN"):
        required_secret(SecretOptions(), "token", "sources.demo", "Demo needs a token")
    assert required_secret(SecretOptions(token="t-1"), "token", "sources.demo", "Demo needs a token") == "t-1"


def test_collected_posts_and_authors_keep_only_web_links() -> None:
    from datetime import UTC, datetime

    from dangol.core.types import AuthorIn, PostIn, web_link

    assert web_link(" https://example.com/a?b=1 ") == "https://example.com/a?b=1"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "file:///etc/passwd", "//x.example",
                "http://", "https://ok.example/\nSet-Cookie: x", None, ""):  # fmt: skip
        assert web_link(bad) is None, bad
    author = AuthorIn("rss", "a", "a", url="javascript:alert(1)")
    post = PostIn(
        platform="rss",
        external_id="1",
        author=author,
        text="t",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        url="data:text/html,x",
    )
    assert author.url is None and post.url is None
    nul = PostIn(
        platform="x",
        external_id="2",
        author=AuthorIn("x", "b", "b\x00", display_name="B\x00"),
        text="a\x00b",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert (nul.text, nul.author.handle, nul.author.display_name) == ("ab", "b", "B")
