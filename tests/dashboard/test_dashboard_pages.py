"""Each dashboard page's logic through AppTest: queue, item, customers, topics, reports, sources, admin."""

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from dangol.core.types import utcnow
from responder.assignment import assign
from storage.models import (
    AuditEvent,
    Author,
    Customer,
    DeadLetter,
    IdentityLink,
    LabelFeedback,
    Note,
    Post,
    QueueItem,
    RoutingRule,
    Staff,
)

from .conftest import XSS_TEXT, app_as, button, nav_pages, shown, staff_row


def charts(at) -> list:
    """The altair/vega-lite charts on the page."""
    return list(at.get("vega_lite_chart"))


def queue_ids(at) -> list[int]:
    return [int(b.label.split("#")[1]) for b in at.button if b.label.startswith("Open #")]


def test_queue_lists_most_urgent_first_with_sla_countdowns(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Queue")
    assert queue_ids(at)[0] == dashboard_db.items["complaint"]
    assert len(queue_ids(at)) == 4
    assert any(("left" in m or "overdue" in m) for m in shown(at.markdown))


def test_sla_countdowns_read_in_minutes_hours_or_days() -> None:
    from datetime import UTC, datetime, timedelta

    from dashboard.views.queue import countdown

    now = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    assert countdown(now + timedelta(minutes=12, seconds=30), False, now) == "12m left"
    assert countdown(now + timedelta(hours=3, minutes=5), False, now) == "3h 5m left"
    assert countdown(now + timedelta(hours=185, minutes=44), False, now) == "7d 17h left"
    assert countdown(now - timedelta(minutes=40), False, now) == "overdue 40m"
    assert countdown(now - timedelta(days=2, hours=1), False, now) == "overdue 2d 1h"
    assert countdown(now + timedelta(hours=1), True, now) == "overdue 1h 0m"
    assert (countdown(None, False, now), countdown(None, True, now)) == ("no SLA", "breached")


def test_queue_filter_by_sentiment_and_topic_narrows_the_list(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Queue")
    at.selectbox(key="f_sentiment").select("negative")
    at.selectbox(key="f_topic").select("delivery")
    at = button(at, "Apply filters").click().run()
    assert queue_ids(at) == [dashboard_db.items["xss"]]


def test_queue_is_paginated_by_the_configured_page_size(dashboard_db, monkeypatch) -> None:
    dashboard_db.config.write_text(
        dashboard_db.config.read_text().replace("page_size = 25", "page_size = 3"), encoding="utf-8"
    )
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Queue")
    assert len(queue_ids(at)) == 3 and "4 items · page 1 of 2" in shown(at.caption)
    at = button(at, "Next page ▶").click().run()
    assert len(queue_ids(at)) == 1


def test_queue_pages_forward_and_back_by_cursor_with_the_page_number_shown(dashboard_db, monkeypatch) -> None:
    dashboard_db.config.write_text(
        dashboard_db.config.read_text().replace("page_size = 25", "page_size = 2"), encoding="utf-8"
    )
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Queue")
    first = queue_ids(at)
    assert button(at, "◀ Previous page").disabled and "page 1 / 2" in shown(at.caption)
    at = button(at, "Next page ▶").click().run()
    second = queue_ids(at)
    assert len(second) == 2 and not set(first) & set(second) and "page 2 / 2" in shown(at.caption)
    assert button(at, "Next page ▶").disabled
    at = button(at, "◀ Previous page").click().run()
    assert queue_ids(at) == first and "page 1 / 2" in shown(at.caption)


def test_item_claimed_by_someone_else_says_so(dashboard_db, monkeypatch) -> None:
    with Session(dashboard_db.engine) as session:
        admin = session.get(Staff, dashboard_db.staff["admin1"])
        assign(dashboard_db.items["complaint"], admin.id, actor=admin, session=session)
        session.commit()
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Queue")
    assert any("someone else is working on this: admin1" in c for c in shown(at.caption))
    item = app_as(dashboard_db, "agent1", monkeypatch, page="Item", item_id=dashboard_db.items["complaint"])
    assert any("Someone else is working on this: admin1" in w for w in shown(item.warning))


def test_agent_bulk_closes_an_item_as_spam_and_it_is_audited(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Queue")
    option = next(o for o in at.multiselect(key="bulk_items").options if o.startswith(f"#{dashboard_db.items['xss']} "))
    at.multiselect(key="bulk_items").select(option)
    at.selectbox(key="bulk_action").select("Close as spam")
    at = button(at, "Apply to chosen items").click().run()
    # Nothing happens before the count is confirmed.
    assert any(f"Close as spam 1 item: #{dashboard_db.items['xss']}?" in w for w in shown(at.warning))
    with Session(dashboard_db.engine) as session:
        assert session.get(QueueItem, dashboard_db.items["xss"]).status == "new"
    at = button(at, "Confirm: Close as spam 1 item").click().run()
    assert any("done for 1 item" in s for s in shown(at.success))
    with Session(dashboard_db.engine) as session:
        assert session.get(QueueItem, dashboard_db.items["xss"]).status == "spam"
        assert session.exec(select(AuditEvent).where(AuditEvent.actor == "agent1")).first() is not None


def test_agent_claims_an_item_and_adds_an_internal_note(dashboard_db, monkeypatch) -> None:
    item_id = dashboard_db.items["complaint"]
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Item", item_id=item_id)
    at = button(at, "Claim").click().run()
    assert "Claimed" in shown(at.success)
    at.text_area[-1].input("Called the store; refund approved.")
    at = button(at, "Add note").click().run()
    with Session(dashboard_db.engine) as session:
        assert session.get(QueueItem, item_id).assignee_id == dashboard_db.staff["agent1"]
        assert session.exec(select(Note.text).where(Note.queue_item_id == item_id)).one() == (
            "Called the store; refund approved."
        )


def test_item_page_explains_the_analysis(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Item", item_id=dashboard_db.items["complaint"])
    # 0.91 × 0.76 (1,200 followers) × 0.6 (analyzed before the customer was linked) × 0.84 (refund)
    assert any("sentiment **negative** · topic **quality**" in m and "risk **0.35**" in m for m in shown(at.markdown))
    assert "**Hana Kim** · tier gold" in shown(at.markdown)
    # Her only queue item is this one: it is not listed as her history.
    assert not any("queue items" in c for c in shown(at.caption))


def test_item_page_lists_the_customers_other_queue_items_not_this_one(dashboard_db, monkeypatch) -> None:
    from dangol.core.types import Page
    from storage.ingest import get_or_create_source, store_page
    from tests.dashboard.conftest import _post

    item_id = dashboard_db.items["complaint"]
    with Session(dashboard_db.engine) as session:
        first = session.get(Post, session.get(QueueItem, item_id).post_id)
        earlier = _post(9, "my coffee was cold last week too", 1200, "coldcoffee", 60 * 24 * 7)
        same_person = replace(earlier.author, platform_id=session.get(Author, first.author_id).platform_id)
        earlier = earlier.model_copy(update={"author": same_person})
        store_page(
            session, source=get_or_create_source(session, name="fixture", use="replay"), page=Page([earlier], {})
        )
        post_id = session.exec(select(Post.id).where(Post.external_id == "fx9")).one()
        session.add(
            QueueItem(post_id=post_id, cluster_key="fx9", status="closed", created_at=utcnow(), updated_at=utcnow())
        )
        session.commit()
        other = session.exec(select(QueueItem.id).where(QueueItem.post_id == post_id)).one()
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Item", item_id=item_id)
    [listed] = [c for c in shown(at.caption) if "queue items" in c]
    assert listed == f"Other queue items: #{other} closed"


def test_label_correction_is_stored_as_feedback(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Item", item_id=dashboard_db.items["question"])
    at.selectbox[-2].select("positive")
    at = button(at, "Save correction").click().run()
    with Session(dashboard_db.engine) as session:
        feedback = session.exec(select(LabelFeedback)).one()
    assert (feedback.kind, feedback.old_value, feedback.new_value) == ("sentiment", "neutral", "positive")
    assert feedback.staff_id == dashboard_db.staff["agent1"]
    assert audited_label_corrections(dashboard_db) == [("agent1", {"sentiment": "neutral"}, {"sentiment": "positive"})]
    # Seen again, the form starts from the correction, and saving it unchanged stores nothing more.
    again = app_as(dashboard_db, "agent1", monkeypatch, page="Item", item_id=dashboard_db.items["question"])
    assert again.selectbox[-2].value == "positive"
    button(again, "Save correction").click().run()
    with Session(dashboard_db.engine) as session:
        assert len(session.exec(select(LabelFeedback)).all()) == 1
    assert len(audited_label_corrections(dashboard_db)) == 1
    # Every role sees the correction in force under "Why it is here", and who made it.
    for reader in ("reviewer1", "product1"):
        seen = app_as(dashboard_db, reader, monkeypatch, page="Item", item_id=dashboard_db.items["question"])
        notes = [c for c in shown(seen.caption) if "corrected to" in c]
        assert notes and "sentiment corrected to positive (was neutral) by agent1" in notes[0].replace("*", ""), notes


def audited_label_corrections(db) -> list[tuple[str, dict, dict]]:
    with Session(db.engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "queue.label")).all()
    return [(e.actor, e.before, e.after) for e in events]


def test_untrusted_post_and_names_are_shown_as_literal_text(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Item", item_id=dashboard_db.items["xss"])
    assert XSS_TEXT in [t.value for t in at.text]
    # Markdown elements carry the author's "<b>name</b>" escaped, so it cannot become markup.
    named = [m.value for m in at.markdown if "markup" in m.value]
    assert named and all("\\<b\\>" in m and "<b>" not in m for m in named)
    queue = app_as(dashboard_db, "agent1", monkeypatch, page="Queue")
    assert any("<script>alert(1)</script>" in t.value for t in queue.text)
    assert not any("<script>" in m.value for m in queue.markdown)


def test_customer_search_shows_the_360_view(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Customers")
    at.text_input(key="customer_query").input("hana")
    at = button(at, "Search").click().run()
    assert "Hana Kim" in shown(at.subheader)
    assert any("Known handles" not in c for c in shown(at.caption))
    assert not [b for b in at.button if b.label == "Erase this customer"]


def test_agent_confirms_a_proposed_identity_link(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Customers")
    at = [b for b in at.button if b.label == "Confirm"][0].click().run()
    with Session(dashboard_db.engine) as session:
        link = session.exec(select(IdentityLink).where(IdentityLink.method == "fuzzy_name")).one()
    assert (link.status, link.confirmed_by) == ("applied", "agent1")


def test_admin_exports_then_erases_a_customer(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "admin1", monkeypatch, page="Customers")
    at = button(at, "Prepare export (JSON)").click().run()
    with Session(dashboard_db.engine) as session:
        customer_id = session.exec(select(Customer.id)).one()
    data = at.session_state[f"export_{customer_id}_data"]
    assert '"name": "Hana Kim"' in data and "arrived cold" in data
    at.checkbox[0].check()
    at = button(at, "Erase this customer").click().run()
    with Session(dashboard_db.engine) as session:
        customer = session.exec(select(Customer)).one()
        actions = set(session.exec(select(AuditEvent.action)))
    assert customer.name == "[erased]" and customer.email is None and customer.erased_at is not None
    assert {"customer.export", "customer.erase"} <= actions


def test_topics_page_offers_a_trend_and_csv_to_product(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "product1", monkeypatch, page="Topics")
    assert not at.exception
    assert "Complaint topics" in [h.value for h in at.header]
    assert "complaints" in str(charts(at)[0].proto.spec)
    assert {b.proto.label for b in at.get("download_button")} == {"Atom feed", "JSON feed"}
    # The CSV holds people's posts: preparing it is an audited export, then it can be downloaded.
    next(b for b in at.button if b.label == "Prepare CSV").click().run()
    assert not at.exception
    assert "Download CSV" in {b.proto.label for b in at.get("download_button")}
    with Session(dashboard_db.engine) as session:
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "topic.export")).all()
    assert event.actor == "product1" and event.entity_type == "topic"


def test_reports_page_shows_the_weekly_report(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "reviewer1", monkeypatch, page="Reports", report_week=_this_week(dashboard_db))
    assert not at.exception
    assert [m.label for m in at.metric][:2] == ["Posts", "Analyzed"]
    assert at.metric[0].value == "4"
    assert any("Sentiment per day" in c.proto.spec for c in charts(at))


def test_net_sentiment_change_names_last_weeks_value(dashboard_db, monkeypatch) -> None:
    """The delta under the net sentiment says it is the change and names last week's value, as the
    e-mailed report does: "-0.67" alone under "-0.67" reads as last week's value."""
    with Session(dashboard_db.engine) as session:
        neutral = session.exec(select(Post).where(Post.external_id == "fx2")).one()
        neutral.created_at -= timedelta(days=7)  # last week: one neutral post, net +0.00
        session.add(neutral)
        session.commit()
    at = app_as(dashboard_db, "reviewer1", monkeypatch, page="Reports", report_week=_this_week(dashboard_db))
    assert not at.exception
    net = next(m for m in at.metric if m.label == "Net sentiment")
    assert (net.value, net.delta) == ("-0.67", "-0.67 on last week's +0.00")  # two negative, one neutral


def test_every_time_axis_is_placed_and_labelled_in_utc(dashboard_db, monkeypatch) -> None:
    """Days are counted in UTC: without a UTC time unit the browser draws "2026-12-04" at midnight
    UTC in the viewer's zone (4 PM of Dec 3 in Los Angeles)."""
    import json

    temporal = []
    for user, page in (("product1", "Topics"), ("reviewer1", "Reports")):
        at = app_as(dashboard_db, user, monkeypatch, page=page, report_week=_this_week(dashboard_db))
        for chart in charts(at):
            x = json.loads(chart.proto.spec)["encoding"]["x"]
            if x.get("type") == "temporal":
                temporal.append((page, x))
    assert {page for page, _ in temporal} == {"Topics", "Reports"}
    assert all(x["timeUnit"].startswith("utc") and "(UTC)" in x["title"] for _, x in temporal), temporal


def test_the_last_28_days_charts_span_the_same_whole_days(dashboard_db, monkeypatch) -> None:
    """One day with data must not fill a chart's width (ticks 'Dec 07, Dec 07, Dec 08'): every chart
    of the 28 days covers the window's whole UTC days."""
    import json
    from datetime import datetime, timedelta

    from dashboard.aggregates import window

    at = app_as(dashboard_db, "reviewer1", monkeypatch, page="Reports", report_week=_this_week(dashboard_db))
    recent = [json.loads(c.proto.spec) for c in charts(at) if "Sentiment per day" in c.proto.spec]
    recent += [json.loads(c.proto.spec) for c in charts(at) if "First responses in time" in c.proto.spec]
    domains = [[datetime.fromisoformat(d) for d in spec["encoding"]["x"]["scale"]["domain"]] for spec in recent]
    since, until = window(28)
    assert len(domains) >= 1 and all(d == domains[0] for d in domains)
    start, end = domains[0]
    assert start == since.replace(hour=0) and end - start in (timedelta(days=28), timedelta(days=29))
    assert start.hour == end.hour == 0 and start <= since and end >= until


def _this_week(db) -> str:
    """The report week the fixture's posts were dated in (see conftest.fixture_now)."""
    from reports.period import week_containing

    with Session(db.engine) as session:
        posted = session.exec(select(Post.created_at).where(Post.external_id == "fx1")).one()
    return week_containing(posted, db.settings.brand.timezone).label


def test_sources_page_shows_source_health(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "admin1", monkeypatch, page="Sources")
    assert not at.exception
    assert at.dataframe[0].value["source"].tolist() == ["fixture"]


def test_admin_adds_a_staff_member_from_the_admin_page(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "admin1", monkeypatch, page="Admin")
    at.text_input[0].input("newbie")
    at.text_input[1].input("korea")
    at.text_input[2].input("ko,en")
    at.text_input[3].input("a long password")
    at = button(at, "Add staff member").click().run()
    new = staff_row(dashboard_db, "newbie")
    assert (new.role, new.languages) == ("agent", ["ko", "en"])


def test_pages_follow_the_role(dashboard_db, monkeypatch) -> None:
    pages = {}
    for user in ("agent1", "product1", "reviewer1", "admin1"):
        pages[user] = nav_pages(app_as(dashboard_db, user, monkeypatch))
    assert "Admin" not in pages["agent1"] and "Approvals" not in pages["agent1"]
    assert "Approvals" in pages["reviewer1"] and "Customers" not in pages["product1"]
    assert pages["admin1"] == [
        "Queue",
        "Item",
        "Approvals",
        "Customers",
        "Topics",
        "Reports",
        "Sources",
        "Admin",
        "Inbox",
    ]


def test_sources_page_shows_dead_letters_raw_and_inert(dashboard_db, monkeypatch) -> None:
    with Session(dashboard_db.engine) as session:
        session.add(DeadLetter(source_name="fixture", platform="x", reason="missing id", raw="<img src=x onerror=1>",
                               created_at=utcnow()))  # fmt: skip
        session.commit()
    at = app_as(dashboard_db, "admin1", monkeypatch, page="Sources")
    assert [c.value for c in at.code] == ["<img src=x onerror=1>"]
    # Times written as on every other page: "2026-12-07 04:04 UTC", not "2026-12-07 04:04:39+00:00".
    import re

    [when] = at.dataframe[1].value["when"].tolist()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", when), when
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC|–", v) for v in at.dataframe[0].value["last ok"])


def test_a_json_dead_letter_is_shown_laid_out(dashboard_db, monkeypatch) -> None:
    with Session(dashboard_db.engine) as session:
        raw = '{"content":"<b>환불</b>","account":{"acct":"a"}}'
        letter = DeadLetter(source_name="fixture", platform="mastodon", reason="no id", raw=raw, created_at=utcnow())
        session.add(letter)
        session.commit()
    at = app_as(dashboard_db, "admin1", monkeypatch, page="Sources")
    assert [c.value for c in at.code] == ['{\n  "content": "<b>환불</b>",\n  "account": {\n    "acct": "a"\n  }\n}']
    assert at.code[0].language == "json"
    assert at.selectbox(key="dead_letter").options[0].endswith(" · fixture · no id")


def test_a_payload_too_deep_to_lay_out_is_shown_as_it_is() -> None:
    from dashboard.safe import readable_payload

    deep = "[" * 50_000 + "]" * 50_000
    assert readable_payload(deep) == (deep, None)
    assert readable_payload('"just a string"') == ('"just a string"', None)


def test_admin_copies_config_rules_then_disables_one(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "admin1", monkeypatch, page="Admin")
    at = button(at, "Copy config rules for editing").click().run()
    at = button(at, "Disable").click().run()
    with Session(dashboard_db.engine) as session:
        rules = session.exec(select(RoutingRule).order_by(RoutingRule.position)).all()
    assert len(rules) == len(dashboard_db.settings.responder.rules)
    assert [r.enabled for r in rules][:2] == [False, True]


def test_the_risk_breakdown_is_a_table_of_value_floor_multiplier_and_evidence() -> None:
    from dashboard.views.item import risk_table
    from nlp.risk import score_risk

    risk = score_risk("I want a refund or I call my lawyer", negative=0.9, followers=5000, customer_tier="gold")
    table = risk_table(risk.breakdown).set_index("factor")
    assert list(table.columns) == ["value", "floor", "multiplier", "from"]
    assert table["multiplier"].prod() == pytest.approx(risk.score, abs=0.01)  # shown to two places
    assert "refund" in table.loc["urgency", "from"] and "tier: gold" in table.loc["customer value", "from"]
    assert "followers: 5000" in table.loc["reach", "from"]


def test_topics_page_looks_back_at_a_window_ending_on_an_earlier_day(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "product1", monkeypatch, page="Topics")
    at.date_input(key="topic_ending").set_value(utcnow().date() - timedelta(days=40)).run()
    assert not at.exception
    assert not charts(at)  # the fixture's complaints are all from today
    assert "choose a longer window or an earlier end date" in shown(at.info)[0]


def test_the_weekly_sentiment_bars_are_red_grey_green(dashboard_db, monkeypatch) -> None:
    from reports.charts import SENTIMENT_COLORS

    at = app_as(dashboard_db, "reviewer1", monkeypatch, page="Reports", report_week=_this_week(dashboard_db))
    spec = next(c.proto.spec for c in charts(at) if "Sentiment per day" not in c.proto.spec)
    assert all(color in spec for color in SENTIMENT_COLORS.values())


def test_topics_window_sets_the_summary_too_and_product_sees_no_customer_names(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "product1", monkeypatch, page="Topics")
    assert any("in the last 7 days" in c for c in shown(at.caption))
    at.selectbox(key="topic_window").select("28 days").run()
    assert not at.exception
    assert any("in the last 28 days" in c for c in shown(at.caption))
    assert "Affected known customers" not in shown(at.caption)  # product may not view customers


def test_the_topic_chart_has_a_zero_for_days_without_complaints() -> None:
    from datetime import UTC, datetime

    import pandas as pd

    from dashboard.views.topics import every_day

    frame = pd.DataFrame([("2026-11-01", "app", 1), ("2026-11-04", "app", 39)], columns=["day", "topic", "complaints"])
    full = every_day(frame, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 5, tzinfo=UTC))
    assert full["complaints"].tolist() == [1, 0, 0, 39]
    assert full["day"].tolist() == ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]


def test_the_topic_chart_names_topics_as_the_selector_does() -> None:
    from datetime import UTC, datetime

    from dashboard.views.topics import chart_frame

    counts = [("2026-11-01", "app", 2), ("2026-11-01", "apps", 1), ("2026-11-02", "other", 3)]
    names = {"app": "App and website", "apps": "App and website"}  # two keys an admin named alike
    full = chart_frame(counts, names, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))
    assert full.to_dict("records") == [
        {"day": "2026-11-01", "topic": "App and website", "complaints": 3},
        {"day": "2026-11-01", "topic": "other", "complaints": 0},
        {"day": "2026-11-02", "topic": "App and website", "complaints": 0},
        {"day": "2026-11-02", "topic": "other", "complaints": 3},
    ]


def test_a_role_that_may_view_customers_sees_the_affected_ones(dashboard_db, monkeypatch) -> None:
    for user, sees in (("admin1", True), ("product1", False)):
        at = app_as(dashboard_db, user, monkeypatch, page="Topics")
        at.selectbox(key="topic_pick").select("quality").run()
        assert ("Affected known customers" in shown(at.caption)) is sees, user


def test_the_item_page_offers_only_the_actions_the_role_may_take(dashboard_db, monkeypatch) -> None:
    item = dashboard_db.items["complaint"]
    actions = {"Claim", "Release", "Close", "Close as spam", "Use this suggestion"}
    agent = app_as(dashboard_db, "agent1", monkeypatch, page="Item", item_id=item)
    assert {"Claim", "Close", "Close as spam"} <= {b.label for b in agent.button}
    assert any(b.label.startswith("Send") for b in agent.button)
    for reader in ("reviewer1", "product1"):
        at = app_as(dashboard_db, reader, monkeypatch, page="Item", item_id=item)
        assert not at.exception
        labels = {b.label for b in at.button}
        assert not labels & actions and not any(label.startswith("Send") for label in labels), (reader, labels)
        assert "Your reply" not in {t.label for t in at.text_area}, reader  # notes yes (reviewers), replies no
        assert any("you can read this item only" in m for m in shown(at.info)), reader


def test_next_item_opens_the_most_urgent_other_open_item(dashboard_db, monkeypatch) -> None:
    current = dashboard_db.items["complaint"]
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Item", item_id=current)
    at = button(at, "Next item").click().run()
    assert not at.exception
    opened = at.session_state["item_id"]
    assert opened != current
    with Session(dashboard_db.engine) as session:
        others = session.exec(select(QueueItem).where(QueueItem.id != current)).all()
        best = min((i for i in others if i.assignee_id is None), key=lambda i: (i.priority, i.created_at, i.id))
    assert opened == best.id


def test_customer_scores_segments_and_breakdown_on_the_item_and_customers_pages(dashboard_db, monkeypatch) -> None:
    from dangol.pipeline import score_customers

    before = app_as(dashboard_db, "agent1", monkeypatch, page="Item", item_id=dashboard_db.items["complaint"])
    assert any("No scores yet" in c for c in shown(before.caption))
    score_customers(dashboard_db.settings, dashboard_db.engine)
    item = app_as(dashboard_db, "agent1", monkeypatch, page="Item", item_id=dashboard_db.items["complaint"])
    assert not item.exception, item.exception
    # Hana Kim's complaint is unanswered: at risk; her first post is minutes old: a new voice. One
    # negative post is no trend, so she is not (yet) a detractor.
    assert any(m.startswith("Segments: **At risk** · **New voices**") for m in shown(item.markdown)), shown(
        item.markdown
    )
    assert any(c.startswith("Scores computed ") for c in shown(item.caption))
    table = item.dataframe[-1].value
    assert list(table["score"]) == ["activity", "mood", "service", "reach", "value"]
    assert table.loc[table["score"] == "value", "parts"].item().startswith("tier 0.70 × 0.7 = 0.49")
    assert any("Segment history" in c and "joined At risk" in c for c in shown(item.caption))
    customers = app_as(dashboard_db, "agent1", monkeypatch, page="Customers")
    customers.text_input(key="customer_query").input("hana")
    customers = button(customers, "Search").click().run()
    assert any(m.startswith("Segments: **At risk**") for m in shown(customers.markdown))
    assert any(c.startswith("Scores computed ") for c in shown(customers.caption))


def test_customers_page_shows_segment_counts_movement_members_and_an_audited_csv(dashboard_db, monkeypatch) -> None:
    import csv
    import io

    from dangol.pipeline import score_customers

    score_customers(dashboard_db.settings, dashboard_db.engine)
    at = app_as(dashboard_db, "admin1", monkeypatch, page="Customers")
    assert not at.exception, at.exception
    assert "Segments" in shown(at.subheader)
    counts = next(d.value for d in at.dataframe if "members now" in d.value.columns)
    assert dict(zip(counts["segment"], counts["members now"], strict=True))["At risk"] == 1
    spec = str(charts(at)[-1].proto.spec)
    assert "members" in spec and "segment" in spec
    at.selectbox(key="segment_pick").set_value("at_risk")
    at = at.run()
    members = at.dataframe[-1].value
    assert list(members["customer"]) == [f"#{_hana(dashboard_db)}"]
    assert "Hana Kim" not in members.to_string() and "hana@example.com" not in members.to_string()
    at = button(at, "Prepare segment CSV").click().run()
    assert not at.exception, at.exception
    rows = list(csv.DictReader(io.StringIO(at.session_state["segment_csv_at_risk"])))
    assert [r["customer_id"] for r in rows] == [str(_hana(dashboard_db))] and "at_risk" in rows[0]["segments"]
    assert "name" not in rows[0] and "email" not in rows[0] and "Hana" not in str(rows)
    assert "Download segment CSV" in {b.proto.label for b in at.get("download_button")}
    with Session(dashboard_db.engine) as session:
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "segment.export")).all()
    assert (event.actor, event.entity_id, event.after) == ("admin1", "at_risk", {"customers": 1})
    agent = app_as(dashboard_db, "agent1", monkeypatch, page="Customers")
    assert "Segments" in shown(agent.subheader)
    assert not [b for b in agent.button if b.label == "Prepare segment CSV"]  # only admins export segments


