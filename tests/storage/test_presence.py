"""Presence on queue items (SQLite and PostgreSQL): one row per person and item, upserted; stale
rows ignored and swept; gone with the staff account; described as the item page shows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete
from sqlmodel import Session, select

from dangol.core.settings import DashboardSettings
from responder.presence import describe, heartbeat, leave, others_here, sweep
from storage.models import Author, Post, Presence, QueueItem, Staff
from storage.presence import present_on, upsert_presence

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
SETTINGS = DashboardSettings(refresh_seconds=15, presence_stale_seconds=30)


def _world(session: Session) -> tuple[int, int, dict[str, int]]:
    author = Author(platform="x", platform_id="1", handle="kim")
    session.add(author)
    session.flush()
    posts = [
        Post(platform="x", external_id=str(n), author_id=author.id, text="help", created_at=NOW, collected_at=NOW)
        for n in (1, 2)
    ]
    session.add_all(posts)
    session.flush()
    items = [QueueItem(post_id=p.id, cluster_key=f"k{p.id}", created_at=NOW) for p in posts]
    staff = [Staff(username="amy"), Staff(username="minji", display_name="Minji"), Staff(username="bob")]
    session.add_all([*items, *staff])
    session.commit()
    return items[0].id, items[1].id, {s.username: s.id for s in staff}  # type: ignore[return-value]


def _rows(session: Session) -> list[tuple[int, int, str, datetime]]:
    found = session.exec(select(Presence).order_by(Presence.staff_id, Presence.item_id))
    return [(p.staff_id, p.item_id, p.state, p.updated_at) for p in found]  # type: ignore[misc]


def test_a_heartbeat_upserts_one_row_per_person_and_item(session: Session) -> None:
    item, other_item, staff = _world(session)
    heartbeat(session=session, staff_id=staff["amy"], item_id=item, typing=False, now=NOW)
    heartbeat(session=session, staff_id=staff["amy"], item_id=item, typing=True, now=NOW + timedelta(seconds=15))
    heartbeat(session=session, staff_id=staff["amy"], item_id=other_item, typing=False, now=NOW)
    session.commit()
    assert _rows(session) == [
        (staff["amy"], item, "typing", NOW + timedelta(seconds=15)),
        (staff["amy"], other_item, "viewing", NOW),
    ]
    with pytest.raises(ValueError, match="not one of"):
        upsert_presence(session=session, staff_id=staff["amy"], item_id=item, state="editing", now=NOW)


def test_others_here_leaves_out_oneself_and_stale_rows_typists_first(session: Session) -> None:
    item, other_item, staff = _world(session)
    heartbeat(session=session, staff_id=staff["amy"], item_id=item, typing=False, now=NOW)
    heartbeat(session=session, staff_id=staff["bob"], item_id=item, typing=False, now=NOW - timedelta(seconds=31))
    heartbeat(session=session, staff_id=staff["minji"], item_id=item, typing=True, now=NOW - timedelta(seconds=29))
    heartbeat(session=session, staff_id=staff["bob"], item_id=other_item, typing=False, now=NOW)
    session.commit()
    # bob beat 31 s ago on this item: past the 30 s timeout, so not shown though his row is still there.
    here = others_here(session=session, item_id=item, staff_id=staff["amy"], settings=SETTINGS, now=NOW)
    assert [(p.name, p.state) for p in here] == [("Minji", "typing")]
    assert describe(here) == "Also here: Minji (typing…)"
    everyone = present_on(session=session, item_id=item, fresh_since=NOW - timedelta(seconds=30))
    assert [p.name for p in everyone] == ["Minji", "amy"]  # typing first, then by name
    assert describe([]) == ""


def test_a_sweep_deletes_only_stale_rows(session: Session) -> None:
    item, other_item, staff = _world(session)
    heartbeat(session=session, staff_id=staff["amy"], item_id=item, typing=False, now=NOW)
    heartbeat(session=session, staff_id=staff["bob"], item_id=item, typing=False, now=NOW - timedelta(seconds=31))
    heartbeat(session=session, staff_id=staff["bob"], item_id=other_item, typing=True, now=NOW - timedelta(seconds=30))
    session.commit()
    assert sweep(session=session, settings=SETTINGS, now=NOW) == 1
    session.commit()
    assert [(s, i) for s, i, _, _ in _rows(session)] == [(staff["amy"], item), (staff["bob"], other_item)]


def test_leaving_one_item_or_all_and_deleting_the_account_remove_presence(session: Session) -> None:
    item, other_item, staff = _world(session)
    for who in ("amy", "bob"):
        for on in (item, other_item):
            heartbeat(session=session, staff_id=staff[who], item_id=on, typing=False, now=NOW)
    session.commit()
    leave(session=session, staff_id=staff["amy"], item_id=item)
    session.commit()
    assert {(s, i) for s, i, _, _ in _rows(session)} == {
        (staff["amy"], other_item),
        (staff["bob"], item),
        (staff["bob"], other_item),
    }
    leave(session=session, staff_id=staff["amy"])
    session.commit()
    assert {s for s, _, _, _ in _rows(session)} == {staff["bob"]}
    # Staff accounts are deactivated, not deleted, by Dangol; deleted by hand, presence goes too.
    session.execute(delete(Staff).where(Staff.id == staff["bob"]))  # type: ignore[arg-type]
    session.commit()
    assert _rows(session) == []


def test_presence_must_outlast_a_refresh() -> None:
    with pytest.raises(ValueError, match="must be longer than refresh_seconds"):
        DashboardSettings(refresh_seconds=15, presence_stale_seconds=15)
    assert DashboardSettings(refresh_seconds=0, presence_stale_seconds=5).presence_stale_seconds == 5
