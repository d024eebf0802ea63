"""A failing source is isolated (backed off, marked unhealthy with its last error) while the
others go on; and no secret from the environment reaches a log line, an error or a table,
even when the platform echoes the credentials back in its error pages."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select
from sqlmodel import Session

from bench.soak import write_x_pages
from dangol import pipeline
from dangol.core.errors import SendError
from dangol.core.redact import RedactingFilter, install_log_redaction, secret_values
from dangol.core.settings import load_settings
from dangol.core.types import utcnow
from storage.engine import make_engine
from storage.models import Author, Post, QueueItem, Reply, Source
from tests.reliability.conftest import FakeAnalyzer, write_config
from tests.responder.platform_server import Seen, platform

X_TOKEN = "XBEARER-7f3e-SECRET-d41d8cd9"
MASTODON_TOKEN = "MASTO-TOKEN-a1b2c3-SECRET"


def _echo_auth(seen: Seen) -> tuple[int, Any]:
    """A broken platform that repeats the request's credentials in its error page."""
    return 500, {"error": "internal", "detail": f"request was {seen.headers} {seen.query}"}


def _config(tmp_path: Path, url: str, api: str, *, send: bool = False) -> Path:
    write_x_pages(tmp_path / "pages", posts=60, per_page=20)
    sources = {
        "good": {"use": "replay", "platform": "x", "path": str(tmp_path / "pages")},
        "bad_x": {"use": "x", "query": "maru", "api_base": api, "timeout_seconds": 5},
    }
    extra = f'[responder]\nsend = true\n[responder.senders.masto]\nuse = "mastodon"\napi_base_url = "{api}"\n'
    return write_config(tmp_path / "c.toml", url, sources, extra=extra if send else "")


