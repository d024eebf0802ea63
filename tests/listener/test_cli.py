"""`dangol listen parse` and `dangol sources` through typer's CliRunner."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from dangol.cli import app
from dangol.core.types import utcnow
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Source
from tests.conftest import FIXTURES
from tests.listener.conftest import x_fixture

runner = CliRunner()


def test_parse_prints_one_json_line_per_post_then_the_counts(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "listen",
            "parse",
            "--platform",
            "x",
            str(FIXTURES / "x" / "docs-examples" / "searches_search_tweets_query.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[-1] == {"posts": 4, "dead_letters": 0}
    first = lines[0]
    assert first["platform"] == "x" and first["external_id"] == "1276035977375477760"
    assert first["author_handle"] == "happycamper"
    assert first["created_at"] == "2020-06-25T06:14:19+00:00"
    assert first["text"].startswith("@snowman Ooo")


def test_parse_counts_dead_letters_of_refused_records(tmp_path: Path) -> None:
    path = tmp_path / "mentions.json"
    path.write_bytes(x_fixture("test_client_get_users_mentions.yaml"))
    result = runner.invoke(app, ["listen", "parse", "-p", "x", str(path)])
    assert result.exit_code == 0
    assert json.loads(result.stdout.splitlines()[-1]) == {"posts": 0, "dead_letters": 10}
    assert "dead letter: missing field 'author_id'" in result.stderr


def test_parse_reads_korean_naver_results(tmp_path: Path) -> None:
    result = runner.invoke(app, ["listen", "parse", "-p", "naver", str(FIXTURES / "naver" / "synthetic_blog.json")])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["text"].startswith("테스트 브랜드 신제품 사용 후기 & 장단점")
    assert lines[-1] == {"posts": 2, "dead_letters": 0}


@pytest.mark.parametrize(
    ("platform", "fixture", "first_text", "counts"),
    [
        ("youtube", "youtube/comment_threads_by_video_paged_1.json", "Google.com", {"posts": 5, "dead_letters": 0}),
        (
            "appstore",
            "appstore/synthetic_reviews_with_app_entry.json",
            "결제가 안 돼요",
            {"posts": 2, "dead_letters": 0},
        ),
        (
            "googleplay",
            "googleplay/synthetic_reviews.json",
            "Great app but it crashes",
            {"posts": 4, "dead_letters": 0},
        ),
    ],
)
def test_parse_reads_youtube_comments_and_app_store_reviews(
    platform: str, fixture: str, first_text: str, counts: dict[str, int]
) -> None:
    result = runner.invoke(app, ["listen", "parse", "-p", platform, str(FIXTURES / fixture)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["platform"] == platform and lines[0]["text"].startswith(first_text)
    assert lines[-1] == counts


@pytest.mark.parametrize(
    ("platform", "content", "message"),
    [
        ("x", b'{"data": [', "response is not valid JSON"),
        ("mastodon", b'{"hello": 1}', "is not a mastodon response"),
        ("rss", b"<html>oops", "is not a rss response: not a readable RSS/Atom feed"),
    ],
)
def test_malformed_file_is_a_clear_error_without_traceback(
    tmp_path: Path, platform: str, content: bytes, message: str
) -> None:
    path = tmp_path / "bad"
    path.write_bytes(content)
    result = runner.invoke(app, ["listen", "parse", "-p", platform, str(path)])
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.output


def test_missing_file_and_unknown_platform_are_refused(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["listen", "parse", "-p", "x", str(tmp_path / "nope.json")])
    assert missing.exit_code == 1 and "cannot read" in missing.stderr
    unknown = runner.invoke(app, ["listen", "parse", "-p", "myspace", str(tmp_path)])
    assert unknown.exit_code == 2 and "'myspace' is not one of" in unknown.output


def test_sources_shows_health_budget_and_throttling(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/dangol.db"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n'
        '[sources.maru_x]\nuse = "x"\nenabled = false\nquery = "maru"\n'
        "monthly_post_reads = 2000\nmonthly_spend_usd = 20\n"
        '[sources.demo_rss]\nuse = "replay"\nplatform = "rss"\npath = "."\n'
    )
    engine = make_engine(url)
    upgrade(engine)
    now = utcnow()
    with Session(engine) as session:
        session.add(
            Source(
                name="maru_x",
                use="x",
                posts_collected=42,
                last_run_at=datetime(2026, 11, 22, 9, 30, tzinfo=UTC),
                last_error="RateLimited: x rate limit reached",
                throttled_until=datetime(2026, 11, 22, 9, 45, tzinfo=UTC),
                budget_period=now.strftime("%Y-%m"),
                budget_used=37,
                budget_spent_micros=215_000,
            )
        )
        session.commit()
    engine.dispose()
    result = runner.invoke(app, ["--config", str(config), "sources"])
    assert result.exit_code == 0, result.output
    header, maru, demo = result.stdout.splitlines()
    assert header.split()[:3] == ["source", "use", "enabled"]
    assert maru.startswith("maru_x") and " no " in maru
    budget = "37/2,000 posts, $0.21/$20.00 in"
    for expected in ("2026-11-22 09:30 UTC", " 42 ", budget, "2026-11-22 09:45 UTC", "RateLimited: x rate limit"):
        assert expected in maru
    assert demo.split()[:5] == ["demo_rss", "replay", "yes", "never", "0"]
