"""Outbound webhooks on item events, against a receiver on 127.0.0.1: signed so the secret verifies,
retried after errors and timeouts and then delivered once, sent once per event by four workers at
once (SQLite and PostgreSQL), only for the events a subscription asks for, never about the person."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from dangol.cli import app as cli
from dangol.core.errors import ConfigError
from dangol.core.links import item_url
from dangol.core.settings import Settings, WebhookSubscription, load_settings
from dangol.core.webhooks import EVENT_TYPES, event_type
from dangol.jobs import build_scheduler
from reports.webhooks import enqueue_item_events, run_webhooks
from responder.assignment import claim
from responder.labels import correct_labels
from responder.queue import add_note, set_status
from storage import audit
from storage.audit import list_events
from storage.engine import make_engine
from storage.models import Customer, IdentityLink, QueueItem, Reply, Staff
from storage.privacy import erase_customer, identifiers
from storage.webhooks import outbox
from tests.conftest import REPO
from tests.reports.conftest import World

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
SECRET = "whsec-4f1c9a7e2b8d6035a1c4e7f9"
SECRET_ENV = "DANGOL_TEST_WEBHOOK_SECRET"


@dataclass
class Receiver:
    """What the loopback receiver was sent, and what it answers: `script` is (status, seconds to
    wait first) per request in turn, then 200 at once."""

    script: list[tuple[int, float]] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ids(self) -> Counter[str]:
        return Counter(headers["dangol-event-id"] for headers, _ in self.requests)


@contextmanager
def receiver(script: list[tuple[int, float]] | None = None, *, pause: float = 0.0) -> Iterator[tuple[str, Receiver]]:
    got = Receiver(script=list(script or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with got.lock:
                got.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status, wait = got.script.pop(0) if got.script else (200, pause)
            time.sleep(wait)
            try:
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 400 else b"boom")
            except OSError:  # the sender gave up waiting (a timeout under test)
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/dangol", got
    finally:
        server.shutdown()
        server.server_close()


def _settings(database_url: str, url: str, events: list[str], **api: Any) -> Settings:
    settings = load_settings(REPO / "config.toml", overrides={"database": {"url": database_url}})
    hooks = {"crm": WebhookSubscription(url=url, secret_env=SECRET_ENV, events=events)}
    fast = {"webhook_timeout_seconds": 2.0, "webhook_backoff_seconds": 60.0, **api}
    return settings.model_copy(update={"api": settings.api.model_copy(update={"webhooks": hooks, **fast})})


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)


def _agent(session: Session) -> Staff:
    amy = Staff(username="amy", role="admin", last_login_at=NOW)
    session.add(amy)
    session.flush()
    return amy


def _items(world: World, n: int) -> list[QueueItem]:
    items = [
        world.queue_item(world.post(NOW - timedelta(hours=1)), created_at=NOW - timedelta(hours=1)) for _ in range(n)
    ]
    world.session.flush()
    return items


def _closed(session: Session, items: list[QueueItem], staff: Staff) -> None:
    """Each item claimed and closed by `staff` through the responder (two audit events each)."""
    for item in items:
        claim(item.id or 0, actor=staff, session=session, now=NOW - timedelta(minutes=5))
        set_status(item.id or 0, "closed", actor=staff, session=session, now=NOW - timedelta(minutes=4))
    session.commit()


def test_item_events_are_read_from_what_the_audit_trail_records() -> None:
    assert event_type("queue.closed", "queue_item", {"status": "assigned"}, {"status": "closed"}) == "item.closed"
    assert (
        event_type("queue.customer_replied", "queue_item", {"status": "closed"}, {"status": "new"}) == "item.reopened"
    )
    assert event_type("queue.in_progress", "queue_item", {"status": "replied"}, {"status": "in_progress"}) == (
        "item.reopened"
    )
    assert event_type("queue.customer_replied", "queue_item", {"status": "new"}, {"status": "new"}) is None
    assert event_type("reply.submit", "reply", {}, {"status": "pending_approval"}) == "item.approval_requested"
    assert event_type("reply.submit", "reply", {}, {"status": "approved"}) is None  # sent at once: item.replied
    assert event_type("reply.reject", "reply", {}, {}) == "item.returned"
    assert event_type("queue.note", "queue_item", {}, {}) is None


def test_a_receiver_verifies_the_signature_with_the_shared_secret(engine: Engine, world: World) -> None:
    session = world.session
    (item,) = _items(world, 1)
    _closed(session, [item], _agent(session))
    with receiver() as (url, got):
        settings = _settings(str(engine.url.render_as_string(hide_password=False)), url, ["item.closed"])
        run = run_webhooks(settings, engine, now=NOW)
    assert (run.enqueued, run.delivered) == (1, 1)
    ((headers, body),) = got.requests
    timestamp, signature = headers["dangol-timestamp"], headers["dangol-signature"]
    # The recipe of docs/api.md, written out here rather than calling Dangol's own sign().
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, f"v1={expected}")
    forged = hmac.new(b"another secret", f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert signature != f"v1={forged}"
    assert abs(int(timestamp) - time.time()) < 60
    event = json.loads(body)
    assert event == {
        "id": headers["dangol-event-id"],
        "type": "item.closed",
        "occurred_at": (NOW - timedelta(minutes=4)).isoformat(),
        "item": {"id": item.id, "url": item_url(settings.dashboard.base_url, item.id or 0)},
    }
    assert headers["dangol-event-type"] == "item.closed" and headers["content-type"] == "application/json"


def test_a_timeout_and_a_500_are_retried_with_backoff_then_delivered_once(engine: Engine, world: World) -> None:
    session = world.session
    (item,) = _items(world, 1)
    _closed(session, [item], _agent(session))
    with receiver([(200, 3.0), (500, 0.0)]) as (url, got):
        db = engine.url.render_as_string(hide_password=False)
        settings = _settings(db, url, ["item.closed"], webhook_timeout_seconds=0.5)
        first = run_webhooks(settings, engine, now=NOW)  # the receiver answers too late
        (row,) = outbox(session=session)
        assert (first.failed, row.attempts, row.delivered_at) == (1, 1, None)
        assert "ReadTimeout" in (row.last_error or "")
        # 60 s × 2^0, half of it random: due between 30 and 60 s later, not before.
        assert NOW + timedelta(seconds=30) <= row.not_before <= NOW + timedelta(seconds=60)  # type: ignore[operator]
        assert run_webhooks(settings, engine, now=NOW + timedelta(seconds=29)).failed == 0
        second = run_webhooks(settings, engine, now=NOW + timedelta(seconds=61))  # 500
        session.expire_all()
        (row,) = outbox(session=session)
        assert (second.failed, row.attempts, row.last_status) == (1, 2, 500)
        # The second wait is twice as long: 60 to 120 s.
        assert timedelta(seconds=60) <= row.not_before - (NOW + timedelta(seconds=61)) <= timedelta(seconds=120)  # type: ignore[operator]
        third = run_webhooks(settings, engine, now=NOW + timedelta(hours=1))
        again = run_webhooks(settings, engine, now=NOW + timedelta(hours=2))
        session.expire_all()
        (row,) = outbox(session=session)
    assert (third.delivered, again.delivered, again.enqueued) == (1, 0, 0)
    assert (row.attempts, row.last_status, row.delivered_at) == (3, 200, NOW + timedelta(hours=1))
    assert len(got.requests) == 3 and len(got.ids()) == 1  # the same event each time, delivered once


def test_a_receiver_that_keeps_failing_is_given_up_audited_and_listed(
    engine: Engine, world: World, tmp_path: Path
) -> None:
    session = world.session
    (item,) = _items(world, 1)
    _closed(session, [item], _agent(session))
    with receiver([(503, 0.0)] * 3) as (url, got):
        db = engine.url.render_as_string(hide_password=False)
        settings = _settings(db, url, ["item.closed"], webhook_max_attempts=2)
        runs = [run_webhooks(settings, engine, now=NOW + timedelta(hours=h)) for h in range(3)]
    session.expire_all()
    (row,) = outbox(session=session)
    assert [(r.failed, r.given_up) for r in runs] == [(1, 0), (0, 1), (0, 0)]
    assert row.given_up_at == NOW + timedelta(hours=1) and row.delivered_at is None and len(got.requests) == 2
    (given_up,) = list_events(session=session, action="webhook.given_up")
    assert given_up.after["attempts"] == 2 and "503" in given_up.after["error"]
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{db}"\n')
    listed = CliRunner().invoke(cli, ["--config", str(config), "api", "webhooks", "--subscription", "crm"])
    assert listed.exit_code == 0, listed.output
    assert f"evt_{row.event_id}" in listed.stdout and "given up" in listed.stdout and "answered 503" in listed.stdout


def test_four_workers_at_once_enqueue_and_deliver_each_event_exactly_once(engine: Engine, world: World) -> None:
    session = world.session
    items = _items(world, 12)
    _closed(session, items, _agent(session))
    start = threading.Barrier(4)
    runs: list[Any] = []

    with receiver(pause=0.01) as (url, got):
        db = engine.url.render_as_string(hide_password=False)
        settings = _settings(db, url, ["item.claimed", "item.closed"])

        def worker() -> None:
            start.wait(timeout=30)
            runs.append(run_webhooks(settings, engine, now=NOW))

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)
    rows = outbox(session=session)
    assert len(runs) == 4 and sum(r.enqueued for r in runs) == 24 == len(rows)
    assert sum(r.delivered for r in runs) == 24 and all(row.delivered_at for row in rows)
    assert len(got.requests) == 24 and set(got.ids().values()) == {1}


def test_only_the_events_a_subscription_asks_for_are_enqueued(engine: Engine, world: World) -> None:
    session = world.session
    first, second = _items(world, 2)
    amy = _agent(session)
    _closed(session, [first], amy)
    claim(second.id or 0, actor=amy, session=session, now=NOW - timedelta(minutes=3))
    add_note(second.id or 0, "call back tomorrow", actor=amy, session=session)
    correct_labels(session=session, actor=amy, post_id=second.post_id, sentiment="negative")
    session.commit()
    settings = _settings(engine.url.render_as_string(hide_password=False), "http://127.0.0.1:9/", ["item.closed"])
    hooks = {
        **settings.api.webhooks,
        "labels": WebhookSubscription(
            url="http://127.0.0.1:9/", secret_env=SECRET_ENV, events=["item.label_corrected"]
        ),
    }
    settings = settings.model_copy(update={"api": settings.api.model_copy(update={"webhooks": hooks})})
    assert enqueue_item_events(settings, engine, settings.api.webhooks, now=NOW) == 2
    rows = outbox(session=session)
    assert [(r.subscription, r.event_type, r.item_id) for r in rows] == [
        ("crm", "item.closed", first.id),
        ("labels", "item.label_corrected", second.id),
    ]
    assert enqueue_item_events(settings, engine, settings.api.webhooks, now=NOW) == 0  # once, however often read


def test_nothing_of_an_erased_person_is_in_the_queued_payloads(engine: Engine, world: World) -> None:
    session = world.session
    kim = Customer(name="Kim Minji", email="kim@example.com", phone="010-1234-5678", created_at=NOW)
    session.add(kim)
    session.flush()
    post = world.post(NOW - timedelta(hours=1), text="Kim Minji here, order A-9911 late, mail kim@example.com",
                      handle="kim_m")  # fmt: skip
    session.add(IdentityLink(author_id=post.author_id, customer_id=kim.id, method="handle", confidence=1.0,
                             status="applied"))  # fmt: skip
    item = world.queue_item(post, created_at=NOW - timedelta(hours=1))
    item.customer_id = kim.id
    session.flush()
    # The router's event keeps the handle in its values, as an audit event may.
    audit.record(session, actor="system:router", action="queue.create", entity_type="queue_item", entity_id=item.id,
                 after={"handle": "kim_m", "customer": "Kim Minji"}, at=NOW - timedelta(minutes=10))  # fmt: skip
    _closed(session, [item], _agent(session))
    secrets_of_kim = identifiers(kim.id or 0, session=session) | {"Kim Minji", "kim@example.com", "kim_m"}
    settings = _settings(engine.url.render_as_string(hide_password=False), "http://127.0.0.1:9/", list(EVENT_TYPES))
    assert enqueue_item_events(settings, engine, settings.api.webhooks, now=NOW) == 3  # created, claimed, closed
    erase_customer(kim.id or 0, session=session, actor="amy")
    session.commit()
    enqueue_item_events(settings, engine, settings.api.webhooks, now=NOW + timedelta(minutes=1))
    queued = json.dumps([row.payload for row in outbox(session=session)], ensure_ascii=False)
    assert str(item.id) in queued
    assert not [secret for secret in secrets_of_kim if secret and secret in queued]


def test_without_its_secret_a_subscription_sends_nothing_and_its_events_wait(
    engine: Engine, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = world.session
    (item,) = _items(world, 1)
    _closed(session, [item], _agent(session))
    monkeypatch.delenv(SECRET_ENV)
    with receiver() as (url, got):
        settings = _settings(engine.url.render_as_string(hide_password=False), url, ["item.closed"])
        run = run_webhooks(settings, engine, now=NOW)
    assert (run.enqueued, run.delivered, got.requests) == (1, 0, [])
    assert outbox(session=session)[0].attempts == 0


def test_webhook_config_names_the_secrets_variable_and_known_events(tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[api.webhooks.crm]\nurl = "https://crm.example.com/in"\nsecret = "abc123"\nevents = ["item.closed"]\n'
    )
    with pytest.raises(ConfigError, match="secrets must come from the environment"):
        load_settings(config)
    config.write_text(
        '[api.webhooks.crm]\nurl = "https://crm.example.com/in"\nsecret_env = "CRM_SECRET"\nevents = ["item.deleted"]\n'
    )
    with pytest.raises(ConfigError, match="unknown event types"):
        load_settings(config)
    config.write_text(
        '[database]\nurl = "sqlite:///' + str(tmp_path / "x.db") + '"\n'
        '[api.webhooks.crm]\nurl = "https://crm.example.com/in"\nsecret_env = "CRM_SECRET"\nevents = ["item.closed"]\n'
    )
    settings = load_settings(config)
    assert settings.api.webhooks["crm"].events == ["item.closed"]
    jobs = {job.id for job in build_scheduler(settings, make_engine(settings.database.url)).get_jobs()}
    assert "webhooks" in jobs


def test_an_event_about_a_reply_is_an_event_of_its_item(engine: Engine, world: World) -> None:
    session = world.session
    (item,) = _items(world, 1)
    reply = Reply(queue_item_id=item.id or 0, post_id=item.post_id, text="Sorry!", idempotency_key="r1",
                  status="pending_approval")  # fmt: skip
    session.add(reply)
    session.flush()
    for action, after in (("reply.submit", {"status": "pending_approval"}), ("reply.reject", {"status": "rejected"})):
        audit.record(session, actor="amy", action=action, entity_type="reply", entity_id=reply.id, after=after,
                     at=NOW - timedelta(minutes=1))  # fmt: skip
    session.commit()
    events = ["item.approval_requested", "item.returned"]
    settings = _settings(engine.url.render_as_string(hide_password=False), "http://127.0.0.1:9/", events)
    assert enqueue_item_events(settings, engine, settings.api.webhooks, now=NOW) == 2
    assert [(r.event_type, r.item_id) for r in outbox(session=session)] == [(e, item.id) for e in events]
