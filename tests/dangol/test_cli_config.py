from pathlib import Path

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


def test_config_check_reports_unknown_top_level_table(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[databse]\nurl = 'sqlite://'\n", encoding="utf-8")
    result = runner.invoke(app, ["config", "check", str(config)])
    assert result.exit_code == 1
    assert "databse: unknown key" in result.output
