"""Reads and actions over HTTP: the dashboard's permission checks per role, its audit trail per
action, feeds with ETags, and the CRM's idempotent customer upsert."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from dangol.core.permissions import ACTIONS, PERMISSIONS, ROLES
from responder import assignment
from storage.models import Customer, IdentityLink, LabelFeedback, QueueItem, Reply, Staff
from tests.api.conftest import Api

CUSTOMER = {"name": "Lee Jiwoo", "email": "JIWOO@example.com", "tier": "gold", "handles": {"x": "@jiwoo"},
            "order_numbers": ["a-100"]}  # fmt: skip
# (method, path with {item} / {link}, JSON body, the permission it needs)
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("GET", "/api/v1/queue", None, "queue.view"),
    ("GET", "/api/v1/items/{item}", None, "queue.view"),
    ("GET", "/api/v1/customers?q=Kim", None, "customer.view"),
    ("GET", "/api/v1/topics", None, "topic.view"),
    ("GET", "/api/v1/alerts", None, "alert.view"),
    ("GET", "/api/v1/feeds/delivery.json", None, "topic.view"),
    ("POST", "/api/v1/items/{item}/claim", None, "queue.claim"),
    ("POST", "/api/v1/items/{item}/close", {"spam": False}, "queue.close"),
    ("POST", "/api/v1/items/{item}/labels", {"sentiment": "neutral"}, "queue.label"),
    ("POST", "/api/v1/links/{link}/decision", {"decision": "reject"}, "customer.link"),
    ("PUT", "/api/v1/customers/by-external-id/crm-1", CUSTOMER, "customer.import"),
]


def call(api: Api, role: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    url = path.format(item=api.item_id, link=api.link_id)
    return api.client.request(method, url, json=body, headers=api.auth(role))


@pytest.mark.parametrize(("method", "path", "body", "action"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
def test_each_role_is_refused_exactly_what_its_role_may_not_do(api: Api, method, path, body, action) -> None:
    for role in ROLES:
        before = api.last_event_id()
        response = call(api, role, method, path, body)
        if action in PERMISSIONS[role]:
            assert response.status_code in (200, 201), (role, response.json())
        else:
            assert response.status_code == 403, (role, response.json())
            assert response.json() == {
                "error": "forbidden",
                "message": f"role {role!r} may not {ACTIONS[action]} ({action}); roles allowed: "
                + ", ".join(r for r in ROLES if action in PERMISSIONS[r]),
            }
            assert api.events_after(before) == []  # a refusal changes nothing and audits nothing
        if method != "GET":
            break  # the first allowed role changed the world; the refusals above are what is tested


def test_the_queue_filters_and_pages_like_the_dashboard(api: Api, seed_post) -> None:
    from responder import queue
    from tests.responder.conftest import NOW

    seed_post("the app crashes when I pay", primary_topic="payment", topics={"payment": 0.9}, risk=0.5)
    queue.route_new(session=api.session, settings=api.settings, now=NOW)
    api.session.commit()
    first = api.get("agent", "/api/v1/queue", params={"limit": 1}).json()  # type: ignore[attr-defined]
    assert first["total"] == 2 and len(first["items"]) == 1 and first["next_page"] == 2
    second = api.get("agent", "/api/v1/queue", params={"limit": 1, "page": 2}).json()  # type: ignore[attr-defined]
    assert second["next_page"] is None and second["items"][0]["item_id"] != first["items"][0]["item_id"]
    delivery = api.get("agent", "/api/v1/queue", params={"topic": "delivery"}).json()  # type: ignore[attr-defined]
    assert [row["item_id"] for row in delivery["items"]] == [api.item_id]
    call(api, "agent", "POST", "/api/v1/items/{item}/claim")
    mine = api.get("agent", "/api/v1/queue", params={"assignee": "me"}).json()  # type: ignore[attr-defined]
    assert [row["item_id"] for row in mine["items"]] == [api.item_id] and mine["items"][0]["assignee"] == "agent1"
    free = api.get("agent", "/api/v1/queue", params={"assignee": "none"}).json()  # type: ignore[attr-defined]
    assert api.item_id not in [row["item_id"] for row in free["items"]] and free["total"] == 1
    bad = api.get("agent", "/api/v1/queue", params={"sla": "late"})
    assert bad.status_code == 422 and "unknown SLA state 'late'" in bad.json()["message"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("due", [datetime(2026, 11, 22, 9, 30, tzinfo=UTC), None])
def test_a_queue_line_is_the_json_the_generic_encoder_made(due: datetime | None) -> None:
    import dataclasses

    from fastapi.encoders import jsonable_encoder

    from dangol.api.reads import line_json
    from storage.queue import QueueRow

    line = QueueRow(item_id=7, status="new", priority=2, team="support", assignee=None, assignee_id=None,
                    due_at=due, sla_breached=False, platform="x", handle="kim", snippet="cold again",
                    sentiment="negative", topic="delivery", language="en", risk=0.4, tags=["vip"],
                    created_at=datetime(2026, 11, 22, 8, tzinfo=UTC))  # fmt: skip
    assert line_json(line) == jsonable_encoder(dataclasses.asdict(line))
    assert json.dumps(line_json(line)) == json.dumps(jsonable_encoder(dataclasses.asdict(line)))  # same key order


def test_an_item_reads_with_its_post_and_a_missing_one_is_404(api: Api) -> None:
    body = api.get("agent", f"/api/v1/items/{api.item_id}").json()  # type: ignore[attr-defined]
    assert body["post"]["text"] == "my order never arrived and I was charged twice" and body["status"] == "new"
    missing = api.get("agent", "/api/v1/items/999999")
    assert missing.status_code == 404  # type: ignore[attr-defined]
    assert missing.json() == {"error": "not_found", "message": "no queue item with id 999999"}  # type: ignore[attr-defined]


def test_customers_are_searched_and_read_in_360(api: Api) -> None:
    found = api.get("agent", "/api/v1/customers", params={"q": "kim"}).json()["items"]  # type: ignore[attr-defined]
    assert [c["name"] for c in found] == ["Kim Minji"]
    view = api.get("agent", f"/api/v1/customers/{found[0]['id']}").json()  # type: ignore[attr-defined]
    assert view["customer"]["name"] == "Kim Minji" and [i["id"] for i in view["items"]] == [api.item_id]
    assert api.get("agent", "/api/v1/customers/999999").status_code == 404  # type: ignore[attr-defined]


def test_topics_alerts_and_the_weekly_report_read_as_json(api: Api) -> None:
    topics = api.get("product", "/api/v1/topics").json()["items"]  # type: ignore[attr-defined]
    assert "delivery" in [t["key"] for t in topics]
    assert api.get("product", "/api/v1/alerts").json() == {"items": []}  # type: ignore[attr-defined]
    report = api.get("product", "/api/v1/reports/2026-W47").json()  # type: ignore[attr-defined]
    assert report["week"] == "2026-W47" and report["url"].endswith("/reports?week=2026-W47")
    assert report["sentiment"] == {"negative": 1}
    latest = api.get("product", "/api/v1/reports/latest").json()  # type: ignore[attr-defined]
    assert latest["week"] == "2026-W46"  # the clock's Monday: the last complete week is the one before
    bad = api.get("product", "/api/v1/reports/week-9")
    assert bad.status_code == 422 and "not an ISO week" in bad.json()["message"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("suffix", "media"), [("atom", "application/atom+xml"), ("json", "application/feed+json")])
def test_a_feed_answers_304_to_its_own_etag_until_it_changes(api: Api, seed_post, suffix: str, media: str) -> None:
    path = f"/api/v1/feeds/delivery.{suffix}"
    first = api.get("product", path)
    assert first.status_code == 200 and first.headers["content-type"].startswith(media)  # type: ignore[attr-defined]
    assert "my order never arrived" in first.text  # type: ignore[attr-defined]
    etag = first.headers["etag"]  # type: ignore[attr-defined]
    same = api.get("product", path, headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == etag  # type: ignore[attr-defined]
    assert api.get("product", path, headers={"If-None-Match": '"other"'}).status_code == 200  # type: ignore[attr-defined]
    seed_post("still no parcel after two weeks", risk=0.5)
    api.session.commit()
    changed = api.get("product", path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag  # type: ignore[attr-defined]
    assert api.get("product", "/api/v1/feeds/nosuchtopic.json").status_code == 404  # type: ignore[attr-defined]


def test_each_action_is_audited_once_as_the_token_s_owner(api: Api) -> None:
    steps = [
        ("POST", "/api/v1/items/{item}/claim", None, "queue.claim"),
        ("POST", "/api/v1/items/{item}/reply", {"text": "Sorry, we are on it."}, "reply.submit"),
        ("POST", "/api/v1/items/{item}/labels", {"sentiment": "neutral", "topic": "billing"}, "queue.label"),
        ("POST", "/api/v1/links/{link}/decision", {"decision": "confirm"}, "identity.confirm"),
    ]
    for method, path, body, action in steps:
        before = api.last_event_id()
        response = call(api, "agent", method, path, body)
        assert response.status_code == 200, response.json()
        assert api.events_after(before) == [("agent1", action)]
    with Session(api.engine) as session:
        item = session.get(QueueItem, api.item_id)
        assert item is not None and item.assignee_id == api.staff["agent"].id
        assert (item.sentiment, item.topic) == ("neutral", "billing")
        reply = session.exec(select(Reply)).one()
        assert reply.status == "pending_approval" and reply.author_staff_id == api.staff["agent"].id  # risk 0.9
        assert len(session.exec(select(LabelFeedback)).all()) == 2
        assert session.get(IdentityLink, api.link_id).status == "applied"  # type: ignore[union-attr]
    busy = call(api, "lead", "POST", "/api/v1/items/{item}/claim")
    assert busy.status_code == 409 and busy.json()["error"] == "conflict"


def test_closing_as_spam_and_a_second_close_is_a_conflict(api: Api) -> None:
    before = api.last_event_id()
    spam = call(api, "agent", "POST", "/api/v1/items/{item}/close", {"spam": True})
    assert spam.status_code == 200 and spam.json()["status"] == "spam"
    assert [actor for actor, _ in api.events_after(before)] == ["agent1"]
    again = call(api, "agent", "POST", "/api/v1/items/{item}/close")
    assert again.status_code == 409


def test_the_same_actions_from_the_dashboard_s_function_and_the_api_audit_alike(api: Api) -> None:
    # The dashboard calls assignment.claim through dashboard.context.act; the API calls it too.
    agent = api.session.get(Staff, api.staff["agent"].id)
    before = api.last_event_id()
    assignment.claim(api.item_id, actor=agent, session=api.session)  # type: ignore[arg-type]
    api.session.commit()
    direct = api.events_after(before)
    release = call(api, "agent", "POST", "/api/v1/items/{item}/release")
    assert release.status_code == 200
    before = api.last_event_id()
    call(api, "agent", "POST", "/api/v1/items/{item}/claim")
    assert api.events_after(before) == direct == [("agent1", "queue.claim")]


def test_a_label_must_be_a_known_topic_and_sentiment(api: Api) -> None:
    topic = call(api, "agent", "POST", "/api/v1/items/{item}/labels", {"topic": "weather"})
    assert topic.status_code == 422 and "unknown topic 'weather'" in topic.json()["message"]
    sentiment = call(api, "agent", "POST", "/api/v1/items/{item}/labels", {"sentiment": "angry"})
    assert sentiment.status_code == 422 and "sentiment" in sentiment.json()["message"]


def test_the_crm_upsert_is_idempotent_by_external_id(api: Api) -> None:
    path = "/api/v1/customers/by-external-id/crm-1"
    before = api.last_event_id()
    created = call(api, "admin", "PUT", path, CUSTOMER)
    assert created.status_code == 201 and created.json()["outcome"] == "created"
    assert created.json()["customer"]["email"] == "jiwoo@example.com"  # the CSV import's normalising
    again = call(api, "admin", "PUT", path, CUSTOMER)
    assert again.status_code == 200 and again.json()["outcome"] == "unchanged"
    assert again.json()["customer"]["id"] == created.json()["customer"]["id"]
    changed = call(api, "admin", "PUT", path, {**CUSTOMER, "tier": "vip"})
    assert changed.json()["outcome"] == "updated" and changed.json()["customer"]["tier"] == "vip"
    assert api.events_after(before) == [("admin1", "customer.import_created"), ("admin1", "customer.import_updated")]
    with Session(api.engine) as session:
        assert len(session.exec(select(Customer).where(Customer.external_ref == "crm-1")).all()) == 1
        customer_id = created.json()["customer"]["id"]
    view = api.get("admin", f"/api/v1/customers/{customer_id}").json()  # type: ignore[attr-defined]
    assert view["handles"] == [{"platform": "x", "handle": "jiwoo"}] and view["orders"] == ["A-100"]
    bad = call(api, "admin", "PUT", path, {**CUSTOMER, "tier": "platinum"})
    assert bad.status_code == 422 and "unknown tier 'platinum'" in bad.json()["message"]
    platform = call(api, "admin", "PUT", path, {**CUSTOMER, "handles": {"myspace": "jiwoo"}})
    assert platform.status_code == 422 and "unknown handle platform(s) myspace" in platform.json()["message"]


def test_each_worker_process_builds_the_api_on_the_config_file_serve_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dangol.cli.api import CONFIG_ENV, app_from_config
    from tests.conftest import REPO

    url = f"sqlite:///{tmp_path}/workers.db"
    config = tmp_path / "config.toml"
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    config.write_text(text.replace("rate_limit_per_minute = 120", "rate_limit_per_minute = 7"), encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(config))
    monkeypatch.setenv("DANGOL_DATABASE_URL", url)
    context = app_from_config().state.api
    assert context.settings.database.url == url and context.limiter.per_minute == 7
    context.engine.dispose()


@pytest.mark.parametrize(
    ("method", "path", "body", "refused"),
    [
        ("GET", "/api/v1/customers?q=Kim%00", None, "query parameter 'q'"),
        ("GET", "/api/v1/queue?topic=%00&team=cs", None, "query parameter 'topic'"),
        ("GET", "/api/v1/feeds/deli%00very.json", None, "the path"),
        ("PUT", "/api/v1/customers/by-external-id/crm%00-1", CUSTOMER, "the path"),
        # Not UTF-8 (a lone surrogate, a stray byte): read with replacement characters, no NUL, no error.
        ("GET", "/api/v1/customers?q=%ED%A0%80%FF", None, None),
    ],
)
def test_a_nul_in_the_path_or_a_query_is_refused_not_a_server_error(api: Api, method, path, body, refused) -> None:
    """PostgreSQL refuses NUL in a bound value: a search for "Kim%00" was a 500 there."""
    before = api.last_event_id()
    response = api.client.request(method, path, json=body, headers=api.auth("admin"))
    if refused is None:
        assert response.status_code == 200, response.json()
    else:
        assert response.status_code == 422, response.json()
        message = f"{refused} contains a NUL character (%00); remove it"
        assert response.json() == {"error": "invalid", "message": message}
        assert api.events_after(before) == []


def test_a_customer_record_with_a_nul_character_is_refused(api: Api) -> None:
    response = call(api, "admin", "PUT", "/api/v1/customers/by-external-id/crm-9", {**CUSTOMER, "name": "Lee\x00"})
    assert response.status_code == 422, response.json()
    assert response.json() == {"error": "invalid", "message": "column 'name' holds a NUL character; remove it"}


def test_a_reply_with_a_nul_character_is_refused_and_nothing_is_kept(api: Api) -> None:
    before = api.last_event_id()
    response = call(api, "admin", "POST", "/api/v1/items/{item}/reply", {"text": "Sorry\x00, we will fix it"})
    assert response.status_code == 422, response.json()
    assert response.json() == {"error": "invalid", "message": "the reply holds a NUL character; remove it"}
    assert api.session.exec(select(Reply)).all() == [] and api.events_after(before) == []


def test_a_customer_record_with_a_field_too_long_for_a_customer_is_refused(api: Api) -> None:
    # 9,000 characters of e-mail were a 500 on PostgreSQL: an index entry that large is refused.
    body = {**CUSTOMER, "email": "x" * 9_000 + "@example.com"}
    response = call(api, "admin", "PUT", "/api/v1/customers/by-external-id/crm-9", body)
    assert response.status_code == 422, response.json()
    message = "column 'email' is 9,012 characters long; a customer field holds at most 500"
    assert response.json() == {"error": "invalid", "message": message}


class ScriptedPlatform:
    """The platform's side of sending: it has no earlier copy and takes the reply. (Each real
    sender's own calls are tested against a loopback server in tests/responder.)"""

    dry_run = False

    def __init__(self) -> None:
        self.calls: list[str] = []

    def send(self, target: Any, text: str) -> Any:
        from responder.senders.base import Sent

        self.calls.append("send")
        return Sent(external_id="1900")

    def find_existing(self, target: Any, text: str) -> str | None:
        self.calls.append("find_existing")
        return None


