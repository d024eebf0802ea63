"""The deletion re-check: posts deleted on X, Mastodon and Bluesky lose their text here, the rest are
untouched, failed requests delete nothing, X's caps hold, and the job runs once per slot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from dangol.core.settings import Settings, load_settings
from dangol.core.types import Page, PostIn, utcnow
from dangol.jobs import build_scheduler, deletion_recheck_job
from dangol.recheck import recheck_deletions
from listener.bluesky import parse_bluesky
from listener.mastodon import parse_mastodon
from listener.x import parse_x
from storage import ingest, sources
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import AuditEvent, JobRun, Post, Source
from tests.conftest import FIXTURES, REPO
from tests.listener.conftest import FakeApi, Reply, mastodon_body, serving, x_fixture
from tests.listener.recheck_answers import (
    BLUESKY_GET_POSTS,
    NOT_FOUND,
    X_LOOKUP,
    bluesky_get_posts,
    bluesky_view,
    mastodon_gone,
    mastodon_status,
    x_lookup,
)
from tests.loopback import free_port

MASTODON_STATUS = json.loads(mastodon_body("test_status.yaml", "/api/v1/statuses/117020583223442465"))


@pytest.fixture
def api() -> Iterator[FakeApi]:
    with serving() as fake:
        yield fake


def recent(posts: list[PostIn]) -> list[PostIn]:
    """The recorded posts as if written in the last hours (the re-check looks at the last days)."""
    return [p.model_copy(update={"created_at": utcnow() - timedelta(hours=n + 1)}) for n, p in enumerate(posts)]


def x_posts() -> list[PostIn]:
    posts = parse_x(json.loads(x_fixture("tweet_tweets_resp.json")))[0]
    posts += parse_x(json.loads(x_fixture("searches_search_tweets_query.json")))[0]
    return recent(posts)


def mastodon_posts() -> list[PostIn]:
    statuses = [{**MASTODON_STATUS, "id": n, "content": f"<p>maru coffee toot {n}</p>"} for n in ("101", "102", "103")]
    return recent(parse_mastodon(statuses)[0])


def bluesky_posts() -> list[PostIn]:
    return recent(
        parse_bluesky({"posts": [bluesky_view(k) for k in ("3kaheyt6vpc29", "3kaheyt6vpc28", "3kaheyt6vpc27")]})[0]
    )


def x_source(url: str, **extra: Any) -> dict[str, Any]:
    return {"use": "x", "query": "maru", "bearer_token": "test-bearer", "api_base": url, "timeout_seconds": 5, **extra}


def mastodon_source(url: str) -> dict[str, Any]:
    return {"use": "mastodon", "instance": url, "hashtags": ["coffee"], "timeout_seconds": 5}


def bluesky_source(url: str) -> dict[str, Any]:
    return {"use": "bluesky", "query": '"maru coffee"', "public_api": url, "timeout_seconds": 5}


def settings_with(database_url: str, tmp_path: Path, config: Path | None = None, **configured: Any) -> Settings:
    reports = {"feeds_dir": str(tmp_path / "feeds"), "out_dir": str(tmp_path / "reports")}
    overrides = {"database": {"url": database_url}, "sources": configured, "reports": reports}
    return load_settings(config, overrides=overrides)


def store(engine: Engine, name: str, use: str, posts: list[PostIn]) -> None:
    with Session(engine) as session:
        source = ingest.get_or_create_source(session, name=name, use=use)
        ingest.store_page(session, source=source, page=Page(posts, {}))
        session.commit()


def stored(engine: Engine) -> dict[str, Post]:
    with Session(engine) as session:
        return {p.external_id: p for p in session.execute(select(Post)).scalars()}


def audited(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.execute(select(AuditEvent).where(AuditEvent.action == "post.deleted_upstream")).scalars())


def assert_removed_exactly(engine: Engine, posts: list[PostIn], gone: set[str]) -> None:
    rows = stored(engine)
    for post in posts:
        row = rows[post.external_id]
        if post.external_id in gone:
            assert (row.text, row.title, row.raw) == ("", None, None) and row.deleted_at is not None
        else:
            assert (row.text, row.deleted_at) == (post.text, None) and row.raw
        assert row.rechecked_at is not None
    events = audited(engine)
    assert sorted(e.after["external_id"] for e in events) == sorted(gone)


def test_posts_deleted_on_x_are_removed_and_the_others_untouched(
    engine: Engine, database_url: str, tmp_path: Path, api: FakeApi
) -> None:
    posts = x_posts()
    ids = [p.external_id for p in posts]
    store(engine, "t_x", "x", posts)
    api.add("GET", X_LOOKUP, x_lookup(set(ids[2:]), {ids[0]: NOT_FOUND, ids[1]: NOT_FOUND}))
    [run] = recheck_deletions(settings_with(database_url, tmp_path, t_x=x_source(api.url)), engine, worker="w1")
    assert (run.status, run.checked, run.deleted, run.requests) == ("ok", 6, 2, 1)
    assert_removed_exactly(engine, posts, set(ids[:2]))


def test_statuses_deleted_on_mastodon_are_removed_and_the_others_untouched(
    engine: Engine, database_url: str, tmp_path: Path, api: FakeApi
) -> None:
    posts = mastodon_posts()
    api.add("GET", "/api/v1/statuses/101", mastodon_status("101"))
    api.add("GET", "/api/v1/statuses/102", mastodon_gone())
    api.add("GET", "/api/v1/statuses/103", mastodon_status("103"))
    store(engine, "t_masto", "mastodon", posts)
    [run] = recheck_deletions(
        settings_with(database_url, tmp_path, t_masto=mastodon_source(api.url)), engine, worker="w1"
    )
    assert (run.status, run.checked, run.deleted, run.requests) == ("ok", 3, 1, 3)
    assert_removed_exactly(engine, posts, {"102"})


def test_posts_deleted_on_bluesky_are_removed_and_the_others_untouched(
    engine: Engine, database_url: str, tmp_path: Path, api: FakeApi
) -> None:
    posts = bluesky_posts()
    uris = [p.external_id for p in posts]
    api.add("GET", BLUESKY_GET_POSTS, bluesky_get_posts({uris[0], uris[2]}))
    store(engine, "t_bsky", "bluesky", posts)
    [run] = recheck_deletions(
        settings_with(database_url, tmp_path, t_bsky=bluesky_source(api.url)), engine, worker="w1"
    )
    assert (run.status, run.checked, run.deleted, run.requests) == ("ok", 3, 1, 1)
    assert_removed_exactly(engine, posts, {uris[1]})


FAILURES = [
    ("x", Reply(503, {"title": "Service Unavailable"}), "failed"),
    ("x", Reply(401, {"title": "Unauthorized"}), "failed"),
    ("x", Reply(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": "0"}), "throttled"),
    ("mastodon", Reply(500, {"error": "Internal Server Error"}), "failed"),
    ("mastodon", Reply(404, b"<html>no such path</html>", {"content-type": "text/html"}), "failed"),
    ("bluesky", Reply(502, b"<html>bad gateway</html>", {"content-type": "text/html"}), "failed"),
    ("bluesky", Reply(200, {"feed": []}), "failed"),
]


@pytest.mark.parametrize(("platform", "reply", "status"), FAILURES, ids=[f"{p}-{r.status}" for p, r, _ in FAILURES])
def test_a_failed_request_never_marks_a_post_deleted(
    engine: Engine, database_url: str, tmp_path: Path, api: FakeApi, platform: str, reply: Reply, status: str
) -> None:
    posts = {"x": x_posts, "mastodon": mastodon_posts, "bluesky": bluesky_posts}[platform]()
    config = {"x": x_source, "mastodon": mastodon_source, "bluesky": bluesky_source}[platform](api.url)
    path = {"x": X_LOOKUP, "mastodon": f"/api/v1/statuses/{posts[-1].external_id}", "bluesky": BLUESKY_GET_POSTS}
    api.add("GET", path[platform], reply)
    store(engine, "t", platform, posts)
    [run] = recheck_deletions(settings_with(database_url, tmp_path, t=config), engine, worker="w1")
    assert run.status == status and run.deleted == 0 and run.error
    assert "test-bearer" not in run.error
    rows = stored(engine)
    assert all(rows[p.external_id].text == p.text and rows[p.external_id].deleted_at is None for p in posts)
    assert all(rows[p.external_id].rechecked_at is None for p in posts) and not audited(engine)


def test_an_unreachable_platform_never_marks_a_post_deleted(engine: Engine, database_url: str, tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    configured = {"t_x": x_source(closed), "t_masto": mastodon_source(closed), "t_bsky": bluesky_source(closed)}
    for name, use, posts in (
        ("t_x", "x", x_posts()),
        ("t_masto", "mastodon", mastodon_posts()),
        ("t_bsky", "bluesky", bluesky_posts()),
    ):
        store(engine, name, use, posts)
    runs = recheck_deletions(settings_with(database_url, tmp_path, **configured), engine, worker="w1")
    assert {r.source: r.status for r in runs} == {"t_x": "failed", "t_masto": "failed", "t_bsky": "failed"}
    assert all(p.deleted_at is None and p.text for p in stored(engine).values())


def source_row(engine: Engine, name: str) -> Source:
    with Session(engine) as session:
        return session.execute(select(Source).where(Source.name == name)).scalar_one()


def test_a_rate_limit_holds_the_source_until_the_platforms_reset(
    engine: Engine, database_url: str, tmp_path: Path, api: FakeApi
) -> None:
    reset = (utcnow() + timedelta(minutes=7)).replace(microsecond=0)
    api.add(
        "GET", X_LOOKUP, Reply(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": str(int(reset.timestamp()))})
    )
    store(engine, "t_x", "x", x_posts())
    settings = settings_with(database_url, tmp_path, t_x=x_source(api.url))
    [run] = recheck_deletions(settings, engine, worker="w1")
    row = source_row(engine, "t_x")
    assert run.status == "throttled" and (row.throttled_until, row.consecutive_failures) == (reset, 0)
    [again] = recheck_deletions(settings, engine, worker="w1")
    assert again.status == "skipped" and len(api.requests(X_LOOKUP)) == 1


def test_x_asks_about_no_more_posts_than_the_monthly_cap_allows_and_debits_what_it_read(
    engine: Engine, database_url: str, tmp_path: Path, api: FakeApi
) -> None:
    posts = x_posts()
    store(engine, "t_x", "x", posts)
    api.add("GET", X_LOOKUP, x_lookup({p.external_id for p in posts}))
    settings = settings_with(database_url, tmp_path, t_x=x_source(api.url, monthly_post_reads=4))
    [first] = recheck_deletions(settings, engine, worker="w1")
    assert (first.status, first.checked) == ("ok", 4)
    assert len(api.requests(X_LOOKUP)[0].query["ids"][0].split(",")) == 4
    row = source_row(engine, "t_x")
    assert (row.budget_used, row.budget_spent_micros) == (4, 4 * 5000)  # 4 posts returned, $0.005 each
    [second] = recheck_deletions(settings, engine, worker="w1")
    assert second.status == "budget" and "4/4 posts" in (second.error or "")
    assert len(api.requests(X_LOOKUP)) == 1 and source_row(engine, "t_x").budget_used == 4


def test_x_keeps_under_the_monthly_spend_cap(engine: Engine, database_url: str, tmp_path: Path, api: FakeApi) -> None:
    posts = x_posts()
    store(engine, "t_x", "x", posts)
    api.add("GET", X_LOOKUP, x_lookup({p.external_id for p in posts}))
    settings = settings_with(database_url, tmp_path, t_x=x_source(api.url, monthly_spend_usd=0.012))
    [run] = recheck_deletions(settings, engine, worker="w1")
    assert run.checked == 2  # $0.012 pays for two posts at $0.005
    assert source_row(engine, "t_x").budget_spent_micros == 10_000 <= 12_000


def test_a_source_another_worker_is_collecting_is_skipped(
    engine: Engine, database_url: str, tmp_path: Path, api: FakeApi
) -> None:
    store(engine, "t_x", "x", x_posts())
    with Session(engine) as session:
        assert sources.take_lease(session=session, source_id=source_row(engine, "t_x").id, worker="collector:1")
    [run] = recheck_deletions(settings_with(database_url, tmp_path, t_x=x_source(api.url)), engine, worker="w1")
    assert run.status == "skipped" and not api.requests()


def test_a_misconfigured_source_fails_alone_and_the_others_are_rechecked(
    engine: Engine, database_url: str, tmp_path: Path, api: FakeApi
) -> None:
    posts = mastodon_posts()
    for post in posts:
        api.add("GET", f"/api/v1/statuses/{post.external_id}", mastodon_status(post.external_id))
    store(engine, "t_masto", "mastodon", posts)
    no_token = {k: v for k, v in x_source(api.url).items() if k != "bearer_token"}
    settings = settings_with(database_url, tmp_path, t_x=no_token, t_masto=mastodon_source(api.url))
    runs = {r.source: r for r in recheck_deletions(settings, engine, worker="w1")}
    assert runs["t_x"].status == "failed" and "DANGOL_SOURCES__T_X__BEARER_TOKEN" in (runs["t_x"].error or "")
    assert (runs["t_masto"].status, runs["t_masto"].checked) == ("ok", 3)


@pytest.fixture
def second_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_the_job_runs_once_per_slot_across_two_workers_and_rewrites_the_feeds(
    engine: Engine, second_engine: Engine, database_url: str, tmp_path: Path, api: FakeApi
) -> None:
    posts = x_posts()
    store(engine, "t_x", "x", posts)
    api.add("GET", X_LOOKUP, x_lookup({p.external_id for p in posts[1:]}, {posts[0].external_id: NOT_FOUND}))
    settings = settings_with(database_url, tmp_path, REPO / "config.toml", t_x=x_source(api.url))
    jobs = [build_scheduler(settings, e).get_job("deletion_recheck") for e in (engine, second_engine)]
    assert jobs[0].trigger.interval == timedelta(hours=settings.worker.deletion_recheck_every_hours)
    for job in jobs:
        job.func()
    assert len(api.requests(X_LOOKUP)) == 1
    with Session(engine) as session:
        runs = session.execute(select(JobRun.job, func.count()).group_by(JobRun.job)).all()
    assert runs == [("deletion_recheck", 1)]
    assert stored(engine)[posts[0].external_id].deleted_at is not None
    assert sorted(p.name for p in (tmp_path / "feeds").iterdir())  # rewritten at once, not in an hour


def test_the_job_says_what_it_did_and_rewrites_no_feeds_when_nothing_went(
    engine: Engine, database_url: str, tmp_path: Path, api: FakeApi
) -> None:
    posts = bluesky_posts()
    store(engine, "t_bsky", "bluesky", posts)
    api.add("GET", BLUESKY_GET_POSTS, bluesky_get_posts({p.external_id for p in posts}))
    done = deletion_recheck_job(settings_with(database_url, tmp_path, t_bsky=bluesky_source(api.url)), engine)
    assert (done.checked, done.deleted, done.feeds, done.error) == (3, 0, [], None)
    assert str(done) == "t_bsky: ok, 3 posts checked in 1 request, 0 deleted upstream and removed"


def test_the_job_can_be_turned_off(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    off = load_settings(
        REPO / "config.toml", overrides={"database": {"url": url}, "worker": {"deletion_recheck_every_hours": 0}}
    )
    assert build_scheduler(off, make_engine(url)).get_job("deletion_recheck") is None


def test_the_cli_rechecks_one_source_and_says_what_it_removed(tmp_path: Path, api: FakeApi) -> None:
    from dangol.cli import app

    url = f"sqlite:///{tmp_path}/cli.db"
    engine = make_engine(url)
    upgrade(engine)
    posts = mastodon_posts()
    store(engine, "t_masto", "mastodon", posts)
    engine.dispose()
    api.add("GET", "/api/v1/statuses/101", mastodon_gone())
    for n in ("102", "103"):
        api.add("GET", f"/api/v1/statuses/{n}", mastodon_status(n))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n[reports]\nfeeds_dir = "{tmp_path}/feeds"\n'
        f'[sources.t_masto]\nuse = "mastodon"\ninstance = "{api.url}"\nhashtags = ["coffee"]\n'
        f'[sources.t_rss]\nuse = "replay"\nplatform = "rss"\npath = "{FIXTURES}"\n'
    )
    runner = CliRunner()
    result = runner.invoke(
        app, ["--config", str(config), "sources", "recheck-deletions", "--source", "t_masto", "--days", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "t_masto: ok, 3 posts checked in 3 requests, 1 deleted upstream and removed" in result.output
    refused = runner.invoke(app, ["--config", str(config), "sources", "recheck-deletions", "--source", "t_rss"])
    assert refused.exit_code == 1 and "t_rss: unsupported" in refused.output
