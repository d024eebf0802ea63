"""Taxonomy: topics from config.toml, from a separate file, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from dangol.core.errors import ConfigError
from dangol.core.settings import Settings, load_settings
from nlp.taxonomy import load_taxonomy, taxonomy_from_settings
from tests.conftest import REPO

AIRLINE = REPO / "nlp" / "taxonomies" / "airline.toml"
AIRLINE_REASONS = {
    "Customer Service Issue", "Late Flight", "Can't Tell", "Cancelled Flight", "Lost Luggage", "Bad Flight",
    "Flight Booking Problems", "Flight Attendant Complaints", "longlines", "Damaged Luggage",
}  # fmt: skip


def test_sample_config_topics_become_the_taxonomy_in_order(settings: Settings) -> None:
    taxonomy = taxonomy_from_settings(settings)
    assert taxonomy.keys == list(settings.topics)
    billing = taxonomy.get("billing")
    assert billing.name == "Billing and refunds"
    assert "I was charged twice" in billing.examples
    assert billing.prototypes()[0].startswith("Billing and refunds: ")


def test_airline_taxonomy_names_equal_the_dataset_reasons() -> None:
    taxonomy = load_taxonomy(AIRLINE)
    assert {t.name for t in taxonomy.topics} == AIRLINE_REASONS


def test_labels_match_topic_names_ignoring_case() -> None:
    taxonomy = load_taxonomy(AIRLINE)
    assert taxonomy.key_for("late flight") == "late_flight"
    assert taxonomy.key_for(" LONGLINES ") == "longlines"
    assert taxonomy.key_for("weather") is None


def test_taxonomy_file_adds_topics_to_those_of_the_config(tmp_path: Path) -> None:
    extra = tmp_path / "more.toml"
    extra.write_text('[topics.parking]\nname = "Parking"\ndescription = "No parking near the store"\n')
    settings = load_settings(REPO / "config.toml", overrides={"nlp": {"taxonomy_file": str(extra)}})
    keys = taxonomy_from_settings(settings).keys
    assert keys[-1] == "parking" and "delivery" in keys


def test_taxonomy_file_redefining_a_config_topic_is_refused(tmp_path: Path) -> None:
    extra = tmp_path / "more.toml"
    extra.write_text('[topics.delivery]\nname = "Delivery again"\n')
    settings = load_settings(REPO / "config.toml", overrides={"nlp": {"taxonomy_file": str(extra)}})
    with pytest.raises(ConfigError, match="delivery"):
        taxonomy_from_settings(settings)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[topics.x\nname=", "not valid TOML"),
        ('[topics.xx]\ndescription = "no name"\n', r"topics\.xx\.name"),
        ('[topics.xx]\nname = "X"\ncolour = "red"\n', "unknown key"),
        ('[brand]\nname = "X"\n', r"only \[topics"),
        ('[topics.other]\nname = "Other"\n', "reserved"),
        ('topics = "delivery"\n', "must be tables"),
    ],
)
def test_bad_taxonomy_files_raise_config_errors_that_say_what_is_wrong(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_taxonomy(path)


def test_missing_taxonomy_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_taxonomy(tmp_path / "nope.toml")


def test_a_taxonomy_file_is_read_again_only_when_it_changes(tmp_path: Path, monkeypatch) -> None:
    import tomllib

    from dangol.core.settings import read_topic_file

    extra = tmp_path / "extra.toml"
    extra.write_text('[topics.parking]\nname = "Parking"\nexamples = ["nowhere to park"]\n', encoding="utf-8")
    reads: list[object] = []
    real_load = tomllib.load
    monkeypatch.setattr(tomllib, "load", lambda fh: reads.append(fh) or real_load(fh))
    assert list(read_topic_file(extra)) == list(read_topic_file(extra)) == ["parking"]
    assert len(reads) == 1
    extra.write_text('[topics.wifi]\nname = "Wi-Fi"\nexamples = ["the wifi is down"]\n', encoding="utf-8")
    assert list(read_topic_file(extra)) == ["wifi"] and len(reads) == 2
