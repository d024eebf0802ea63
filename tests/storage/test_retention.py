from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlmodel import Session

from dangol.core.settings import RetentionSettings
from dangol.core.types import Page, PostIn, utcnow
from storage.ingest import get_or_create_source, store_page
from storage.models import AuditEvent, Post
from storage.retention import purge_expired


def test_expired_raw_payloads_and_texts_are_cleared_and_fresh_ones_kept(
    session: Session, make_post: Callable[..., PostIn]
) -> None:
    now = utcnow()
    old = make_post(created_at=now - timedelta(days=400), text="old complaint")
    recent = make_post(created_at=now - timedelta(days=40), text="recent complaint")
    fresh = make_post(created_at=now - timedelta(days=1), text="fresh complaint")
    store_page(
        session, source=get_or_create_source(session, name="s", use="replay"), page=Page([old, recent, fresh], {})
    )
    session.add(AuditEvent(at=now - timedelta(days=800), actor="a", action="x", entity_type="t", entity_id="1"))
    session.add(AuditEvent(at=now, actor="a", action="x", entity_type="t", entity_id="2"))
    session.commit()

    result = purge_expired(session=session, retention=RetentionSettings(), now=now)
    session.commit()

    posts = {p.external_id: p for p in session.execute(select(Post)).scalars()}
    assert (posts[old.external_id].raw, posts[old.external_id].text) == (None, "")
    assert posts[recent.external_id].raw is None and posts[recent.external_id].text == "recent complaint"
    assert posts[fresh.external_id].raw is not None
    assert (result.raw_payloads, result.post_texts, result.audit_events) == (2, 1, 1)
    again = purge_expired(session=session, retention=RetentionSettings(), now=now).as_dict()
    assert set(again.values()) == {0} and {"raw_payloads", "post_texts", "embeddings", "audit_events"} <= set(again)


def test_retention_reaches_dead_letters_replies_notes_alerts_and_idle_profiles(session: Session) -> None:
    from storage.models import Alert, Author, DeadLetter, Note, QueueItem, Reply

    now = utcnow()
    old, new = now - timedelta(days=400), now - timedelta(days=1)
    idle = Author(platform="x", platform_id="1", handle="idle", display_name="Idle Person", bio="bio", last_seen_at=old)
    active = Author(platform="x", platform_id="2", handle="active", display_name="Active", last_seen_at=new)
    session.add_all([idle, active])
    session.flush()
    post = Post(platform="x", external_id="1", author_id=idle.id, text="t", created_at=old, collected_at=old)
    session.add(post)
    session.flush()
    item = QueueItem(post_id=post.id, cluster_key="c", created_at=old)
    session.add(item)
    session.flush()
    session.add_all([
        DeadLetter(platform="x", reason="r", raw="old raw", created_at=old),
        DeadLetter(platform="x", reason="r", raw="new raw", created_at=new),
        Reply(queue_item_id=item.id, post_id=post.id, text="Hi Idle", idempotency_key="k1", created_at=old),
        Reply(queue_item_id=item.id, post_id=post.id, text="Hi again", idempotency_key="k2", created_at=new),
        Note(queue_item_id=item.id, text="called Idle at home", created_at=old),
        Alert(kind="volume", scope="topic:app", started_at=old, explanation={
            "summary": "s", "posts": [{"handle": "idle", "text": "t"}], "authors": [{"handle": "idle"}]}),
    ])  # fmt: skip
    session.commit()
    result = purge_expired(session=session, retention=RetentionSettings(), now=now)
    session.commit()
    assert [d.raw for d in session.execute(select(DeadLetter)).scalars()] == ["new raw"]
    assert sorted(r.text for r in session.execute(select(Reply)).scalars()) == ["", "Hi again"]
    assert [n.text for n in session.execute(select(Note)).scalars()] == [""]
    alert = session.execute(select(Alert)).scalar_one()
    assert alert.explanation == {"summary": "s", "posts": [], "authors": []}
    profiles = {a.handle: (a.display_name, a.bio) for a in session.execute(select(Author)).scalars()}
    assert profiles == {"idle": ("", None), "active": ("Active", None)}
    assert (result.dead_letters, result.replies, result.notes, result.author_profiles, result.alert_explanations) == (
        1, 1, 1, 1, 1,
    )  # fmt: skip


def test_notifications_and_their_deliveries_go_with_post_texts(session: Session) -> None:
    from storage.models import Notification, NotificationDelivery, Staff
    from storage.notifications import notify

    now = utcnow()
    lee = Staff(username="lee", email="lee@example.com")
    session.add(lee)
    session.flush()
    for n, at in enumerate((now - timedelta(days=400), now - timedelta(days=1))):
        notify([lee], session=session, kind="alert", subject=f"alert:{n}", event="raised", text="spike", now=at)
    session.commit()
    assert purge_expired(session=session, retention=RetentionSettings(), now=now).notifications == 1
    session.commit()
    kept = session.execute(select(Notification)).scalars().all()
    assert [n.subject for n in kept] == ["alert:1"]
    assert [d.notification_id for d in session.execute(select(NotificationDelivery)).scalars()] == [kept[0].id]
