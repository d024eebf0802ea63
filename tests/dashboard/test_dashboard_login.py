"""Logging in to the dashboard: the form, lockout, idle timeout, and roles re-checked on every action."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from dangol.core.types import utcnow
from responder.accounts.staff import update_staff
from storage.models import AuditEvent, QueueItem

from .conftest import PASSWORDS, DashboardDb, app_as, button, nav_pages, shown, staff_row


def log_in(db: DashboardDb, monkeypatch: pytest.MonkeyPatch, username: str, password: str):
    at = app_as(db, None, monkeypatch)
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    return button(at, "Log in").click().run()


def test_agent_logs_in_through_the_form_and_lands_on_the_queue(dashboard_db, monkeypatch) -> None:
    at = log_in(dashboard_db, monkeypatch, "agent1", PASSWORDS["agent1"])
    assert not at.exception
    assert [h.value for h in at.header] == ["Queue"]
    assert at.session_state["staff_id"] == dashboard_db.staff["agent1"]


def test_wrong_password_shows_one_generic_message(dashboard_db, monkeypatch) -> None:
    at = log_in(dashboard_db, monkeypatch, "agent1", "not the password")
    assert [e.value for e in at.error] == ["unknown username or wrong password"]
    assert "staff_id" not in at.session_state


def test_repeated_failures_lock_the_account_and_are_audited(dashboard_db, monkeypatch) -> None:
    for _ in range(dashboard_db.settings.dashboard.lockout_attempts):
        at = log_in(dashboard_db, monkeypatch, "agent1", "not the password")
    assert "too many failed logins; try again after" in at.error[0].value
    at = log_in(dashboard_db, monkeypatch, "agent1", PASSWORDS["agent1"])
    assert "too many failed logins; try again after" in at.error[0].value
    with Session(dashboard_db.engine) as session:
        actions = list(session.exec(select(AuditEvent.action).where(AuditEvent.action.startswith("auth."))))
    assert "auth.lockout" in actions and actions[-1] == "auth.login_throttled"


def test_idle_session_times_out_back_to_the_login_form(dashboard_db, monkeypatch) -> None:
    idle = dashboard_db.settings.dashboard.session_timeout_minutes + 1
    at = app_as(dashboard_db, "agent1", monkeypatch, last_activity=utcnow() - timedelta(minutes=idle))
    assert "staff_id" not in at.session_state
    assert any("session expired" in w.value for w in at.warning)
    assert button(at, "Log in") is not None


def choose_bulk(at, db: DashboardDb, item: str, action: str):
    """Pick one item and an action in the queue's bulk form, submit it and confirm the count."""
    option = next(o for o in at.multiselect(key="bulk_items").options if o.startswith(f"#{db.items[item]} "))
    at.multiselect(key="bulk_items").select(option)
    at.selectbox(key="bulk_action").select(action)
    at = button(at, "Apply to chosen items").click().run()
    return button(at, f"Confirm: {action} 1 item").click().run()


def test_product_user_reads_the_queue_without_action_controls(dashboard_db, monkeypatch) -> None:
    # The server refuses the action too (tests/responder/test_actions_audited.py); the page does not
    # offer what would be refused.
    at = app_as(dashboard_db, "product1", monkeypatch, page="Queue")
    assert any("queue actions are not part of your role (product)" in i for i in shown(at.info))
    assert "Apply to chosen items" not in {b.label for b in at.button}
    with pytest.raises(KeyError):
        at.multiselect(key="bulk_items")


def test_product_user_is_offered_no_claim(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "product1", monkeypatch, page="Item", item_id=dashboard_db.items["complaint"])
    assert "Claim" not in {b.label for b in at.button}
    assert "Admin" not in nav_pages(at)


def test_role_downgraded_mid_session_is_refused_on_the_next_action(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Queue")
    option = next(o for o in at.multiselect(key="bulk_items").options if o.startswith(f"#{dashboard_db.items['xss']} "))
    at.multiselect(key="bulk_items").select(option)
    at.selectbox(key="bulk_action").select("Close as spam")
    at = button(at, "Apply to chosen items").click().run()
    with Session(dashboard_db.engine) as session:
        admin = staff_row(dashboard_db, "admin1")
        update_staff(session=session, actor=admin, staff_id=dashboard_db.staff["agent1"], role="product")
        session.commit()
    # The confirmation was drawn for an agent; the click is judged by the role the database holds now.
    at = button(at, "Confirm: Close as spam 1 item").click().run()
    assert any("queue actions are not part of your role (product)" in i for i in shown(at.info))
    with Session(dashboard_db.engine) as session:
        assert session.get(QueueItem, dashboard_db.items["xss"]).status != "spam"


def test_the_item_page_shows_the_customer_only_to_roles_that_may_view_customers(dashboard_db, monkeypatch) -> None:
    item = dashboard_db.items["complaint"]
    agent = app_as(dashboard_db, "agent1", monkeypatch, page="Item", item_id=item)
    product = app_as(dashboard_db, "product1", monkeypatch, page="Item", item_id=item)
    assert "Customer" in [s.value for s in agent.subheader]
    assert "Customer" not in [s.value for s in product.subheader]
    assert not any("Hana Kim" in m for m in shown(product.markdown))
