"""A post deleted on its platform loses its words everywhere they are kept; the re-check asks
about posts never asked about first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from dangol.core.types import Page, PostIn
from storage import deletions, ingest
from storage.models import Alert, Analysis, AuditEvent, Post

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def store(session: Session, posts: list[PostIn], *, source: str = "s") -> dict[str, Post]:
    row = ingest.get_or_create_source(session, name=source, use="x")
    ingest.store_page(session, source=row, page=Page(posts, {}))
    session.commit()
    return {p.external_id: p for p in session.execute(select(Post)).scalars()}


def analyse(session: Session, post: Post) -> None:
    session.add(Analysis(post_id=post.id, language="en", sentiment="negative", embedding=b"\x00" * 16))


def quoting_alert(posts: list[Post]) -> Alert:
    quotes = [{"post_id": p.id, "text": p.text, "handle": "someone", "platform": p.platform} for p in posts]
    return Alert(
        kind="volume",
        scope="topic:delivery",
        started_at=NOW - timedelta(days=2),
        ended_at=NOW,
        explanation={"summary": "spike", "posts": quotes, "authors": [{"handle": "someone", "posts": 2}]},
    )


def test_a_deleted_post_loses_text_payload_embedding_and_its_quote_in_alerts(
    session: Session, make_post: Callable[..., PostIn]
) -> None:
    gone, kept = make_post(created_at=NOW - timedelta(days=1), title="A title"), make_post(created_at=NOW)
    rows = store(session, [gone, kept])
    for post in rows.values():
        analyse(session, post)
    session.add(quoting_alert(list(rows.values())))
    session.commit()

    removed = deletions.clear_deleted(session, [("x", gone.external_id)], NOW)
    session.commit()
    session.expire_all()

    assert removed == [(rows[gone.external_id].id, "x", gone.external_id)]
    cleared = session.get(Post, rows[gone.external_id].id)
    assert (cleared.text, cleared.title, cleared.raw, cleared.deleted_at) == ("", None, None, NOW)
    left = session.get(Post, rows[kept.external_id].id)
    assert (left.text, left.deleted_at) == (kept.text, None) and left.raw
    embeddings = dict(session.execute(select(Analysis.post_id, Analysis.embedding)).all())
    assert embeddings == {cleared.id: None, left.id: b"\x00" * 16}
    alert = session.execute(select(Alert)).scalar_one()
    assert [q["post_id"] for q in alert.explanation["posts"]] == [left.id]
    assert alert.explanation["summary"] == "spike"
    assert deletions.clear_deleted(session, [("x", gone.external_id)], NOW) == []  # once only


def test_an_alert_whose_window_did_not_hold_the_post_is_not_rewritten(
    session: Session, make_post: Callable[..., PostIn]
) -> None:
    rows = store(session, [make_post(created_at=NOW - timedelta(days=30))])
    (post,) = rows.values()
    alert = quoting_alert([post])  # a quote an alert of another window cannot hold: left alone
    session.add(alert)
    session.commit()
    deletions.clear_deleted(session, [("x", post.external_id)], NOW)
    session.commit()
    assert len(session.execute(select(Alert)).scalar_one().explanation["posts"]) == 1


def test_a_post_a_page_lists_as_deleted_also_loses_its_embedding(
    session: Session, make_post: Callable[..., PostIn]
) -> None:
    post = make_post()
    rows = store(session, [post])
    analyse(session, rows[post.external_id])
    session.commit()
    source = ingest.get_or_create_source(session, name="s", use="x")
    deleted = make_post(external_id=post.external_id, deleted=True)
    assert ingest.store_page(session, source=source, page=Page([deleted], {})).deleted == 1
    session.commit()
    assert session.execute(select(Analysis.embedding)).scalar_one() is None


def test_removals_upstream_are_audited_with_the_platform_id_and_no_text(
    session: Session, make_post: Callable[..., PostIn]
) -> None:
    post = make_post(text="my order never came")
    rows = store(session, [post])
    count = deletions.remove_deleted_upstream(
        session=session,
        platform="x",
        external_ids=[post.external_id, "never-stored"],
        source="s",
        actor="system:t",
        now=NOW,
    )
    session.commit()
    assert count == 1
    event = session.execute(select(AuditEvent)).scalar_one()
    assert (event.actor, event.action, event.entity_type, event.entity_id) == (
        "system:t",
        "post.deleted_upstream",
        "post",
        str(rows[post.external_id].id),
    )
    assert event.after == {"platform": "x", "external_id": post.external_id, "source": "s"}
    assert "order" not in str(event.before) + str(event.after)


def test_posts_never_asked_about_come_first_then_those_asked_longest_ago(
    session: Session, make_post: Callable[..., PostIn]
) -> None:
    old, mid, new = (make_post(created_at=NOW - timedelta(days=d)) for d in (3, 2, 1))
    too_old = make_post(created_at=NOW - timedelta(days=9))
    rows = store(session, [new, mid, old, too_old])
    store(session, [make_post(created_at=NOW)], source="other")
    since = NOW - timedelta(days=7)
    source_id = rows[old.external_id].source_id

    first = deletions.posts_to_recheck(session=session, source_id=source_id, since=since, limit=2)
    assert first == [old.external_id, mid.external_id]
    deletions.mark_rechecked(session=session, platform="x", external_ids=first, now=NOW)
    session.commit()
    assert deletions.posts_to_recheck(session=session, source_id=source_id, since=since, limit=2) == [
        new.external_id,
        old.external_id,
    ]
    deletions.clear_deleted(session, [("x", new.external_id)], NOW)
    session.commit()
    everything = deletions.posts_to_recheck(session=session, source_id=source_id, since=since, limit=10)
    assert sorted(everything) == sorted([old.external_id, mid.external_id])  # deleted and too old: never
