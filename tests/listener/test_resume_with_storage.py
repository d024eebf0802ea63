"""A crash between pages, with the real storage: resuming from the stored cursor stores every post once."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from listener.mastodon import MastodonCollector, MastodonOptions, make_client
from storage.ingest import get_or_create_source, store_page
from storage.models import Post
from tests.listener.conftest import FakeApi, Reply, mastodon_body
from tests.listener.test_mastodon_collector import statuses


def collector(api: FakeApi) -> MastodonCollector:
    api.add("GET", "/api/v2/instance/", Reply(body=mastodon_body("test_hashtag_tl.yaml", "/api/v2/instance/")))
    options = MastodonOptions(instance=api.url, hashtags=["coffee"], limit=2, backfill_pages=10)
    client, tap = make_client(api.url, None, 1)
    return MastodonCollector(client, "", options, tap)


def run(engine: Engine, api: FakeApi, *, crash_after: int | None = None) -> None:
    with Session(engine) as session:
        cursor = dict(get_or_create_source(session, name="m", use="mastodon").cursor)
        session.commit()
    for number, page in enumerate(collector(api).fetch(cursor), start=1):
        with Session(engine) as session:
            store_page(session, source=get_or_create_source(session, name="m", use="mastodon"), page=page)
            session.commit()
        if number == crash_after:
            return


def test_crash_between_pages_then_resume_stores_each_post_once(engine: Engine, api: FakeApi) -> None:
    pages = [Reply(body=statuses(9, 8)), Reply(body=statuses(7, 6)), Reply(body=statuses(5))]
    api.add("GET", "/api/v1/timelines/tag/coffee", *pages)
    run(engine, api, crash_after=1)
    api.add("GET", "/api/v1/timelines/tag/coffee", *pages[1:])
    run(engine, api)
    # A later run sees two new posts on top of the ones stored.
    api.add("GET", "/api/v1/timelines/tag/coffee", Reply(body=statuses(11, 10)), Reply(body=statuses(9, 8)))
    run(engine, api)
    with Session(engine) as session:
        ids = sorted(int(i) for i in session.exec(select(Post.external_id)).scalars())  # type: ignore[call-overload]
        assert ids == [5, 6, 7, 8, 9, 10, 11]
        assert session.exec(select(func.count()).select_from(Post)).one()[0] == 7  # type: ignore[call-overload]
