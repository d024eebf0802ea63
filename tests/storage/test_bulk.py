"""`storage.bulk.insert_rows`, the multi-row INSERT of `store_page` sent on the driver's cursor,
against what SQLAlchemy's own INSERT guaranteed: every value back as given (NUL and lone surrogates
made storable, backslashes, tabs, newlines and placeholder-like text kept), a refused page leaving
nothing behind, several pages in one transaction each inserting only their own rows, and more rows
than one statement binds. Each case runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from dangol.core.brands import Brand, BrandCatalog
from dangol.core.types import MAX_COUNT, AuthorIn, Page, PostIn
from storage import ingest
from storage.bulk import insert_rows
from storage.models import Author, Post, PostBrand

# What a text format reads specially (COPY's backslash escapes, tab and newline as separators, \N as
# NULL) and what PostgreSQL refuses outright (NUL, lone surrogates), in every text column.
HOSTILE = [
    "\\N",
    "back\\slash \\t \\n \\\\ \\.",
    "tab\there\nnewline\r\ncarriage\rreturn",
    "nul\x00inside",
    "lone \udcff half",
    "😀 마루 \u202eRTL\u202c\u200b\ufeff",
    "\\.\n",
    "$1 $2 ? %s %(x)s :name",  # placeholders of every style, as a value: bound, never part of the SQL
    "x" * 300_000,
]


def _post(n: int, text: str) -> PostIn:
    author = AuthorIn("mastodon", f"a{n}\t{text[:20]}", f"h{n}\\N", display_name=text[:500], bio=text, followers=10**15)
    return PostIn(
        platform="mastodon",
        external_id=f"e{n}\\N\t",
        author=author,
        text=text,
        title=text[:200] or None,
        lang_hint=None,
        created_at=datetime(2026, 12, 5, 1, 2, 3, 456789, tzinfo=UTC),
        reply_to_id="\\N",
        metrics={"likes": 10**30, "tab\tkey": 1},
        raw={"text": text, "n": 10**40},
    )


def test_hostile_values_come_back_exactly_as_given(session: Session) -> None:
    posts = [_post(n, text) for n, text in enumerate(HOSTILE)]
    source = ingest.get_or_create_source(session, name="hostile", use="replay")
    assert ingest.store_page(session, source=source, page=Page(posts, {"n": 1})).new_posts == len(HOSTILE)
    session.commit()
    for post, text in zip(posts, HOSTILE, strict=True):
        stored = session.execute(select(Post).where(Post.external_id == ingest.storable(post.external_id))).scalar_one()
        author = session.get(Author, stored.author_id)
        assert author is not None
        clean = ingest.storable(text)
        assert stored.text == clean and stored.title == (clean[:200] or None)
        assert stored.reply_to_id == "\\N" and stored.lang_hint is None and stored.url is None
        assert stored.metrics == {"likes": MAX_COUNT, "tab\tkey": 1}
        assert stored.raw == ingest.serialize_raw(post.raw)
        assert stored.created_at == datetime(2026, 12, 5, 1, 2, 3, 456789, tzinfo=UTC)
        assert (author.platform_id, author.handle) == (ingest.storable(post.author.platform_id), post.author.handle)
        assert (author.bio, author.display_name, author.followers) == (clean, clean[:500], MAX_COUNT)


def count(session: Session, table: type) -> int:
    return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_refused_page_leaves_nothing_staged_for_the_next_one(
    session: Session, make_post: Callable[..., PostIn], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_row = ingest._post_row

    def refused(post: PostIn, *args: object) -> dict[str, object]:
        row = real_row(post, *args)  # type: ignore[arg-type]
        if post.external_id == "bad":
            row["platform"] = None  # NOT NULL: refused by the table, after the page's first row went in
        return row

    monkeypatch.setattr(ingest, "_post_row", refused)
    source = ingest.get_or_create_source(session, name="s", use="replay")
    session.commit()
    with pytest.raises(IntegrityError):  # SQLAlchemy's error, as for any statement: the pipeline catches it
        ingest.store_page(session, source=source, page=Page([make_post(), make_post(external_id="bad")], {"n": 1}))
    session.rollback()
    good = [make_post(), make_post()]
    assert ingest.store_page(session, source=source, page=Page(good, {"n": 2})).new_posts == 2
    session.commit()
    assert sorted(session.execute(select(Post.external_id)).scalars()) == sorted(p.external_id for p in good)
    assert count(session, Author) == 2


def test_pages_in_one_transaction_insert_only_their_own_rows(
    session: Session, make_post: Callable[..., PostIn]
) -> None:
    """As `store_page_record_by_record` does: several store_page calls, savepoints, one commit."""
    source = ingest.get_or_create_source(session, name="s", use="replay")
    first = [make_post(text="maru dry cleaning"), make_post()]
    second = [make_post(author=first[0].author, followers=5), make_post(text="maru again")]
    brands = _brands()
    with session.begin_nested():
        one = ingest.store_page(session, source=source, page=Page(first, {"n": 1}), brands=brands)
    with session.begin_nested():
        two = ingest.store_page(session, source=source, page=Page([*second, first[1]], {"n": 2}), brands=brands)
    session.commit()
    assert (one.new_posts, two.new_posts, two.duplicates) == (2, 2, 1)
    assert count(session, Post) == 4 and count(session, Author) == 3
    tagged = session.execute(select(PostBrand.post_id).where(PostBrand.brand == "maru")).scalars()
    expected = {first[0].external_id, second[1].external_id}
    ids = select(Post.id).where(Post.external_id.in_(expected))  # type: ignore[attr-defined]
    assert sorted(tagged) == sorted(session.execute(ids).scalars())


def _brands() -> BrandCatalog:
    own = Brand("own", "Own", own=True, accounts=(), keywords=("own",))
    return BrandCatalog((own, Brand("maru", "Maru", own=False, accounts=(), keywords=("maru",))))


def test_rows_of_other_columns_for_the_same_table_are_each_stored_whole(session: Session) -> None:
    now = datetime(2026, 12, 5, tzinfo=UTC)
    fewer = {"platform": "x", "platform_id": "1", "handle": "a", "display_name": ""}
    full = {"platform": "x", "platform_id": "2", "handle": "b", "display_name": "B", "bio": "b", "first_seen_at": now}
    for row in (fewer, full):  # each its own statement: the second's columns are all written
        assert len(insert_rows(session, Author, [row], key=("platform", "platform_id"), returning=("id",))) == 1
    session.commit()
    stored = {a.platform_id: a for a in session.execute(select(Author)).scalars()}
    assert (stored["1"].bio, stored["2"].bio, stored["2"].first_seen_at) == (None, "b", now)


def test_rows_with_other_columns_in_one_call_are_refused_not_misaligned(session: Session) -> None:
    rows = [{"platform": "x", "platform_id": "1", "handle": "a"}, {"platform": "x", "platform_id": "2", "bio": "b"}]
    with pytest.raises(ValueError, match="must all have the columns"):
        insert_rows(session, Author, rows, key=("platform", "platform_id"))
    with pytest.raises(ValueError, match="not columns of author"):
        insert_rows(session, Author, [{"platform": "x", "platform_id": "1", "handle; DROP": "a"}])


def test_values_are_stored_as_the_orm_stores_them(session: Session) -> None:
    """The SQLite path binds through each column type's own processor: what the ORM writes and
    what insert_rows writes read back alike (aware datetimes, JSON None and nested values, booleans)."""
    when = datetime(2026, 12, 5, 1, 2, 3, 456789, tzinfo=UTC)
    source = ingest.get_or_create_source(session, name="s", use="replay")
    author = {"platform": "x", "platform_id": "1", "handle": "a", "display_name": "A"}
    author_id = insert_rows(session, Author, [author], returning=("id",))
    common = {"platform": "x", "author_id": author_id[0][0], "source_id": source.id, "text": "t", "created_at": when}
    common |= {
        "collected_at": when,
        "raw": None,
        "title": None,
        "is_retweet": False,
        "is_quote": True,
        "is_reply": False,
    }
    session.add(Post(external_id="orm", metrics={"a": [1, {"b": None}]}, analyzed=True, **common))
    session.flush()
    row = {"external_id": "bulk", "metrics": {"a": [1, {"b": None}]}, "analyzed": True, **common}
    insert_rows(session, Post, [row], key=("platform", "external_id"))
    session.commit()
    session.expire_all()
    orm, bulk = (session.execute(select(Post).where(Post.external_id == e)).scalar_one() for e in ("orm", "bulk"))
    for name in ("metrics", "analyzed", "created_at", "collected_at", "raw", "title", "is_quote", "competitor"):
        assert getattr(bulk, name) == getattr(orm, name), name
    raw_columns = "SELECT metrics, created_at, analyzed FROM post ORDER BY external_id"
    stored = session.connection().exec_driver_sql(raw_columns).all()
    assert stored[0] == stored[1]  # the same text in the file, not only the same values read back


def test_more_rows_than_one_statement_binds_are_all_stored(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite binds at most SQLITE_LIMIT_VARIABLE_NUMBER values a statement (32,766, or 999 in old
    builds), PostgreSQL 65,535: a larger page is split, every row stored and every id returned."""
    import sqlite3

    from storage import bulk

    raw = session.connection().connection.driver_connection
    if isinstance(raw, sqlite3.Connection):
        raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 50)  # 12 rows of 4 values a statement
    else:
        monkeypatch.setattr(bulk, "POSTGRES_MAX_PARAMETERS", 50)
    rows = [{"platform": "x", "platform_id": str(n), "handle": f"h{n}", "display_name": f"D{n}"} for n in range(100)]
    ids = insert_rows(session, Author, rows, key=("platform", "platform_id"), returning=("platform_id", "id"))
    session.commit()
    assert sorted(int(pid) for pid, _ in ids) == list(range(100))
    assert count(session, Author) == 100 and len({i for _, i in ids}) == 100