def _hana(db) -> int:
    with Session(db.engine) as session:
        return session.exec(select(Customer.id).where(Customer.name == "Hana Kim")).one()


def _performance_tables(at) -> dict[str, list[dict]]:
    """The Reports page's team-performance tables, by their first column ("team" or "agent")."""
    tables = {}
    for frame in at.dataframe:
        value = frame.value
        if value.columns[0] in ("team", "agent") and "reopen rate" in value.columns:
            tables[value.columns[0]] = value.to_dict("records")
    return tables


def _formatted(figures: dict) -> dict:
    """The expected figures as the page writes them."""
    from reports.weekly import format_minutes

    def pct(value):
        return "–" if value is None else f"{value * 100:.1f}%"

    return {
        "handled": figures["handled"],
        "first response median": format_minutes(figures["first_response_median"]),
        "first response p90": format_minutes(figures["first_response_p90"]),
        "resolution median": format_minutes(figures["resolution_median"]),
        "resolution p90": format_minutes(figures["resolution_p90"]),
        "SLA attainment": pct(figures["sla_attainment"]),
        "approvals requested": figures["approvals_requested"],
        "approvals returned": figures["approvals_returned"],
        "reopen rate": pct(figures["reopen_rate"]),
    }


def test_team_performance_on_the_reports_page_matches_the_tables(dashboard_db, monkeypatch) -> None:
    from tests.reports.team_week import WEEK, expected_figures, seed_team_week

    with Session(dashboard_db.engine, expire_on_commit=False) as session:
        world = seed_team_week(session)
        teams, agents = expected_figures(session, world.week)
    at = app_as(dashboard_db, "admin1", monkeypatch, page="Reports", report_week=WEEK)
    assert not at.exception
    tables = _performance_tables(at)
    names = {"support": "Support", "billing": "Billing"}
    assert tables["team"] == [{"team": names[k], **_formatted(teams[k])} for k in sorted(teams)]
    # Ordered by team and name, each with the agent's own team.
    own_team = {"anakang": "Support", "benoh": "Billing"}
    assert tables["agent"] == [
        {"agent": name, "team": own_team[name], **_formatted(agents[name])} for name in ("benoh", "anakang")
    ]


