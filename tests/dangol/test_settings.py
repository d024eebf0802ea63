from pathlib import Path

import pytest

from dangol.core.errors import ConfigError
from dangol.core.settings import load_settings

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_config_loads_with_every_section() -> None:
    settings = load_settings(REPO / "config.toml")
    assert settings.brand.name == "Maru Coffee"
    assert set(settings.topics) >= {"delivery", "billing", "app", "quality", "store", "loyalty"}
    assert settings.sources["maru_x"].options()["monthly_post_reads"] == 10000


def test_unknown_key_is_refused_with_its_location(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, "[database]\nurl = 'sqlite://'\ncolour = 'blue'\n"))
    assert "database.colour: unknown key" in err.value.problems


def test_secret_in_file_is_refused_and_names_the_environment_variable(tmp_path: Path) -> None:
    text = "[sources.acme]\nuse = 'x'\nbearer_token = 'AAAA-real-looking'\n"
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text))
    assert "DANGOL_SOURCES__ACME__BEARER_TOKEN" in err.value.problems[0]


def test_environment_overrides_file_nested_with_double_underscore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DANGOL_BRAND__NAME", "From Env")
    monkeypatch.setenv("DANGOL_SOURCES__ACME__BEARER_TOKEN", "tok-123")
    settings = load_settings(write(tmp_path, "[brand]\nname = 'From File'\n[sources.acme]\nuse = 'x'\n"))
    assert settings.brand.name == "From Env"
    assert settings.sources["acme"].options()["bearer_token"] == "tok-123"
    assert settings.sources["acme"].use == "x"


def test_database_url_variable_selects_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANGOL_DATABASE_URL", "postgresql://db.internal/dangol")
    settings = load_settings(write(tmp_path, "[database]\nurl = 'sqlite:///x.db'\n"))
    assert settings.database.url == "postgresql://db.internal/dangol"


def test_bad_timezone_lists_what_is_accepted(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, "[brand]\ntimezone = 'Mars/Olympus'\n"))
    assert "IANA" in err.value.problems[0]


def test_missing_named_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_invalid_toml_says_where(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[brand\n"))


def test_own_accounts_keep_the_at_before_a_mastodon_instance(tmp_path: Path) -> None:
    text = "[brand]\nown_handles = ['@MaruCoffee', 'mastodon:maru@coffee.social', 'reddit:maru_team']\n"
    brand = load_settings(write(tmp_path, text)).brand
    assert brand.is_own("x", "marucoffee") and brand.is_own("bluesky", "@MaruCoffee")
    assert brand.is_own("mastodon", "maru@coffee.social")
    assert not brand.is_own("mastodon", "marucoffee.social")
    assert brand.is_own("reddit", "maru_team") and not brand.is_own("x", "maru_team")


@pytest.mark.parametrize(
    ("table", "text", "key"),
    [
        ("reports.alerts", "window_hours = -6", "reports.alerts.window_hours"),
        ("reports.alerts", "alpha = 0", "reports.alerts.alpha"),
        ("reports", "feed_days = 0", "reports.feed_days"),
        ("worker", "topics_train_every_hours = -1", "worker.topics_train_every_hours"),
    ],
)
def test_a_bad_operating_knob_is_refused_with_a_message_naming_the_key(
    tmp_path: Path, table: str, text: str, key: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, f"[{table}]\n{text}\n"))
    assert err.value.problems[0].startswith(f"{key}: Input should be greater than")


def test_operating_knobs_default_to_the_former_constants() -> None:
    settings = load_settings(None)
    assert (settings.reports.feed_days, settings.reports.feed_items) == (7, 50)
    assert (settings.worker.alerts_every_minutes, settings.worker.feeds_every_minutes) == (15, 60)
    assert settings.worker.topics_train_every_hours == 168
    assert settings.reports.alerts.window_hours == 6 and settings.reports.alerts.alpha == 1e-4


@pytest.mark.parametrize("key", ["../x", "a/b", "Parking", "x", "other"])
def test_a_topic_key_that_could_leave_the_feeds_folder_or_clash_is_refused(key: str, tmp_path: Path) -> None:
    from dangol.core.errors import ConfigError
    from dangol.core.settings import TopicCatalog, read_topic_file

    settings = load_settings(None, overrides={"topics": {key: {"name": "N", "examples": ["e"]}}})
    with pytest.raises(ConfigError, match="topic key"):
        TopicCatalog.from_settings(settings)
    taxonomy = tmp_path / "topics.toml"
    taxonomy.write_text(f'[topics."{key}"]\nname = "N"\nexamples = ["e"]\n')
    with pytest.raises(ConfigError, match="topic key"):
        read_topic_file(taxonomy)


def test_an_older_configs_reports_base_url_is_read_as_the_dashboards(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(write(tmp_path, "[reports]\nbase_url = 'https://dangol.example.com'\n"))
    assert settings.dashboard.base_url == "https://dangol.example.com"
    assert "reports.base_url is now dashboard.base_url" in caplog.text
    with pytest.raises(ConfigError, match="sets both, differently"):
        load_settings(
            write(
                tmp_path,
                "[reports]\nbase_url = 'https://a.example.com'\n[dashboard]\nbase_url = 'https://b.example.com'\n",
            )
        )
