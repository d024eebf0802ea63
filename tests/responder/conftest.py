"""Builders for the responder's tests: posts with analyses, staff, customers, all as real rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from itertools import count
from typing import Any

import numpy as np
import pytest
from sqlmodel import Session

from storage.models import Analysis, Author, Customer, IdentityLink, Post, Staff, Team

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # a Monday, 19:00 in Seoul


@pytest.fixture
def seed_post(session: Session) -> Callable[..., Post]:
    """Insert an author (reused by handle), a post and its analysis; keyword overrides for each."""
    numbers = count(1)
    authors: dict[tuple[str, str], Author] = {}

    def build(
        text: str = "my order never arrived",
        *,
        platform: str = "x",
        handle: str | None = None,
        followers: int = 100,
        customer: Customer | None = None,
        embedding: list[float] | None = None,
        post: dict[str, Any] | None = None,
        **analysis: Any,
    ) -> Post:
        n = next(numbers)
        handle = handle or f"user{n}"
        author = authors.get((platform, handle))
        if author is None:
            author = Author(
                platform=platform,
                platform_id=f"id-{handle}",
                handle=handle,
                display_name=handle.title(),
                followers=followers,
            )
            session.add(author)
            session.flush()
            authors[(platform, handle)] = author
            if customer is not None:
                session.add(IdentityLink(author_id=author.id, customer_id=customer.id, method="handle", confidence=1.0))
        fields: dict[str, Any] = {"external_id": f"ext{n}", "created_at": NOW, "collected_at": NOW, "analyzed": True}
        fields.update(post or {})
        row = Post(platform=platform, author_id=author.id, text=text, **fields)
        session.add(row)
        session.flush()
        values: dict[str, Any] = {
            "language": "en", "sentiment": "negative", "primary_topic": "delivery", "topics": {"delivery": 0.8},
            "is_complaint": True, "risk": 0.4, "cluster_key": f"c{n}", "analyzed_at": NOW,
        }  # fmt: skip
        values.update(analysis)
        if embedding is not None:
            values["embedding"] = np.asarray(embedding, dtype=np.float32).tobytes()
        session.add(Analysis(post_id=row.id, **values))
        session.flush()
        return row

    return build


@pytest.fixture
def make_staff(session: Session) -> Callable[..., Staff]:
    """Insert a staff member; `team` is a team key, created when new."""

    def build(username: str, *, role: str = "agent", team: str | None = None, **fields: Any) -> Staff:
        team_id = None
        if team:
            from sqlmodel import select

            row = session.exec(select(Team).where(Team.key == team)).first()
            if row is None:
                row = Team(key=team, name=team.title())
                session.add(row)
                session.flush()
            team_id = row.id
        # Someone who has logged in (auto-assignment passes over accounts never used); override with None.
        fields.setdefault("last_login_at", NOW)
        staff = Staff(username=username, role=role, team_id=team_id, **fields)
        session.add(staff)
        session.flush()
        return staff

    return build


@pytest.fixture
def make_customer(session: Session) -> Callable[..., Customer]:
    def build(name: str = "Kim Minji", *, tier: str = "standard") -> Customer:
        customer = Customer(name=name, tier=tier, created_at=NOW)
        session.add(customer)
        session.flush()
        return customer

    return build
