from pathlib import Path

import pytest
from typer.testing import CliRunner

from dangol.cli import app

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_sample_config_checks_clean() -> None:
    result = runner.invoke(app, ["config", "check", str(REPO / "config.toml")])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(": ok")


def test_config_check_lists_every_problem_and_fails(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        """
[sources.a]
use = "twitter"

[sources.b]
use = "x"
query = '("maru coffee" OR'

[sources.c]
use = "x"
query = "maru"

[sources.d]
use = "rss"
url = "https://example.com/feed.xml"
colour = "red"
""",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["config", "check", str(config)])
    assert result.exit_code == 1
    out = result.output
    assert "sources.a.use: unknown collector 'twitter'; valid:" in out and "reddit" in out
    assert "sources.b.query:" in out and "column" in out
    assert "DANGOL_SOURCES__C__BEARER_TOKEN" in out
    assert "sources.d.colour: unknown key" in out


def test_config_check_covers_youtube_and_app_store_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DANGOL_SOURCES__YT__API_KEY", raising=False)
    config = tmp_path / "bad.toml"
    config.write_text(
        """
[sources.yt]
use = "youtube"
channel_id = "UCabc"

[sources.yt_bad]
use = "youtube"
enabled = false
daily_unit_limit = 0
search_max_videos = 51

[sources.apps]
use = "appstore"
apps = ["1234567"]
countries = ["KR"]

[sources.apps_none]
use = "appstore"
enabled = false
""",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["config", "check", str(config)])
    assert result.exit_code == 1
    out = result.output
    assert "DANGOL_SOURCES__YT__API_KEY" in out
    assert "sources.yt_bad.daily_unit_limit" in out and "sources.yt_bad.search_max_videos" in out
    assert "two lower-case letters" in out and "sources.apps_none.apps" in out


def test_config_check_reports_unknown_top_level_table(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[databse]\nurl = 'sqlite://'\n", encoding="utf-8")
    result = runner.invoke(app, ["config", "check", str(config)])
    assert result.exit_code == 1
    assert "databse: unknown key" in result.output


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://u:secretpw@host:x/y", "is not usable"),
        ("mysqlx://a/b", "is not usable"),
        ("postgresql://postgres@127.0.0.1:1/x", "cannot use the database"),
    ],
)
def test_a_broken_database_url_is_a_clear_error_without_traceback_or_password(
    url: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from dangol.cli import app

    (tmp_path / "config.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DANGOL_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["sources"])
    assert result.exit_code in (1, 2)
    assert says in result.output and "Traceback" not in result.output and "secretpw" not in result.output


def test_a_customer_file_that_is_not_utf8_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from dangol.cli import app

    (tmp_path / "config.toml").write_text(f'[database]\nurl = "sqlite:///{tmp_path}/t.db"\n')
    (tmp_path / "cp949.csv").write_bytes("external_ref,name\nc1,한소희\n".encode("cp949"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["customers", "import", "cp949.csv"])
    assert result.exit_code == 2 and "not UTF-8" in result.output and "Traceback" not in result.output


def test_config_check_names_topics_and_rules_routed_to_a_team_without_staff(tmp_path: Path) -> None:
    from sqlmodel import Session

    from responder.accounts.staff import create_staff
    from storage.engine import make_engine
    from storage.migrate import upgrade

    config = tmp_path / "c.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/t.db"\n'
        '[topics.store]\nname = "Store"\nexamples = ["rude barista"]\nteam = "stores"\n'
        '[[responder.rules]]\nname = "vip"\nwhen = { tier = ["vip"] }\nthen = { team = "vipdesk" }\n'
    )
    assert CliRunner().invoke(app, ["config", "check", str(config)]).exit_code == 0  # no staff yet
    engine = make_engine(f"sqlite:///{tmp_path}/t.db")
    upgrade(engine)
    with Session(engine) as session:
        create_staff(session=session, username="amy", password="pw-123456789abc", role="agent", team="support")
        session.commit()
    result = CliRunner().invoke(app, ["config", "check", str(config)])
    assert result.exit_code == 1
    assert "topics.store.team: team 'stores' has no staff" in result.output
    assert "responder.rules['vip'].then.team: team 'vipdesk' has no staff" in result.output