def test_a_reply_the_platform_refused_is_sent_again_after_asking_for_an_earlier_copy(api: Api, monkeypatch) -> None:
    from dangol.core.types import utcnow

    platform = ScriptedPlatform()
    monkeypatch.setattr("responder.sending.sender_for", lambda *_: platform)
    api.settings.responder.send = True
    failed = Reply(
        queue_item_id=api.item_id, post_id=api.post_id, author_staff_id=api.staff["agent"].id, text="Sorry, on it.",
        status="failed", error="X refused the reply: 503", idempotency_key="k1", created_at=utcnow(), dry_run=False,
    )  # fmt: skip
    api.session.add(failed)
    api.session.commit()
    assert call(api, "product", "POST", f"/api/v1/replies/{failed.id}/send").status_code == 403
    assert platform.calls == []
    before = api.last_event_id()
    response = call(api, "agent", "POST", f"/api/v1/replies/{failed.id}/send")
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["external_id"]) == ("sent", "1900")
    assert platform.calls == ["find_existing", "send"]
    assert [action for _, action in api.events_after(before)] == ["reply.sending", "reply.sent", "queue.replied"]
    again = call(api, "agent", "POST", f"/api/v1/replies/{failed.id}/send")  # already sent: returned as is
    assert again.status_code == 200 and platform.calls == ["find_existing", "send"]


