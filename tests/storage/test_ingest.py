import json
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol.core.types import DeadLetterIn, Page, PostIn
from storage.engine import session_scope
from storage.ingest import get_or_create_source, store_page
from storage.models import Author, DeadLetter, Post, Source


def count(session: Session, table: type) -> int:
    return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def test_page_and_cursor_are_stored_together(session: Session, make_post: Callable[..., PostIn]) -> None:
    source = get_or_create_source(session, name="demo", use="replay")
    result = store_page(session, source=source, page=Page(posts=[make_post(), make_post()], cursor={"since_id": "9"}))
    session.commit()
    assert result.new_posts == 2
    assert session.exec(select(Source.cursor)).scalar_one() == {"since_id": "9"}  # type: ignore[call-overload]
    assert count(session, Post) == 2


def test_a_source_row_read_earlier_stores_the_cursor_and_adds_to_the_count_stored_since(
    engine: Engine, make_post: Callable[..., PostIn]
) -> None:
    # The pipeline reads the source once per run and stores each page in its own session with it.
    with session_scope(engine) as session:
        source = get_or_create_source(session, name="demo", use="replay")
    with session_scope(engine) as session:
        get_or_create_source(session, name="demo", use="replay").posts_collected = 5
    with session_scope(engine) as session:
        store_page(session, source=source, page=Page(posts=[make_post(), make_post()], cursor={"page": 2}))
    with session_scope(engine) as session:
        stored = get_or_create_source(session, name="demo", use="replay")
        assert (stored.cursor, stored.posts_collected) == ({"page": 2}, 7)
    assert (source.cursor, source.posts_collected) == ({"page": 2}, 7)


def test_storing_the_same_page_twice_never_duplicates_a_post(
    session: Session, make_post: Callable[..., PostIn]
) -> None:
    source = get_or_create_source(session, name="demo", use="replay")
    posts = [make_post(), make_post()]
    store_page(session, source=source, page=Page(posts=posts, cursor={"page": 1}))
    again = store_page(session, source=source, page=Page(posts=posts, cursor={"page": 1}))
    session.commit()
    assert (again.new_posts, again.duplicates) == (0, 2)
    assert count(session, Post) == 2
    assert source.posts_collected == 2


def test_known_author_is_refreshed_not_duplicated(session: Session, make_post: Callable[..., PostIn]) -> None:
    source = get_or_create_source(session, name="demo", use="replay")
    first = make_post(handle="maru_fan", followers=10)
    second = make_post(author=first.author.__class__(**{**_fields(first.author), "followers": 99}))
    store_page(session, source=source, page=Page(posts=[first], cursor={}))
    store_page(session, source=source, page=Page(posts=[second], cursor={}))
    session.commit()
    authors = session.exec(select(Author)).scalars().all()  # type: ignore[call-overload]
    assert len(authors) == 1
    assert authors[0].followers == 99


def test_dead_letters_keep_reason_and_raw_record(session: Session, make_post: Callable[..., PostIn]) -> None:
    source = get_or_create_source(session, name="demo", use="replay")
    page = Page(posts=[make_post()], cursor={}, dead_letters=[DeadLetterIn("x", "missing id", {"text": "hi"})])
    store_page(session, source=source, page=page)
    session.commit()
    letter = session.exec(select(DeadLetter)).scalars().one()  # type: ignore[call-overload]
    assert (letter.reason, json.loads(letter.raw), letter.source_name) == ("missing id", {"text": "hi"}, "demo")
    assert count(session, Post) == 1


def test_times_come_back_timezone_aware_utc(session: Session, make_post: Callable[..., PostIn]) -> None:
    post = make_post()
    source = get_or_create_source(session, name="demo", use="replay")
    store_page(session, source=source, page=Page(posts=[post], cursor={}))
    session.commit()
    stored = session.exec(select(Post)).scalars().one()  # type: ignore[call-overload]
    assert stored.created_at == post.created_at
    assert stored.created_at.utcoffset().total_seconds() == 0


def _fields(author: object) -> dict:
    return {name: getattr(author, name) for name in author.__slots__}  # type: ignore[attr-defined]


