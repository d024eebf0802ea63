"""The Admin page's complaint topics through AppTest: add, edit, disable, errors, the role check."""

from __future__ import annotations

from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from dashboard.views.topics import busiest_first
from storage.models import LabelFeedback, QueueItem, Staff
from storage.topics import TopicEntry, list_topics
from tests.dashboard.conftest import DashboardDb, app_as, button, shown, staff_row


def topics(db: DashboardDb) -> dict[str, TopicEntry]:
    with Session(db.engine) as session:
        return {e.key: e for e in list_topics(session=session, catalog=db.settings.topic_catalog)}


EXAMPLES = "nowhere to park\nparking is too expensive"


def fill_new_topic(at: AppTest, key: str = "parking", examples: str = EXAMPLES) -> AppTest:
    at.text_input(key="topic_add_key").input(key)
    at.text_input(key="topic_add_name").input("Parking")
    at.text_input(key="topic_add_description").input("Nowhere to park near the store")
    at.text_area(key="topic_add_examples").input(examples)
    at.selectbox(key="topic_add_team").select("support")
    at.text_input(key="topic_add_languages").input("en")
    return at


def test_admin_adds_a_topic_and_sees_it_listed_as_from_the_ui(dashboard_db, monkeypatch) -> None:
    at = fill_new_topic(app_as(dashboard_db, "admin1", monkeypatch, page="Admin"))
    at = button(at, "Add topic").click().run()
    assert not at.exception
    assert "Topic parking added" in shown(at.success)
    parking = topics(dashboard_db)["parking"]
    assert (parking.topic.team, parking.topic.languages, parking.source) == ("support", ["en"], "ui")
    assert parking.topic.examples == ["nowhere to park", "parking is too expensive"]
    table = next(d.value for d in at.dataframe if "source" in d.value.columns)
    assert table.set_index("key").loc["parking", "source"] == "ui"


def test_a_bad_topic_is_refused_with_what_is_wrong_and_nothing_is_stored(dashboard_db, monkeypatch) -> None:
    at = fill_new_topic(app_as(dashboard_db, "admin1", monkeypatch, page="Admin"), key="Parking Lot", examples="")
    at = button(at, "Add topic").click().run()
    [error] = shown(at.error)
    assert "invalid topic key 'Parking Lot'" in error and "at least one example" in error
    assert "parking" not in topics(dashboard_db) and "Parking Lot" not in topics(dashboard_db)


def test_admin_edits_a_config_topic(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "admin1", monkeypatch, page="Admin")
    at = at.selectbox(key="admin_topic_pick").select("billing").run()
    assert at.text_input(key="topic_edit_billing_name").value == "Billing and refunds"
    at.text_input(key="topic_edit_billing_name").input("Billing, refunds and gift cards")
    at.text_area(key="topic_edit_billing_examples").input("my gift card balance is gone")
    at = button(at, "Save topic").click().run()
    assert "Topic billing saved" in shown(at.success)
    billing = topics(dashboard_db)["billing"]
    assert billing.topic.name == "Billing, refunds and gift cards"
    assert billing.topic.examples == ["my gift card balance is gone"]
    assert (billing.source, billing.updated_by) == ("config, edited in UI", "admin1")


def test_admin_disables_a_topic_then_enables_it(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "admin1", monkeypatch, page="Admin")
    at = at.selectbox(key="admin_topic_pick").select("loyalty").run()
    at = button(at, "Disable topic").click().run()
    assert not topics(dashboard_db)["loyalty"].enabled
    at = button(at, "Enable topic").click().run()
    assert topics(dashboard_db)["loyalty"].enabled


def test_a_click_sent_after_the_role_changed_to_product_stores_nothing(dashboard_db, monkeypatch) -> None:
    # The form was on screen while the user was an admin; the role is re-read on the click.
    at = fill_new_topic(app_as(dashboard_db, "admin1", monkeypatch, page="Admin"))
    with Session(dashboard_db.engine) as session:
        admin = session.get(Staff, staff_row(dashboard_db, "admin1").id)
        admin.role = "product"
        session.commit()
    at = button(at, "Add topic").click().run()
    assert not at.exception
    assert "parking" not in topics(dashboard_db)
    assert not [b for b in at.button if b.label == "Add topic"]