HUGE = 99_999_999_999_999_999_999  # beyond any 32-bit (and 64-bit) id column


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/api/v1/items/{HUGE}"),
        ("GET", f"/api/v1/customers/{HUGE}"),
        ("GET", f"/api/v1/queue?customer_id={HUGE}"),
        ("GET", f"/api/v1/queue?page={HUGE}"),
        ("GET", f"/api/v1/queue?priority={HUGE}"),
        ("POST", f"/api/v1/items/{HUGE}/claim"),
        ("POST", f"/api/v1/items/{2**31}/close"),
        ("POST", f"/api/v1/replies/{HUGE}/send"),
        ("POST", f"/api/v1/links/{HUGE}/decision"),
    ],
)
def test_a_number_too_large_for_any_id_is_refused_as_invalid_not_a_server_error(api: Api, method, path) -> None:
    # Each was a 500: the database refused the bound value ("integer out of range" on PostgreSQL,
    # OverflowError on SQLite).
    before = api.last_event_id()
    response = api.client.request(method, path, json={"decision": "reject"}, headers=api.auth("admin"))
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid" and "less than or equal to" in response.json()["message"]
    assert api.events_after(before) == []


def test_a_reply_the_platform_refuses_is_a_502_naming_the_kept_reply_and_how_to_send_it_again(
    api: Api, monkeypatch
) -> None:
    from dangol.core.errors import SendError

    class Down(ScriptedPlatform):
        def send(self, target: Any, text: str) -> Any:
            raise SendError("X refused the reply: 503 Service Unavailable")

    monkeypatch.setattr("responder.sending.sender_for", lambda *_: Down())
    api.settings.responder.send = True
    api.settings.responder.approval_risk = 1.0  # the fixture's complaint (risk 0.9) goes straight out
    response = call(api, "agent", "POST", "/api/v1/items/{item}/reply", {"text": "Sorry, on it."})
    assert response.status_code == 502, response.json()
    with Session(api.engine) as session:
        kept = session.exec(select(Reply)).one()
    assert kept.status == "failed"
    assert response.json() == {
        "error": "send_failed",
        "message": f"X refused the reply: 503 Service Unavailable (reply {kept.id} is kept as not sent: "
        f"POST /api/v1/replies/{kept.id}/send sends it again)",
    }


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("status=new,asigned", "unknown status 'asigned'; valid: new, assigned, in_progress, pending_approval"),
        ("platform=twitter", "unknown platform 'twitter'; valid: x, reddit, mastodon"),
        ("sentiment=angry", "unknown sentiment 'angry'; valid: negative, neutral, positive"),
        ("sla=late", "unknown SLA state 'late'; valid: ok, warning, breached"),
    ],
)
def test_a_filter_word_out_of_its_vocabulary_is_refused_not_an_empty_queue(api: Api, query, said) -> None:
    # "status=asigned" answered 200 with no items: a typo read as "no work waiting".
    response = api.get("agent", f"/api/v1/queue?{query}")
    assert response.status_code == 422, response.json()  # type: ignore[attr-defined]
    assert response.json()["message"].startswith(said)  # type: ignore[attr-defined]
