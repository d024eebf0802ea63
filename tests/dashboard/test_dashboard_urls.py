"""One URL per page: each role's navigation, `/item?id=N` opening that item (also through the
login), and the queue's filters and sort read from and written to the query string."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from dangol.core.types import utcnow
from dashboard.navigation import refused_page
from storage.models import QueueItem

from .conftest import PASSWORDS, app_as, button, current_url_path, nav_pages, open_url, staff_row


def test_each_role_is_offered_only_its_pages_each_at_its_own_path(dashboard_db, monkeypatch) -> None:
    offered = {user: nav_pages(app_as(dashboard_db, user, monkeypatch)) for user in ("agent1", "product1", "admin1")}
    assert offered["agent1"] == ["Queue", "Item", "Customers", "Topics", "Reports", "Inbox"]
    assert offered["product1"] == ["Queue", "Item", "Topics", "Reports", "Inbox"]
    assert offered["admin1"] == [
        "Queue", "Item", "Approvals", "Customers", "Topics", "Reports", "Sources", "Admin", "Inbox",
    ]  # fmt: skip
    at = app_as(dashboard_db, "admin1", monkeypatch)
    paths = [info["url_pathname"] for info in at._registered_pages.values() if info["url_pathname"]]
    assert paths == ["queue", "item", "approvals", "customers", "topics", "reports", "sources", "admin", "inbox"]


def test_the_root_url_forwards_to_the_first_page_of_the_role(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "agent1", monkeypatch)
    assert current_url_path(at) == "queue" and [h.value for h in at.header] == ["Queue"]


def test_a_page_the_role_may_not_see_is_not_served(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "agent1", monkeypatch)
    at.session_state["page"] = "Admin"  # as a hand-made request would; the menu never offers it
    at = at.run()
    assert current_url_path(at) == "queue" and "Admin" not in [h.value for h in at.header]


def test_a_link_to_a_page_the_role_may_not_open_is_named_so_the_person_can_be_told(dashboard_db) -> None:
    product = staff_row(dashboard_db, "product1")
    assert refused_page("http://127.0.0.1:8501/customers?id=3", product) == "Customers"
    assert refused_page("https://crm.example/dangol/admin/", product) == "Admin"  # behind a path prefix
    assert refused_page("http://127.0.0.1:8501/topics?topic=app", product) is None  # a page it may open
    assert refused_page("http://127.0.0.1:8501/", product) is None
    assert refused_page("http://127.0.0.1:8501/no-such-page", product) is None
    assert refused_page("", product) is None


def test_item_url_opens_that_item(dashboard_db, monkeypatch) -> None:
    item_id = dashboard_db.items["question"]
    at = open_url(app_as(dashboard_db, "agent1", monkeypatch), "item", id=str(item_id))
    assert not at.exception
    assert current_url_path(at) == "item"
    assert at.number_input[0].value == item_id
    assert any(m.startswith(f"**#{item_id}**") for m in (str(e.value) for e in at.markdown))


def test_an_item_url_with_an_id_no_row_can_have_opens_the_page_without_it(dashboard_db, monkeypatch) -> None:
    # It was a traceback: the id went to the number box and the database as it was.
    for raw in ("99999999999999999999", str(2**31)):
        at = open_url(app_as(dashboard_db, "agent1", monkeypatch), "item", id=raw)
        assert not at.exception
        assert current_url_path(at) == "item" and at.number_input[0].value == 1


def test_item_url_opened_logged_out_lands_on_the_item_after_login(dashboard_db, monkeypatch) -> None:
    item_id = dashboard_db.items["press"]
    at = app_as(dashboard_db, None, monkeypatch)
    at = open_url(at, "item", id=str(item_id))
    assert [b.label for b in at.button] == ["Log in"]  # nothing of the item before the login
    at.text_input(key="login_username").input("agent1")
    at.text_input(key="login_password").input(PASSWORDS["agent1"])
    at = button(at, "Log in").click().run()
    assert current_url_path(at) == "item" and at.query_params.get("id") == str(item_id)
    assert at.number_input[0].value == item_id


def test_opening_an_item_from_the_queue_puts_its_id_in_the_url(dashboard_db, monkeypatch) -> None:
    item_id = dashboard_db.items["complaint"]
    at = app_as(dashboard_db, "agent1", monkeypatch)
    at = button(at, f"Open #{item_id}").click().run()
    assert current_url_path(at) == "item" and at.query_params.get("id") == str(item_id)


def test_queue_filters_are_read_from_the_url(dashboard_db, monkeypatch) -> None:
    at = open_url(app_as(dashboard_db, "agent1", monkeypatch), "queue", topic="delivery", sentiment="neutral")
    assert at.selectbox(key="f_topic").value == "delivery"
    opened = [b.label for b in at.button if b.label.startswith("Open #")]
    assert opened == [f"Open #{dashboard_db.items['press']}"]
    # A value the form does not offer (a stale link) is ignored, not an error.
    at = open_url(at, "queue", topic="no-such-topic")
    assert not at.exception and at.selectbox(key="f_topic").value == "delivery"


def test_queue_filters_applied_in_the_form_show_in_the_url(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "agent1", monkeypatch)
    assert "topic" not in at.query_params and "status" not in at.query_params  # defaults stay out
    at.selectbox(key="f_sla").select("breached")
    at.selectbox(key="f_assignee").select("(me)")
    at.multiselect(key="f_status").unselect("new")
    at = button(at, "Apply filters").click().run()
    assert at.query_params["sla"] == "breached" and at.query_params["assignee"] == "me"
    assert "new" not in at.query_params["status"]
    assert at.selectbox(key="f_sla").value == "breached"  # and the form kept what was applied


def _opened(at) -> list[int]:  # noqa: ANN001 - an AppTest
    return [int(b.label.removeprefix("Open #")) for b in at.button if b.label.startswith("Open #")]


def test_queue_sort_chosen_in_the_form_or_the_url(dashboard_db, monkeypatch) -> None:
    items = dashboard_db.items
    with Session(dashboard_db.engine) as session:
        question = session.get(QueueItem, items["question"])
        question.first_response_due_at = utcnow() + timedelta(minutes=20)  # the lowest priority, due first
        session.commit()
    at = app_as(dashboard_db, "agent1", monkeypatch)
    by_priority = [items["complaint"], items["xss"], items["press"], items["question"]]
    assert _opened(at) == by_priority and "sort" not in at.query_params
    at.selectbox(key="f_sort").select("due")
    at = button(at, "Apply filters").click().run()
    assert _opened(at) == [items["question"], items["complaint"], items["xss"], items["press"]]
    assert at.query_params["sort"] == "due"
    at = open_url(at, "queue", sort="newest")
    assert at.selectbox(key="f_sort").value == "newest"
    assert _opened(at) == sorted(by_priority, reverse=True)  # queued in the same instant: newest id first


def test_topics_url_opens_that_topic(dashboard_db, monkeypatch) -> None:
    at = open_url(app_as(dashboard_db, "product1", monkeypatch), "topics", topic="delivery")
    assert at.selectbox(key="topic_pick").value == "delivery" and at.query_params["topic"] == "delivery"


def test_the_same_message_is_queued_once_for_the_next_run(monkeypatch) -> None:
    import streamlit as st

    from dashboard.context import flash

    monkeypatch.setattr(st, "session_state", {})
    flash("error", "Admin is not open to your role (lead); here is Queue instead.")
    flash("error", "Admin is not open to your role (lead); here is Queue instead.")
    flash("success", "Saved.")
    assert st.session_state["flash"] == [
        ("error", "Admin is not open to your role (lead); here is Queue instead."),
        ("success", "Saved."),
    ]
