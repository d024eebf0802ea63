"""Crash safety: a worker killed with SIGKILL mid-collect, mid-analyze or mid-send, then
restarted, loses no post, stores none twice, analyzes each once and sends no reply twice."""

from __future__ import annotations

import signal
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from bench.soak import write_x_pages
from dangol.core.types import Page
from storage import ingest
from storage.engine import make_engine
from storage.models import Analysis, AuditEvent, Author, Post, QueueItem, Reply
from tests.reliability.conftest import dangol, driver, post_counts, wait_until, write_config
from tests.responder.platform_server import Seen, platform

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def _kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL, "the worker finished before it could be killed"


def test_collect_killed_between_pages_resumes_without_losing_or_duplicating_posts(database_url, tmp_path):
    expected = set(write_x_pages(tmp_path / "pages", posts=3000, per_page=10))
    source = {"use": "replay", "platform": "x", "path": str(tmp_path / "pages")}
    config = write_config(tmp_path / "c.toml", database_url, {"x_replay": source})
    engine = make_engine(database_url)
    first = dangol(config, "collect", stdout=subprocess.DEVNULL)
    wait_until(lambda: post_counts(engine)[0] >= 200, timeout=45, what="the first pages to be stored")
    _kill(first)
    stored_at_kill = post_counts(engine)[0]
    assert 200 <= stored_at_kill < len(expected)
    again = dangol(config, "collect", stdout=subprocess.PIPE, text=True)
    out, _ = again.communicate(timeout=55)
    assert again.returncode == 0, out
    with engine.connect() as conn:
        ids = list(conn.execute(select(Post.external_id)).scalars())
    engine.dispose()
    assert len(ids) == len(set(ids)) == len(expected) and set(ids) == expected
    assert "already stored" in out


def _store_posts(engine: Any, count: int) -> None:
    from dangol.core.types import AuthorIn, PostIn

    author = AuthorIn(platform="x", platform_id="a1", handle="kim")
    texts = [f"order {n} never came" if n % 3 == 0 else f"nice latte {n}" for n in range(count)]
    posts = [
        PostIn(platform="x", external_id=str(n), author=author, created_at=NOW, text=t) for n, t in enumerate(texts)
    ]
    with Session(engine) as session:
        source = ingest.get_or_create_source(session, name="seed", use="replay")
        ingest.store_page(session, source=source, page=Page(posts, {}))
        session.commit()


def test_analyze_killed_mid_run_analyzes_every_post_exactly_once_after_restart(database_url, tmp_path):
    config = write_config(tmp_path / "c.toml", database_url, extra="[nlp]\nbatch_size = 20\n")
    engine = make_engine(database_url)
    _store_posts(engine, 300)
    slow = driver("analyze", str(config), "0.25")
    wait_until(lambda: post_counts(engine)[2] >= 40, timeout=40, what="two batches to be analyzed")
    _kill(slow)
    assert 40 <= post_counts(engine)[2] < 300
    rest = driver("analyze", str(config), "0")
    assert rest.wait(timeout=50) == 0
    with Session(engine) as session:
        analyses = list(session.execute(select(Analysis.post_id)).scalars())
        flagged = list(session.execute(select(Post.id).where(Post.analyzed.is_(True))).scalars())
    engine.dispose()
    assert len(analyses) == len(set(analyses)) == 300
    assert sorted(flagged) == sorted(analyses)  # the flag and the analysis were committed together


def _approved_reply(engine: Any) -> int:
    with Session(engine) as s:
        author = Author(platform="mastodon", platform_id="7", handle="kim@social.example")
        s.add(author)
        s.flush()
        post = Post(platform="mastodon", external_id="1234", author_id=author.id, text="my order never came",
                    created_at=NOW, collected_at=NOW)  # fmt: skip
        s.add(post)
        s.flush()
        item = QueueItem(post_id=post.id, cluster_key="c1", created_at=NOW, status="in_progress")
        s.add(item)
        s.flush()
        reply = Reply(queue_item_id=item.id, post_id=post.id, text="So sorry, a new one is on its way.",
                      idempotency_key="k1", status="approved", dry_run=False)  # fmt: skip
        s.add(reply)
        s.commit()
        return reply.id  # type: ignore[return-value]


def test_send_killed_after_recording_sending_confirms_the_reply_on_restart_without_posting_twice(
    database_url, tmp_path: Path
):
    posted: list[dict[str, Any]] = []
    received = threading.Event()
    release = threading.Event()

    def post_status(seen: Seen) -> tuple[int, Any]:
        form = seen.form() if "form" in seen.headers.get("Content-Type", "") else seen.json()
        status = {"id": "900", "in_reply_to_id": "1234", "content": f"<p>{_first(form['status'])}</p>"}
        posted.append(status)
        received.set()
        release.wait(timeout=30)  # the worker is killed while it waits for this answer
        return 200, status

    routes = {
        ("POST", "/api/v1/statuses"): post_status,
        ("GET", "/api/v1/accounts/verify_credentials"): lambda _: (200, {"id": "42", "username": "maru"}),
        ("GET", "/api/v1/accounts/42/statuses"): lambda _: (200, posted),
    }
    engine = make_engine(database_url)
    reply_id = _approved_reply(engine)
    with platform(routes) as (base, seen):
        extra = f'[responder]\nsend = true\n[responder.senders.masto]\nuse = "mastodon"\napi_base_url = "{base}"\n'
        config = write_config(tmp_path / "c.toml", database_url, extra=extra)
        env = {"DANGOL_RESPONDER__SENDERS__MASTO__ACCESS_TOKEN": "tok-abc-123"}
        first = driver("send", str(config), str(reply_id), env=env)
        assert received.wait(timeout=40), "the platform never received the reply"
        _kill(first)
        release.set()
        with Session(engine) as s:
            assert s.get(Reply, reply_id).status == "sending"
        second = driver("send", str(config), str(reply_id), env=env)
        assert second.wait(timeout=40) == 0
        third = driver("send", str(config), str(reply_id), env=env)  # a sent reply is left alone
        assert third.wait(timeout=40) == 0
    with Session(engine) as s:
        reply = s.get(Reply, reply_id)
        actions = list(s.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())
    engine.dispose()
    assert [r.method for r in seen if r.path == "/api/v1/statuses"] == ["POST"]
    assert (reply.status, reply.external_id) == ("sent", "900")
    assert actions.count("reply.sent") == 1 and actions.count("reply.sending") == 1


def _first(value: Any) -> str:
    return value[0] if isinstance(value, list) else value
