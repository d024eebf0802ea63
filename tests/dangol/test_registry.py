import pytest

from dangol.errors import ConfigError
from dangol.registry import Options, Registry, parse_options


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
