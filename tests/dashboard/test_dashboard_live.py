"""The live queue and item (AppTest): fragments on `[dashboard] refresh_seconds`, the items new
since the person last looked, and who else has an item open."""

from __future__ import annotations

from typing import Any

import pytest
import streamlit.testing.v1.local_script_runner as runner
from sqlmodel import Session, select

from responder.accounts.auth import resume_session, start_session
from storage.models import DashboardSession

from .conftest import DashboardDb, add_queue_item, app_as, button, set_config, shown


def _auto_reruns(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The refresh intervals the runs ask the browser for (ForwardMsg.auto_rerun, what
    st.fragment(run_every=…) sends), collected from every run from now on."""
    intervals: list[float] = []
    parse = runner.parse_tree_from_messages

    def spy(messages: list[Any]) -> Any:
        intervals.extend(m.auto_rerun.interval for m in messages if m.HasField("auto_rerun"))
        return parse(messages)

    monkeypatch.setattr(runner, "parse_tree_from_messages", spy)
    return intervals


def _open(at: Any, item_id: int) -> Any:
    return button(at, f"Open #{item_id}").click().run()


def test_the_queue_list_and_the_item_refresh_on_the_configured_interval(dashboard_db, monkeypatch) -> None:
    set_config(dashboard_db.config, "refresh_seconds = 15", "refresh_seconds = 7")
    intervals = _auto_reruns(monkeypatch)
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Queue")
    # The sidebar's unread-count watch, then the list alone: the filters form is not redrawn.
    assert intervals == [7.0, 7.0]
    intervals.clear()
    _open(at, dashboard_db.items["complaint"])
    assert intervals == [7.0, 7.0, 7.0]  # the watch, the summary (status, holder, presence) and the replies


def test_refresh_seconds_0_turns_the_live_refresh_off(dashboard_db, monkeypatch) -> None:
    set_config(dashboard_db.config, "refresh_seconds = 15", "refresh_seconds = 0")
    intervals = _auto_reruns(monkeypatch)
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Queue")
    _open(at, dashboard_db.items["complaint"])
    assert intervals == []
    assert not at.exception


def _marker(at: Any) -> list[str]:
    return [text for text in shown(at.info) if "since you looked" in text]


def _badges(at: Any) -> int:
    return sum(":blue-badge[new]" in text for text in shown(at.markdown))


def test_items_created_after_the_last_look_are_counted_and_marked(dashboard_db: DashboardDb, monkeypatch) -> None:
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Queue")
    assert _marker(at) == [] and _badges(at) == 0  # a first look: nothing is new yet
    first = add_queue_item(dashboard_db, 10, "My delivery never came and nobody answers.", "late_one")
    at.run()  # the same visit (a refresh)
    assert _marker(at) == ["1 new since you looked"] and _badges(at) == 1
    assert first in [int(b.label.split("#")[1]) for b in at.button if b.label.startswith("Open #")]
    second = add_queue_item(dashboard_db, 11, "Second cold delivery this week.", "later_one")
    at.run()
    assert _marker(at) == ["2 new since you looked"] and _badges(at) == 2
    # The count obeys the filters: the new items are delivery complaints, negative.
    at.selectbox(key="f_sentiment").set_value("neutral")
    at = button(at, "Apply filters").click().run()
    assert _marker(at) == [] and _badges(at) == 0
    at.selectbox(key="f_sentiment").set_value("(any)")
    at = button(at, "Apply filters").click().run()
    assert _marker(at) == ["2 new since you looked"]
    at = button(at, "Mark as seen").click().run()
    assert _marker(at) == [] and _badges(at) == 0
    # Away on an item while a third arrives: back on the queue, that one is new, not those seen before.
    _open(at, second)
    third = add_queue_item(dashboard_db, 12, "Still waiting for my refund.", "waiting_one")
    at.session_state["page"] = "Queue"
    at.run()
    assert _marker(at) == ["1 new since you looked"] and _badges(at) == 1
    assert third > second > first


def test_someone_else_on_the_item_is_shown_with_typing(dashboard_db: DashboardDb, monkeypatch) -> None:
    item = dashboard_db.items["complaint"]
    agent = app_as(dashboard_db, "agent1", monkeypatch, page="Queue")
    agent = _open(agent, item)
    admin = app_as(dashboard_db, "admin1", monkeypatch, page="Queue")
    admin = _open(admin, item)
    assert "👥 Also here: agent1" in shown(admin.caption)
    agent.text_area(key=f"reply_text_{item}").input("Sorry about that, we are")
    agent.run()  # the box committed: the agent is typing
    admin.run()
    assert "👥 Also here: agent1 (typing…)" in shown(admin.caption)
    assert "👥 Also here: admin1" in shown(agent.caption)
    # The agent moves to another item: gone from this one at once, not after the stale timeout.
    agent.number_input[0].set_value(dashboard_db.items["question"]).run()
    admin.run()
    assert not [c for c in shown(admin.caption) if "Also here" in c]


def test_a_refresh_does_not_keep_an_idle_kept_login_alive(dashboard_db: DashboardDb) -> None:
    """The fragment's own reruns check the login with touch=False: an open page refreshing itself
    is not the person being active."""
    from datetime import timedelta

    from dangol.core.types import utcnow
    from storage.engine import session_scope

    settings = dashboard_db.settings.dashboard
    then = utcnow() - timedelta(minutes=5)
    with session_scope(dashboard_db.engine) as session:
        token = start_session(session=session, staff_id=dashboard_db.staff["agent1"], settings=settings, now=then)
    with session_scope(dashboard_db.engine) as session:
        resume_session(session=session, token=token, settings=settings, touch=False)
    with Session(dashboard_db.engine) as session:
        assert session.exec(select(DashboardSession.last_seen_at)).one() == then
    with session_scope(dashboard_db.engine) as session:
        resume_session(session=session, token=token, settings=settings)
    with Session(dashboard_db.engine) as session:
        assert session.exec(select(DashboardSession.last_seen_at)).one() > then  # type: ignore[operator]
