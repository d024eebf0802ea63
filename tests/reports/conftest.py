"""A small world of posts built through the storage tables, and loopback servers (webhook, SMTP)."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlmodel import Session, select

from storage.models import Analysis, Author, Post, QueueItem, Source
from tests.loopback import Received, smtp_server


@dataclass
class World:
    """Adds authors, posts, analyses and queue items to a session, with readable defaults."""

    session: Session
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    authors: dict[str, Author] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)

    def author(self, handle: str, *, platform: str = "x", followers: int | None = 100) -> Author:
        if handle not in self.authors:
            author = Author(platform=platform, platform_id=f"id-{handle}", handle=handle, followers=followers)
            self.session.add(author)
            self.session.flush()
            self.authors[handle] = author
        return self.authors[handle]

    def source(self, name: str) -> Source:
        if name not in self.sources:
            existing = self.session.exec(select(Source).where(Source.name == name)).first()
            self.sources[name] = existing or Source(name=name, use="replay")
            self.session.add(self.sources[name])
            self.session.flush()
        return self.sources[name]

    def post(
        self,
        created_at: datetime,
        *,
        text: str | None = None,
        sentiment: str = "neutral",
        topic: str = "other",
        complaint: bool | None = None,
        platform: str = "x",
        source: str | None = None,
        handle: str | None = None,
        followers: int | None = 100,
        metrics: dict[str, Any] | None = None,
        cluster_key: str | None = None,
        spam: bool = False,
        analyzed: bool = True,
        url: str | None = None,
        raw: dict[str, Any] | None = None,
    ) -> Post:
        n = next(self.counter)
        author = self.author(handle or f"user{n}", platform=platform, followers=followers)
        post = Post(
            platform=platform,
            external_id=f"p{n}",
            source_id=self.source(source).id if source else None,
            author_id=author.id or 0,
            text=text or f"post number {n}",
            url=url,
            created_at=created_at,
            collected_at=created_at + timedelta(minutes=1),
            metrics=metrics or {},
            raw=json.dumps(raw, ensure_ascii=False) if raw is not None else None,
            analyzed=analyzed,
        )
        self.session.add(post)
        self.session.flush()
        if analyzed:
            is_complaint = complaint if complaint is not None else (topic != "other" and sentiment == "negative")
            self.session.add(
                Analysis(
                    post_id=post.id or 0,
                    language="en",
                    sentiment=sentiment,
                    sentiment_probs={sentiment: 0.9},
                    topics={topic: 0.8} if topic != "other" else {},
                    primary_topic=topic,
                    is_complaint=is_complaint,
                    is_spam=spam,
                    risk=0.5 if sentiment == "negative" else 0.1,
                    cluster_key=cluster_key if cluster_key is not None else f"c{n}",
                    analyzed_at=created_at + timedelta(minutes=2),
                )
            )
        return post

    def queue_item(
        self,
        post: Post,
        *,
        created_at: datetime,
        responded_after: timedelta | None = None,
        due_after: timedelta | None = timedelta(hours=1),
        breached: bool = False,
    ) -> QueueItem:
        item = QueueItem(
            post_id=post.id or 0,
            cluster_key=f"q{post.id}",
            created_at=created_at,
            first_response_due_at=created_at + due_after if due_after is not None else None,
            first_responded_at=created_at + responded_after if responded_after is not None else None,
            sla_breached=breached,
        )
        self.session.add(item)
        return item


@pytest.fixture
def world(session: Session) -> World:
    return World(session)


@contextmanager
def webhook_server(status: int = 200) -> Iterator[tuple[str, Received]]:
    """An HTTP server that records each POSTed JSON body and answers `status`."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length", 0))
            received.bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status < 400 else b"invalid_token")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def webhook() -> Iterator[tuple[str, Received]]:
    with webhook_server() as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[tuple[int, Received]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def failing_webhook() -> Iterator[tuple[str, Received]]:
    """A webhook that refuses every message with 403, as Slack does for a revoked URL."""
    with webhook_server(status=403) as server:
        yield server