def test_a_failing_source_is_backed_off_and_marked_unhealthy_while_the_others_go_on(
    database_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("DANGOL_SOURCES__BAD_X__BEARER_TOKEN", X_TOKEN)
    routes = {("GET", "/2/tweets/search/recent"): _echo_auth}
    with platform(routes) as (api, seen):
        settings = load_settings(_config(tmp_path, database_url, api))
        engine = make_engine(database_url)
        first = {run.source: run for run in pipeline.collect(settings, engine)}
        calls = len(seen)
        second = {run.source: run for run in pipeline.collect(settings, engine)}
    assert (first["good"].status, first["good"].new_posts) == ("ok", 60)
    assert first["bad_x"].status == "failed" and "500" in first["bad_x"].error
    assert second["bad_x"].status == "skipped" and len(seen) == calls  # backing off: not asked again
    assert second["good"].status == "ok"
    with Session(engine) as session:
        bad = session.execute(select(Source).where(Source.name == "bad_x")).scalar_one()
    engine.dispose()
    assert bad.consecutive_failures == 1 and bad.last_error and X_TOKEN not in bad.last_error
    assert bad.throttled_until is not None and bad.throttled_until >= utcnow() + timedelta(seconds=25)


def _mastodon_reply(engine: Any) -> int:
    with Session(engine) as s:
        author = Author(platform="mastodon", platform_id="m1", handle="kim@example.social")
        s.add(author)
        s.flush()
        post = Post(platform="mastodon", external_id="55", author_id=author.id, text="order never came",
                    created_at=utcnow(), collected_at=utcnow())  # fmt: skip
        s.add(post)
        s.flush()
        item = QueueItem(post_id=post.id, cluster_key="m55", created_at=utcnow(), status="in_progress")
        s.add(item)
        s.flush()
        reply = Reply(queue_item_id=item.id, post_id=post.id, text="Sorry!", idempotency_key="s1", status="approved")
        s.add(reply)
        s.commit()
        return reply.id  # type: ignore[return-value]


def test_no_secret_appears_in_any_log_line_error_or_table_after_a_full_failing_run(
    database_url, tmp_path, monkeypatch, caplog
):
    from responder.sending import deliver

    monkeypatch.setenv("DANGOL_SOURCES__BAD_X__BEARER_TOKEN", X_TOKEN)
    monkeypatch.setenv("DANGOL_RESPONDER__SENDERS__MASTO__ACCESS_TOKEN", MASTODON_TOKEN)
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    routes = {("GET", "/2/tweets/search/recent"): _echo_auth, ("POST", "/api/v1/statuses"): _echo_auth}
    with platform(routes) as (api, seen):
        settings = load_settings(_config(tmp_path, database_url, api, send=True))
        # What `dangol run` installs on its log handlers (caplog's handler is one of the root's now):
        # tweepy logs request headers, bearer token included, at DEBUG.
        install_log_redaction(secret_values(settings))
        engine = make_engine(database_url)
        runs = pipeline.collect(settings, engine)
        pipeline.analyze(settings, engine, analyzer=FakeAnalyzer())
        errors.append(str(pipeline.route(settings, engine)))
        reply_id = _mastodon_reply(engine)
        with Session(engine) as session, pytest.raises(SendError) as failed:
            deliver(reply_id, actor="system:test", session=session, settings=settings)
        errors.append(str(failed.value))
    errors += [run.error or "" for run in runs]
    # The platform did receive the tokens (so they were there to leak) ...
    assert any(X_TOKEN in str(r.headers) for r in seen) and any(MASTODON_TOKEN in str(r.headers) for r in seen)
    assert any(run.status == "failed" for run in runs) and "500" in " ".join(errors)
    # ... and nothing we keep or print repeats them.
    haystack = "\n".join([caplog.text, *errors, _dump_database(engine)])
    engine.dispose()
    for secret in (X_TOKEN, MASTODON_TOKEN):
        assert secret not in haystack


def _dump_database(engine: Any) -> str:
    """Every row of every table, as text."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        rows = {t.name: [list(map(str, row)) for row in conn.execute(t.select())] for t in metadata.sorted_tables}
    return json.dumps(rows)


def test_log_lines_lose_secrets_and_personal_data_in_message_arguments_and_tracebacks():
    record = logging.LogRecord(
        "t", logging.ERROR, __file__, 1, "user %s called %s", ("kim@example.com", "010-1234-5678"), None
    )
    try:
        raise RuntimeError(f"token {X_TOKEN} refused for 900101-1234567")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    RedactingFilter([X_TOKEN]).filter(record)
    line = logging.Formatter("%(message)s").format(record)
    assert "kim@example.com" not in line and "010-1234-5678" not in line and "900101-1234567" not in line
    assert X_TOKEN not in line and "[REDACTED]" in line and "[email]" in line and "[phone]" in line


def test_dangol_run_verbose_writes_no_secret_to_its_log_even_when_the_client_logs_headers(tmp_path):
    import signal
    import subprocess

    from tests.reliability.conftest import dangol, wait_until

    with platform({("GET", "/2/tweets/search/recent"): _echo_auth}) as (api, seen):
        config = _config(tmp_path, f"sqlite:///{tmp_path}/w.db", api)
        env = {"DANGOL_SOURCES__BAD_X__BEARER_TOKEN": X_TOKEN}
        worker = dangol(
            config, "run", "--verbose", env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            wait_until(lambda: len(seen) > 0, timeout=40, what="the worker to call the platform", every=0.1)
            wait_until(lambda: _failed(tmp_path / "w.db"), timeout=20, what="the failure to be recorded", every=0.1)
        finally:
            worker.send_signal(signal.SIGTERM)
            out, _ = worker.communicate(timeout=30)
    assert "Authorization" in out and "Bearer [REDACTED]" in out  # the client did log its headers
    assert X_TOKEN not in out


def _failed(path: Path) -> bool:
    import sqlite3

    try:
        with sqlite3.connect(path) as conn:
            return bool(conn.execute("SELECT count(*) FROM source WHERE last_error IS NOT NULL").fetchone()[0])
    except sqlite3.Error:
        return False