def test_product_and_agent_users_get_no_topic_forms(dashboard_db, monkeypatch) -> None:
    for user in ("product1", "agent1"):
        at = app_as(dashboard_db, user, monkeypatch, page="Admin")
        assert not [b for b in at.button if b.label in ("Add topic", "Save topic")]


def test_the_topics_page_offers_added_topics_and_lists_retired_ones_last(dashboard_db, monkeypatch) -> None:
    at = fill_new_topic(app_as(dashboard_db, "admin1", monkeypatch, page="Admin"))
    at = button(at, "Add topic").click().run()
    at = at.selectbox(key="admin_topic_pick").select("delivery").run()
    button(at, "Disable topic").click().run()
    topics_page = app_as(dashboard_db, "product1", monkeypatch, page="Topics")
    pick = topics_page.selectbox(key="topic_pick")
    assert pick.options[-2:] == ["Parking", "Delivery (retired)"]


def test_the_topics_page_opens_on_the_topics_with_complaints_in_the_window(dashboard_db, monkeypatch) -> None:
    pick = app_as(dashboard_db, "product1", monkeypatch, page="Topics").selectbox(key="topic_pick")
    # The fixture's two complaints of the last hour: one about delivery, one about quality.
    assert sorted(pick.options[:2]) == sorted(topics(dashboard_db)[key].topic.name for key in ("delivery", "quality"))
    assert pick.value in ("delivery", "quality")


def test_busiest_topics_come_first_and_the_rest_keep_their_order() -> None:
    counts = [("2026-12-01", "app", 2), ("2026-12-02", "quality", 1), ("2026-12-02", "app", 1), ("2026-12-03", "x", 9)]
    assert busiest_first(["delivery", "quality", "billing", "app"], counts) == ["app", "quality", "delivery", "billing"]
    assert busiest_first(["delivery", "billing"], []) == ["delivery", "billing"]


def test_agents_can_file_a_post_under_a_topic_added_on_the_admin_page(dashboard_db, monkeypatch) -> None:
    at = fill_new_topic(app_as(dashboard_db, "admin1", monkeypatch, page="Admin"))
    button(at, "Add topic").click().run()
    item = app_as(dashboard_db, "agent1", monkeypatch, page="Item", item_id=dashboard_db.items["complaint"])
    [topic] = [s for s in item.selectbox if s.label == "Topic"]
    assert topic.options[0] == "other" and topic.options[-1] == "parking"


def test_a_topic_added_in_the_ui_is_offered_by_the_queue_topic_filter(dashboard_db, monkeypatch) -> None:
    at = fill_new_topic(app_as(dashboard_db, "admin1", monkeypatch, page="Admin"))
    button(at, "Add topic").click().run()
    queue = app_as(dashboard_db, "agent1", monkeypatch, page="Queue")
    assert "parking" in queue.selectbox(key="f_topic").options


def test_correcting_the_sentiment_of_a_post_under_a_retired_topic_leaves_its_topic_alone(
    dashboard_db, monkeypatch
) -> None:
    # The complaint item's post is filed under "quality"; once that topic is retired the form must
    # still start from it, or saving a sentiment correction would also refile the post as "other".
    at = app_as(dashboard_db, "admin1", monkeypatch, page="Admin")
    at = at.selectbox(key="admin_topic_pick").select("quality").run()
    button(at, "Disable topic").click().run()
    item = app_as(dashboard_db, "agent1", monkeypatch, page="Item", item_id=dashboard_db.items["complaint"])
    [topic] = [s for s in item.selectbox if s.label == "Topic"]
    assert topic.value == "quality"
    [sentiment] = [s for s in item.selectbox if s.label == "Sentiment"]
    sentiment.select("neutral")
    item = button(item, "Save correction").click().run()
    with Session(dashboard_db.engine) as session:
        kinds = [f.kind for f in session.exec(select(LabelFeedback))]
        queued = session.get(QueueItem, dashboard_db.items["complaint"])
    assert kinds == ["sentiment"]
    assert queued.topic == "quality"