def test_an_agent_sees_the_team_table_but_no_agents_figures(dashboard_db, monkeypatch) -> None:
    from tests.reports.team_week import WEEK, seed_team_week

    with Session(dashboard_db.engine, expire_on_commit=False) as session:
        seed_team_week(session)
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Reports", report_week=WEEK)
    assert not at.exception
    tables = _performance_tables(at)
    assert set(tables) == {"team"}
    everything = " ".join(
        [str(e.value) for elements in (at.markdown, at.caption, at.text, at.subheader) for e in elements]
        + [frame.value.to_csv() for frame in at.dataframe]
    )
    assert "Team performance" in everything and "Support" in everything
    assert "anakang" not in everything and "benoh" not in everything


def test_store_ratings_on_the_reports_page_equal_the_figures_from_the_posts(dashboard_db, monkeypatch) -> None:
    from reports.period import parse_week
    from tests.reports.store_reviews import expected_ratings, hours, store_reviews

    week = parse_week("2026-W47", dashboard_db.settings.brand.timezone)
    at_week, before = week.start + timedelta(hours=1), week.start - timedelta(days=3)
    with Session(dashboard_db.engine, expire_on_commit=False) as session:
        store_reviews(
            session,
            appstore=[
                (str(10 + i), t, s, "3.5.0", "로그인이 안 돼요")
                for i, (t, s) in enumerate(zip(hours(at_week, 3), (1, 2, 1), strict=True))
            ]
            + [("20", before, 5, "3.4.0", "좋아요"), ("21", at_week, 4, "3.4.0", "좋아요")],
            googleplay=[("g1", at_week, 1, "3.5.0", "login broken"), ("g2", before, 4, "3.4.0", "fine")],
        )
        session.commit()
        weeks = [week.shift(-i).label for i in range(4, -1, -1)]
        expected = expected_ratings(session, weeks, dashboard_db.settings.brand.timezone)
    at = app_as(dashboard_db, "product1", monkeypatch, page="Reports", report_week=week.label)
    assert not at.exception
    assert "Store ratings" in shown(at.subheader)
    [table] = [f.value for f in at.dataframe if "average" in f.value.columns]
    shown_rows = {
        (r["week"], r["store"], r["app"], r["version"]): ([r[f"{s}★"] for s in range(1, 6)], r["reviews"], r["average"])
        for r in table.to_dict("records")
    }
    stores = {"appstore": "App Store", "googleplay": "Google Play"}
    # The App Store app by the name its feed gave ("마루커피") with its number; Google Play's by its package.
    apps = {"appstore": "마루커피 ({})", "googleplay": "{}"}
    assert shown_rows == {
        (w, stores[p], apps[p].format(a), "all versions" if v is None else v): (stars, sum(stars), f"{average:.2f}")
        for (w, p, a, v), (stars, average) in expected.items()
    }
    assert shown_rows[("2026-W47", "App Store", "마루커피 (1234567)", "3.5.0")] == ([2, 1, 0, 0, 0], 3, "1.33")


