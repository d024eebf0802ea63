"""Privacy requests: a customer's export holds their data with other people's masked; erasure
clears every personal field, keeps the rows others point at, and audits itself without personal data."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session
from typer.testing import CliRunner

from dangol.cli import app
from dangol.core.errors import NotFound
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import (
    AuditEvent,
    Author,
    Customer,
    CustomerHandle,
    CustomerOrder,
    IdentityLink,
    Post,
    QueueItem,
    Reply,
    Staff,
)
from storage.privacy import erase_customer, erased_key, export_customer
from tests.conftest import REPO

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
SECRETS_OF_KIM = ("Kim Minji", "kim@example.com", "010-1234-5678", "kim_m", "Busan bakery lover", "A-9911")


def _world(session: Session) -> int:
    """Kim (customer) with a confirmed author, one post, a queue item and a reply; Lee only proposed."""
    kim = Customer(name="Kim Minji", email="kim@example.com", phone="010-1234-5678", tier="vip", created_at=NOW)
    session.add(kim)
    session.flush()
    session.add_all([CustomerHandle(customer_id=kim.id, platform="x", handle="kim_m"),
                     CustomerOrder(customer_id=kim.id, order_number="A-9911")])  # fmt: skip
    mine = Author(platform="x", platform_id="1", handle="kim_m", display_name="Kim Minji", bio="Busan bakery lover")
    lee = Author(platform="x", platform_id="2", handle="lee_j", display_name="Lee J")
    session.add_all([mine, lee])
    session.flush()
    text = "order A-9911 late; mail me kim@example.com or my friend lee@example.org, 010-9999-8888, 900101-1234567"
    post = Post(platform="x", external_id="10", author_id=mine.id, text=text, raw='{"id": "10"}',
                created_at=NOW, collected_at=NOW)  # fmt: skip
    other = Post(platform="x", external_id="11", author_id=lee.id, text="Lee's own words", created_at=NOW,
                 collected_at=NOW)  # fmt: skip
    session.add_all([post, other])
    session.flush()
    session.add_all([
        IdentityLink(author_id=mine.id, customer_id=kim.id, method="handle", confidence=1.0, status="applied"),
        IdentityLink(author_id=lee.id, customer_id=kim.id, method="fuzzy_name", confidence=0.5, status="proposed"),
    ])  # fmt: skip
    item = QueueItem(post_id=post.id, cluster_key="c10", customer_id=kim.id, created_at=NOW)
    session.add(item)
    session.flush()
    session.add(Reply(queue_item_id=item.id, post_id=post.id, text="Sorry Kim Minji, we call 010-1234-5678",
                      idempotency_key="r1", status="sent"))  # fmt: skip
    session.add(AuditEvent(at=NOW, actor="amy", action="reply.edit", entity_type="queue_item",
                           entity_id=str(item.id), after={"text": "Sorry Kim Minji"}))  # fmt: skip
    session.flush()
    return kim.id  # type: ignore[return-value]


def test_export_holds_the_customers_data_and_masks_other_peoples_contacts(session):
    kim = _world(session)
    data = export_customer(kim, session=session)
    json.dumps(data)  # JSON-able as it is
    assert data["customer"]["email"] == "kim@example.com"
    assert data["handles"] == [{"platform": "x", "handle": "kim_m"}] and data["orders"] == ["A-9911"]
    assert {i["handle"]: i["link_status"] for i in data["identities"]} == {"kim_m": "applied", "lee_j": "proposed"}
    [post] = data["posts"]  # the proposed link's author is not (yet) known to be Kim: not exported
    assert "kim@example.com" in post["text"]
    assert "lee@example.org" not in post["text"] and "[email]" in post["text"]
    assert "010-9999-8888" not in post["text"] and "900101-1234567" not in post["text"]
    assert [r["text"] for r in data["replies"]] == ["Sorry Kim Minji, we call 010-1234-5678"]


def test_erasure_clears_every_personal_field_and_keeps_an_audit_entry_without_them(session):
    kim = _world(session)
    counts = erase_customer(kim, session=session, actor="amy")
    session.commit()
    session.expire_all()
    assert counts == {"authors": 1, "posts": 1, "reposts": 0, "replies": 1, "links": 2}
    dump = json.dumps([_row_values(session, table) for table in (Customer, Author, Post, Reply, AuditEvent)])
    for secret in SECRETS_OF_KIM:
        assert secret not in dump, secret
    assert "Lee's own words" in dump and "lee_j" in dump  # someone else's data untouched
    customer = session.get(Customer, kim)
    assert customer.erased_at is not None and customer.name == "[erased]"
    assert session.execute(select(IdentityLink)).first() is None
    assert session.execute(select(CustomerHandle)).first() is None
    erased_post = session.execute(select(Post).where(Post.external_id == erased_key("x", "10"))).scalar_one()
    assert (erased_post.text, erased_post.raw, erased_post.deleted_at is not None) == ("", None, True)
    [event] = session.execute(select(AuditEvent).where(AuditEvent.action == "customer.erase")).scalars()
    assert (event.actor, event.entity_id, event.after) == ("amy", str(kim), counts)
    assert session.execute(select(QueueItem)).scalar_one().customer_id == kim  # history still adds up


def test_erasure_reaches_alert_explanations_and_dead_letters(session):
    from storage.models import Alert, DeadLetter

    kim = _world(session)
    explanation = {
        "summary": "App: 30 posts",
        "posts": [{"handle": "kim_m", "text": "order A-9911 late"}, {"handle": "lee_j", "text": "Lee's own words"}],
        "authors": [{"handle": "kim_m", "followers": 10}, {"handle": "lee_j", "followers": 5}],
        "note": "Kim Minji wrote first",
    }
    session.add(Alert(kind="volume", scope="topic:app", started_at=NOW, explanation=explanation))
    session.add_all([
        DeadLetter(platform="x", reason="bad date", raw='{"username": "kim_m", "text": "late"}', created_at=NOW),
        DeadLetter(platform="x", reason="bad date", raw='{"username": "lee_j", "text": "fine"}', created_at=NOW),
    ])  # fmt: skip
    session.flush()
    erase_customer(kim, session=session, actor="amy")
    session.commit()
    session.expire_all()
    dump = json.dumps([_row_values(session, table) for table in (Alert, DeadLetter)])
    for secret in SECRETS_OF_KIM:
        assert secret not in dump, secret
    assert "Lee's own words" in dump and '"lee_j"' in dump  # someone else's entries stay


def test_erasure_clears_others_reposts_of_the_customer_and_their_mentions_of_the_handle(session):
    kim = _world(session)
    lee = session.execute(select(Author).where(Author.handle == "lee_j")).scalar_one()
    said = {
        "rt": "RT @kim_m: order A-9911 late",
        "reply": "@KIM_M same here, ask @kim_mm too",
        "own": "Lee's own words",
    }
    session.add_all([
        Post(platform="x", external_id="12", author_id=lee.id, text=said["rt"], is_retweet=True, referenced_id="10",
             raw='{"text": "RT @kim_m"}', created_at=NOW, collected_at=NOW),
        Post(platform="x", external_id="13", author_id=lee.id, text=said["reply"], raw='{"mentions": ["kim_m"]}',
             created_at=NOW, collected_at=NOW),
    ])  # fmt: skip
    session.flush()
    counts = erase_customer(kim, session=session, actor="amy")
    session.commit()
    session.expire_all()
    posts = {p.external_id: p for p in session.execute(select(Post).where(Post.author_id == lee.id)).scalars()}
    assert counts["reposts"] == 1 and (posts["12"].text, posts["12"].raw, posts["12"].deleted_at is not None) == (
        "",
        None,
        True,
    )
    assert (posts["13"].text, posts["13"].raw, posts["13"].deleted_at) == (
        "@[erased] same here, ask @kim_mm too",
        None,
        None,
    )
    assert posts["11"].text == said["own"]
    assert "kim_m" not in json.dumps([_row_values(session, table) for table in (Author, Post)]).replace("kim_mm", "")


def test_export_of_an_unknown_customer_says_which_id_was_not_found(session):
    with pytest.raises(NotFound, match="no customer with id 404"):
        export_customer(404, session=session)


def test_cli_exports_to_a_file_and_erases_only_with_confirmation_and_a_known_staff_member(tmp_path: Path):
    url = f"sqlite:///{tmp_path}/privacy.db"
    config = tmp_path / "config.toml"
    config.write_text((REPO / "config.toml").read_text().replace('url = "sqlite:///var/dangol.db"', f'url = "{url}"'))
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as s:
        kim = _world(s)
        s.add(Staff(username="amy", role="admin"))
        s.commit()
    engine.dispose()
    runner, base = CliRunner(), ["--config", str(config), "customers"]
    out = tmp_path / "kim.json"
    exported = runner.invoke(app, [*base, "export", str(kim), "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert json.loads(out.read_text())["customer"]["name"] == "Kim Minji"
    refused = runner.invoke(app, [*base, "erase", str(kim), "--as", "amy"])
    assert refused.exit_code == 1 and "--yes" in refused.output
    stranger = runner.invoke(app, [*base, "erase", str(kim), "--as", "mallory", "--yes"])
    assert stranger.exit_code == 1 and "no staff member 'mallory'" in stranger.output
    erased = runner.invoke(app, [*base, "erase", str(kim), "--as", "amy", "--yes"])
    assert erased.exit_code == 0 and "erased" in erased.output
    again = runner.invoke(app, [*base, "export", str(kim)])
    assert "Kim Minji" not in again.output and '"[erased]"' in again.output
    missing = runner.invoke(app, [*base, "export", "999"])
    assert missing.exit_code == 1 and "no customer with id 999" in missing.output and "Traceback" not in missing.output


def _row_values(session: Session, table: type) -> list[dict]:
    return [
        {k: v for k, v in row.model_dump().items() if not isinstance(v, bytes | datetime)}
        for row in session.execute(select(table)).scalars()
    ]


# The second id carries an unpaired surrogate, which is stored as "?": the post listed again must
# still be recognised by its digest (it used to stop the page with a UnicodeEncodeError).
@pytest.mark.parametrize("post_id", ["https://blog.naver.com/kim_m/2241", "https://blog.naver.com/kim_m/2241\udcff"])
def test_erasure_keeps_only_digests_of_platform_ids_and_a_post_listed_again_stays_erased(session, make_post, post_id):
    # A Naver post's id is its address, and the blogger's id is the blog's: both name the person.
    from dangol.core.types import AuthorIn, Page
    from storage.ingest import get_or_create_source, store_page

    blog = AuthorIn(platform="naver", platform_id="blog.naver.com/kim_m", handle="kim_m", display_name="Kim Minji")
    post = make_post(platform="naver", external_id=post_id, author=blog, text="late")
    source = get_or_create_source(session, name="naver", use="naver")
    store_page(session, source=source, page=Page([post], {}))
    kim = Customer(name="Kim Minji", email="kim@example.com", created_at=NOW)
    session.add(kim)
    session.flush()
    author = session.execute(select(Author)).scalar_one()
    session.add(IdentityLink(author_id=author.id, customer_id=kim.id, method="handle", confidence=1.0))
    erase_customer(kim.id, session=session, actor="amy")
    session.commit()
    session.expire_all()
    assert "kim_m" not in json.dumps([_row_values(session, table) for table in (Author, Post)])
    again = store_page(session, source=source, page=Page([post], {}))
    assert again.new_posts == 0
    assert session.execute(select(Post.text)).scalars().all() == [""]
    assert session.execute(select(Author.handle)).scalars().all() == ["[erased]"]
