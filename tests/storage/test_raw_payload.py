"""A post's raw payload is stored as strict JSON text: what PostgreSQL's json type and SQLite's
json functions both read, whatever the source sent."""

from __future__ import annotations

import enum
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from dangol.core.types import Page
from listener.appstore import parse_appstore
from storage import read_models
from storage.ingest import get_or_create_source, serialize_raw, store_page
from storage.models import Post
from tests.reports.store_reviews import APP_ID, appstore_feed


class Label(str):
    pass


class Stars(enum.IntEnum):
    THREE = 3


class Payload(dict):  # type: ignore[type-arg]
    pass


def strict(text: str) -> Any:
    """`text` read as JSON that has no NaN or infinity in it (json.loads accepts those by default)."""

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_a_payload_reads_back_as_it_was() -> None:
    payload = {"id": "1", "content": "<p>환불 언제 되나요?</p>", "n": [1, 2.5, None, True], "nested": {"a": {"b": "c"}}}
    assert strict(serialize_raw(payload)) == payload


@pytest.mark.parametrize(
    ("payload", "stored"),
    [
        ({"score": float("nan"), "up": float("inf"), "down": float("-inf")}, {"score": None, "up": None, "down": None}),
        # Beyond 64 bits: written by json.dumps, still without NaN.
        ({"id": 2**70, "score": float("nan"), "list": [float("inf")]}, {"id": 2**70, "score": None, "list": [None]}),
        # A key that is not a string: json.dumps's rule, as before.
        ({1: "one", "score": float("nan")}, {"1": "one", "score": None}),
        # A lone surrogate is replaced (PostgreSQL refuses it).
        ({"text": "broken \ud800 text"}, {"text": "broken ? text"}),
        # Subclasses of JSON's types are written as their base type, as json.dumps wrote them.
        (
            {"label": Label("x"), "stars": Stars.THREE, "more": Payload(a=1)},
            {"label": "x", "stars": 3, "more": {"a": 1}},
        ),
        # What a client library hands over that JSON has no type for: its str(), as before.
        ({"at": datetime(2026, 12, 6, 9, 30, tzinfo=UTC)}, {"at": "2026-12-06 09:30:00+00:00"}),
    ],
)
def test_what_json_cannot_hold_is_stored_as_strict_json(payload: dict[Any, Any], stored: dict[str, Any]) -> None:
    assert strict(serialize_raw(payload)) == stored


def test_a_nul_in_a_payload_is_escaped_not_stored() -> None:
    text = serialize_raw({"text": "before\x00after"})  # PostgreSQL's text refuses a NUL character
    assert "\x00" not in text and strict(text) == {"text": "before\x00after"}


def test_a_payload_deeper_than_orjson_writes_is_stored_whole() -> None:
    deep: Any = {"score": float("nan")}
    for _ in range(600):  # orjson stops at 255 levels; json.loads reads this deep
        deep = [deep]
    text = serialize_raw({"id": "1", "deep": deep})
    assert text.startswith('{"id": "1", "deep": ' + "[" * 600 + '{"score": null}')


def test_a_payload_that_contains_itself_is_noted_and_the_post_still_stored() -> None:
    cyclic: dict[str, Any] = {"id": "1"}
    cyclic["self"] = cyclic  # a client library's object graph, never a parsed response
    assert strict(serialize_raw(cyclic)) == {
        "dangol:raw_not_stored": "ValueError: payload nested more than 10000 levels deep, or containing itself"
    }


def test_a_store_review_whose_payload_held_nan_keeps_its_app_and_version_in_the_reports(session: Session) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    feed = appstore_feed([("901", now, 1, "2.4.0", "앱이 계속 꺼져요")])
    feed["feed"]["entry"][1]["im:voteSum"] = {
        "label": float("nan"),
        "weight": float("inf"),
    }  # Python's json reads these
    posts, dead = parse_appstore(json.dumps(feed).encode())
    assert len(posts) == 1 and not dead
    source = get_or_create_source(session, name="appstore", use="appstore")
    store_page(session, source=source, page=Page(posts=posts, cursor={}))
    session.commit()
    # On PostgreSQL the report reads the payload as json, which refused the NaN text json.dumps wrote.
    rows = read_models.review_ratings_by_window(
        session=session, windows=[("this week", now - timedelta(days=1), now + timedelta(days=1))]
    )
    assert [(r.platform, r.app, r.version, r.rating, r.count) for r in rows] == [("appstore", APP_ID, "2.4.0", 1, 1)]
    raw = strict(session.exec(select(Post.raw)).one() or "")
    assert raw["im:voteSum"] == {"label": None, "weight": None}
