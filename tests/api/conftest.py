"""An API over a real database (SQLite and PostgreSQL): one routed complaint from a known customer,
a proposed identity link, one staff member per role, each with a personal token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dangol.api import create_app
from dangol.api.ratelimit import RateLimiter
from dangol.core.permissions import ROLES
from dangol.core.settings import Settings
from responder import queue
from responder.accounts.api_tokens import create_token
from storage.models import AuditEvent, IdentityLink, QueueItem, Staff
from tests.responder import conftest as responder_fixtures
from tests.responder.conftest import NOW

# The responder tests' builders, as fixtures here too.
seed_post = responder_fixtures.seed_post
make_staff = responder_fixtures.make_staff
make_customer = responder_fixtures.make_customer

# The API's clock: an hour after the seeded posts, so they sit inside every window.
CLOCK = NOW + timedelta(hours=1)


@dataclass
class Api:
    client: TestClient
    session: Session
    engine: Engine
    settings: Settings
    item_id: int
    post_id: int
    link_id: int
    staff: dict[str, Staff]  # role → its staff member
    tokens: dict[str, str] = field(default_factory=dict)  # role → its token

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def get(self, role: str, path: str, **kwargs: object) -> object:
        return self.client.get(path, headers={**self.auth(role), **kwargs.pop("headers", {})}, **kwargs)  # type: ignore[arg-type]

    def last_event_id(self) -> int:
        with Session(self.engine) as session:
            return max(session.exec(select(col(AuditEvent.id))).all(), default=0) or 0

    def events_after(self, last_id: int) -> list[tuple[str, str]]:
        with Session(self.engine) as session:
            rows = session.exec(select(AuditEvent).where(col(AuditEvent.id) > last_id).order_by(col(AuditEvent.id)))
            return [(e.actor, e.action) for e in rows]


@pytest.fixture
def make_api(
    engine: Engine, session: Session, settings: Settings, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Api]]:
    clients: list[TestClient] = []

    seed_post, make_staff, make_customer = (
        request.getfixturevalue(name) for name in ("seed_post", "make_staff", "make_customer")
    )

    def build(limiter: RateLimiter | None = None) -> Api:
        settings.responder.assignment = "manual"  # nobody is given the item: each test decides who holds it
        customer = make_customer("Kim Minji")
        post = seed_post("my order never arrived and I was charged twice", customer=customer, risk=0.9)
        queue.route_new(session=session, settings=settings, now=NOW)
        item = session.exec(select(QueueItem)).one()
        link = session.exec(select(IdentityLink)).one()
        link.status = "proposed"
        people = {role: make_staff(f"{role.replace('_', '')}1", role=role) for role in ROLES}
        tokens = {
            role: create_token(session=session, actor=person, owner=person, name="tests", now=NOW)[1]
            for role, person in people.items()
        }
        session.commit()
        app = create_app(settings, engine=engine, clock=lambda: CLOCK, limiter=limiter)
        client = TestClient(app)
        clients.append(client)
        return Api(
            client=client, session=session, engine=engine, settings=settings, item_id=item.id or 0,
            post_id=post.id or 0, link_id=link.id or 0, staff=people, tokens=tokens,
        )  # fmt: skip

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()