def test_an_author_without_a_display_name_is_shown_without_empty_brackets() -> None:
    from dashboard.safe import author_md

    assert author_md("bean_log333", "") == "**@bean\\_log333**"  # a Reddit account has no display name
    assert author_md("bean_log333", "  ") == "**@bean\\_log333**"
    assert author_md("sip", "Kim *bold*") == "**@sip** (Kim \\*bold\\*)"  # the name stays inert


def _posts_by_the_complainer(db, *texts_minutes_ago: tuple[str, int]) -> None:
    """More posts by the author of the fixture's complaint (posted 30 minutes ago), n = 9, 10, …"""
    from dangol.core.types import Page
    from storage.ingest import get_or_create_source, store_page
    from tests.dashboard.conftest import _post

    with Session(db.engine) as session:
        first = session.get(Post, session.get(QueueItem, db.items["complaint"]).post_id)
        author = session.get(Author, first.author_id)
        posts = [_post(9 + n, text, 1200, "coldcoffee", ago) for n, (text, ago) in enumerate(texts_minutes_ago)]
        posts = [p.model_copy(update={"author": replace(p.author, platform_id=author.platform_id)}) for p in posts]
        store_page(session, source=get_or_create_source(session, name="fixture", use="replay"), page=Page(posts, {}))
        session.commit()


def test_item_page_shows_what_the_author_posted_since(dashboard_db, monkeypatch) -> None:
    _posts_by_the_complainer(
        dashboard_db,
        ("Update: they sorted it out within the hour, thanks!", 1),
        ("my coffee was cold last week too", 60 * 24 * 7),
    )
    at = app_as(dashboard_db, "product1", monkeypatch, page="Item", item_id=dashboard_db.items["complaint"])
    assert "**They posted again since** (1, oldest first)" in shown(at.markdown)
    assert "Update: they sorted it out within the hour, thanks!" in shown(at.text)
    assert "my coffee was cold last week too" not in shown(at.text)  # before this post: history only


def test_queue_line_says_when_the_author_posted_again_since(dashboard_db, monkeypatch) -> None:
    before = shown(app_as(dashboard_db, "agent1", monkeypatch, page="Queue").caption)
    assert not any("posted again since" in c for c in before), before
    _posts_by_the_complainer(dashboard_db, ("Update: they sorted it out within the hour, thanks!", 1))
    captions = shown(app_as(dashboard_db, "agent1", monkeypatch, page="Queue").caption)
    assert sum("↩ they posted again since (not analyzed yet)" in c for c in captions) == 1, captions
