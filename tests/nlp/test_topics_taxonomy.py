"""Taxonomy: topics from config.toml, from a separate file, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from dangol.core.errors import ConfigError
from dangol.core.settings import Settings, load_settings
from nlp.taxonomy import from_catalog, load_taxonomy
from tests.conftest import REPO

AIRLINE = REPO / "nlp" / "taxonomies" / "airline.toml"
AIRLINE_REASONS = {
    "Customer Service Issue", "Late Flight", "Can't Tell", "Cancelled Flight", "Lost Luggage", "Bad Flight",
    "Flight Booking Problems", "Flight Attendant Complaints", "longlines", "Damaged Luggage",
}  # fmt: skip


def test_sample_config_topics_become_the_taxonomy_in_order(settings: Settings) -> None:
    taxonomy = from_catalog(settings.topic_catalog)
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
    keys = from_catalog(settings.topic_catalog).keys
    assert keys[-1] == "parking" and "delivery" in keys


def test_taxonomy_file_redefining_a_config_topic_is_refused(tmp_path: Path) -> None:
    extra = tmp_path / "more.toml"
    extra.write_text('[topics.delivery]\nname = "Delivery again"\n')
    settings = load_settings(REPO / "config.toml", overrides={"nlp": {"taxonomy_file": str(extra)}})
    with pytest.raises(ConfigError, match="delivery"):
        from_catalog(settings.topic_catalog)


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


def test_a_run_reads_its_taxonomy_file_once(tmp_path: Path, monkeypatch) -> None:
    import tomllib

    extra = tmp_path / "extra.toml"
    extra.write_text('[topics.parking]\nname = "Parking"\nexamples = ["nowhere to park"]\n', encoding="utf-8")
    settings = load_settings(REPO / "config.toml", overrides={"nlp": {"taxonomy_file": str(extra)}})
    reads: list[object] = []
    real_load = tomllib.load
    monkeypatch.setattr(tomllib, "load", lambda fh: reads.append(fh) or real_load(fh))
    assert from_catalog(settings.topic_catalog).keys == from_catalog(settings.topic_catalog).keys
    assert settings.topic_catalog is settings.topic_catalog and len(reads) == 1
    extra.write_text('[topics.wifi]\nname = "Wi-Fi"\nexamples = ["the wifi is down"]\n', encoding="utf-8")
    assert settings.topic_catalog.keys[-1] == "parking" and len(reads) == 1
