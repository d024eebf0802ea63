"""Loaders for the recorded responses, and a real HTTP server on 127.0.0.1 that plays an API."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from tests.conftest import FIXTURES


def cassette(path: Path) -> list[dict[str, Any]]:
    """The interactions of a vcrpy cassette (YAML or JSON), bodies as text."""
    data = yaml.safe_load(path.read_text()) if path.suffix == ".yaml" else json.loads(path.read_text())
    interactions = data["interactions"]
    for interaction in interactions:
        body = interaction["response"]["body"]
        if isinstance(body.get("string"), bytes):  # gzip + base64 in the original X cassettes
            body["string"] = gzip.decompress(body["string"]).decode()
    return interactions


def x_fixture(name: str) -> bytes:
    """The body of a recorded X cassette (decoded copy) or a docs example."""
    if name.endswith(".yaml"):
        return cassette(FIXTURES / "x" / "decoded" / name)[0]["response"]["body"]["string"].encode()
    return (FIXTURES / "x" / "docs-examples" / name).read_bytes()


def reddit_body(cassette_name: str, uri_part: str) -> bytes:
    """The response body of the first interaction of a Reddit cassette whose URI contains `uri_part`."""
    for interaction in cassette(FIXTURES / "reddit" / cassette_name):
        if uri_part in interaction["request"]["uri"]:
            return interaction["response"]["body"]["string"].encode()
    raise LookupError(uri_part)


def mastodon_body(cassette_name: str, uri_part: str, method: str = "GET") -> bytes:
    """The response body of a Mastodon.py cassette interaction."""
    for interaction in cassette(FIXTURES / "mastodon" / cassette_name):
        if uri_part in interaction["request"]["uri"] and interaction["request"]["method"] == method:
            return interaction["response"]["body"]["string"].encode()
    raise LookupError(uri_part)


@dataclass
class Reply:
    """One scripted HTTP answer."""

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


# A reply worked out from the request, as a platform answers about the ids it was asked for.
Answer = Callable[[Seen], Reply]


class FakeApi:
    """Routes (method, path) to queues of replies (or answers); the last one of a queue repeats."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Reply | Answer]] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.block_on_close = False  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=lambda: self.server.serve_forever(poll_interval=0.05), daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, method: str, path: str, *replies: Reply | Answer) -> None:
        self.routes[(method, path)] = list(replies)

    def requests(self, path: str | None = None) -> list[Seen]:
        return [s for s in self.seen if path is None or s.path == path]

    def _next(self, method: str, path: str) -> Reply | Answer:
        with self.lock:
            queue = self.routes.get((method, path))
            if not queue:
                return Reply(404, {"error": f"no route {method} {path}"}, {"content-type": "application/json"})
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, parts.path, parse_qs(parts.query), dict(self.headers), body)
                with api.lock:
                    api.seen.append(seen)
                found = api._next(self.command, parts.path)
                reply = found if isinstance(found, Reply) else found(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.payload()
                try:
                    self.send_response(reply.status)
                    headers = {"content-type": "application/json; charset=utf-8", **reply.headers}
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            do_GET = do_POST = do_DELETE = _serve

        return Handler


@contextmanager
def serving() -> Iterator[FakeApi]:
    """A fake platform API on a free port of 127.0.0.1, stopped on leaving."""
    fake = FakeApi()
    fake.thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


@pytest.fixture
def api() -> Iterator[FakeApi]:
    """A fake platform API on a free port of 127.0.0.1, stopped after the test."""
    with serving() as fake:
        yield fake
