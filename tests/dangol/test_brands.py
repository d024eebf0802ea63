"""Brands ([brands] in config.toml): the catalog built from settings, and which brands a post is about."""

from __future__ import annotations

from pathlib import Path

import pytest

from dangol.core.brands import DEFAULT_OWN_KEY
from dangol.core.errors import ConfigError
from dangol.core.settings import load_settings

BRANDS = """
[brand]
name = "Maru Coffee"
own_handles = ["x:marucoffee"]

[brands.maru]
own = true
keywords = ["maru coffee", "마루커피"]

[brands.byeol]
name = "Byeol Coffee"
handles = ["x:byeolcoffee", "mastodon:byeol@coffee.social"]
keywords = ["byeol coffee", "별빛커피"]

[sources.rival]
use = "rss"
url = "https://example.com/feed.xml"
brand = "byeol"
"""


def settings_from(tmp_path: Path, text: str):  # noqa: ANN201 - Settings
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def test_without_brands_the_brand_table_is_the_one_own_brand(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, '[brand]\nname = "Maru Coffee"\nown_handles = ["x:marucoffee"]\n')
    catalog = settings.brand_catalog
    assert catalog.keys == [DEFAULT_OWN_KEY] and catalog.own.name == "Maru Coffee"
    # Every post of a single-brand deployment is the own brand's, named or not: nothing changes.
    assert catalog.tag("x", "someone", "nothing about any brand", None) == ([DEFAULT_OWN_KEY], False)
    assert catalog.tag("x", "someone", "love maru coffee", None) == ([DEFAULT_OWN_KEY], False)


def test_the_own_brand_takes_the_name_and_accounts_of_brand(tmp_path: Path) -> None:
    catalog = settings_from(tmp_path, BRANDS).brand_catalog
    assert catalog.keys == ["maru", "byeol"]
    assert (catalog.own.name, catalog.own.accounts) == ("Maru Coffee", (("x", "marucoffee"),))
    assert catalog.names == {"maru": "Maru Coffee", "byeol": "Byeol Coffee"}


@pytest.mark.parametrize(
    ("platform", "author", "text", "source_brand", "expected"),
    [
        # Named by keyword, any case; a Korean name with its particle attached.
        ("x", "u1", "Byeol Coffee delivery was late again", None, (["byeol"], True)),
        ("x", "u1", "별빛커피가 또 늦었어요", None, (["byeol"], True)),
        # An @mention of a competitor's account on its platform, a trailing full stop after it.
        ("x", "u1", "hey @ByeolCoffee.", None, (["byeol"], True)),
        ("mastodon", "u1", "@byeol@coffee.social why?", None, (["byeol"], True)),
        # A handle counts on its own platform only.
        ("reddit", "u1", "@byeolcoffee why?", None, (["maru"], False)),
        # Written by a competitor's account.
        ("x", "byeolcoffee", "New winter menu!", None, (["byeol"], True)),
        # Both named: about us too, so the own brand's.
        ("x", "u1", "maru coffee beats byeol coffee", None, (["maru", "byeol"], False)),
        # A Latin keyword inside a longer word is no mention.
        ("x", "u1", "byeol coffeehouse opens", None, (["maru"], False)),
        ("x", "u1", "byeol coffeehouse opens; byeol coffee closes", None, (["byeol"], True)),
        # Folded before matching: full-width letters and capitals are the keyword.
        ("x", "u1", "ＢＹＥＯＬ Ｃｏｆｆｅｅ again", None, (["byeol"], True)),
        # Named nowhere: the brand the source collects for.
        ("x", "u1", "the latte was cold", None, (["maru"], False)),
        ("x", "u1", "the latte was cold", "byeol", (["byeol"], True)),
        # Named: the text wins over the source's brand, both ways.
        ("x", "u1", "마루커피 최고", "byeol", (["maru"], False)),
    ],
)
def test_a_post_is_tagged_with_the_brands_it_names(
    tmp_path: Path, platform: str, author: str, text: str, source_brand: str | None, expected: tuple
) -> None:
    assert settings_from(tmp_path, BRANDS).brand_catalog.tag(platform, author, text, source_brand) == expected


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("[brands.maru]\nown = true", "[brands.maru]\nown = false"), "exactly one brand needs own = true"),
        (("[brands.byeol]\n", "[brands.byeol]\nown = true\n"), "exactly one brand needs own = true"),
        (('brand = "byeol"', 'brand = "byeo"'), "sources.rival.brand = 'byeo'"),
        (("[brands.byeol]", "[brands.Byeol]"), "brand key 'Byeol'"),
    ],
)
def test_a_config_with_brands_that_cannot_work_is_refused(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    old, new = change
    assert old in BRANDS
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, BRANDS.replace(old, new))
    assert message in " ".join(caught.value.problems)