def test_every_field_comes_back_as_stored_and_new_ids_name_their_own_rows(
    session: Session, make_post: Callable[..., PostIn]
) -> None:
    # PostgreSQL sends each column as one array (storage.bulk): values of every type, None among
    # them, must come back unchanged, and the ids handed back must be the rows' own.
    source = get_or_create_source(session, name="demo", use="replay")
    known = make_post(text="first")
    store_page(session, source=source, page=Page(posts=[known], cursor={}))
    review = make_post(
        platform="googleplay",
        text="로그인이 안 돼요 \U0001f62d",
        title=None,
        url="https://play.example/r/1",
        metrics={"rating": 2, "likes": 3, "big": 2**30},
        raw={"reviewId": "gp1", "content": "로그인이 안 돼요"},
        is_reply=True,
        reply_to_id="gp0",
    )
    plain = make_post(text="a\x00b", title="Title", metrics={})
    result = store_page(session, source=source, page=Page(posts=[known, review, plain], cursor={}))
    session.commit()
    assert (result.new_posts, result.duplicates) == (2, 1)
    rows = {p.external_id: p for p in session.exec(select(Post)).scalars()}  # type: ignore[call-overload]
    stored = rows[review.external_id]
    assert (stored.platform, stored.text, stored.title, stored.url) == (
        "googleplay",
        "로그인이 안 돼요 \U0001f62d",
        None,
        "https://play.example/r/1",
    )
    assert stored.metrics == {"rating": 2, "likes": 3, "big": 2**30}
    assert (stored.is_reply, stored.reply_to_id, stored.is_retweet, stored.analyzed) == (True, "gp0", False, False)
    assert stored.created_at == review.created_at
    assert rows[plain.external_id].text == "ab" and rows[plain.external_id].title == "Title"
    authors = {a.id: a.platform_id for a in session.exec(select(Author)).scalars()}  # type: ignore[call-overload]
    for post in (known, review, plain):
        assert authors[rows[post.external_id].author_id] == post.author.platform_id


def test_two_workers_storing_pages_of_the_same_authors_in_opposite_orders_never_deadlock(postgres_url: str) -> None:
    # Two sources finding the same customers, their pages stored at the same moment by two workers:
    # written in each page's own order, PostgreSQL rolled back one of the two in most rounds.
    import threading
    from datetime import UTC, datetime

    from sqlalchemy.exc import DBAPIError

    from dangol.core.types import AuthorIn
    from storage.engine import make_engine

    engine = make_engine(postgres_url)
    with session_scope(engine) as session:
        for name in ("a", "b"):
            get_or_create_source(session, name=name, use="replay")
    authors = [AuthorIn(platform="x", platform_id=f"u{i}", handle=f"h{i}") for i in range(300)]
    rounds, barrier, errors = 12, threading.Barrier(2, timeout=60), []

    def store(name: str, reverse: bool) -> None:
        order = authors[::-1] if reverse else authors
        for r in range(rounds):
            posts = [
                PostIn(platform="x", external_id=f"{name}-{r}-{i}", author=a, text="t", created_at=datetime.now(UTC))
                for i, a in enumerate(order)
            ]
            barrier.wait()
            try:
                with session_scope(engine) as session:
                    source = get_or_create_source(session, name=name, use="replay")
                    store_page(session, source=source, page=Page(posts=posts, cursor={"round": r}))
            except DBAPIError as exc:
                errors.append(type(exc.orig).__name__)

    workers = [threading.Thread(target=store, args=(name, name == "b")) for name in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    with Session(engine) as session:
        stored = (count(session, Post), count(session, Author))
    engine.dispose()
    assert errors == []
    assert stored == (2 * rounds * 300, 300)


def test_the_erased_posts_check_is_planned_with_each_pages_values_on_postgresql(
    postgres_url: str, make_post: Callable[..., PostIn]
) -> None:
    # psycopg prepares what runs five times and the server keeps one plan for it: planned while the
    # table was nearly empty, the check read every stored post of the platform on each later page.
    from sqlalchemy import text

    from storage.engine import make_engine

    engine = make_engine(postgres_url)
    with session_scope(engine) as session:
        source = get_or_create_source(session, name="a", use="replay")
        for page in range(12):
            posts = [make_post(external_id=f"{page}-{i}") for i in range(5)]
            store_page(session, source=source, page=Page(posts=posts, cursor={"page": page}))
        prepared = session.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
        stored = count(session, Post)
    engine.dispose()
    assert stored == 60
    # The per-page INSERT was prepared on this connection (so the view shows its statements) …
    assert any('INSERT INTO "post"' in statement for statement in prepared)
    # … and the erased-posts check never was.
    assert not any("ANY" in statement for statement in prepared)
