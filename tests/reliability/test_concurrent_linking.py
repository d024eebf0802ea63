"""Two workers analyzing posts by the same customer at the same moment link the author once."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dangol import pipeline
from dangol.core.settings import load_settings
from dangol.core.types import AuthorIn, Page, PostIn, utcnow
from storage.engine import make_engine, session_scope
from storage.ingest import get_or_create_source, store_page
from storage.models import AuditEvent, Customer, CustomerHandle, IdentityLink
from tests.concurrency import run_workers
from tests.conftest import REPO
from tests.reliability.conftest import FakeAnalyzer

CUSTOMERS = 6


def test_two_workers_linking_the_same_authors_at_once_make_one_link_each_and_no_error(postgres_url: str) -> None:
    # Each customer's handle is in the brand's records (such a link applies on its own). Each writes
    # two posts; the two workers claim one post each (batches of one post per customer, in opposite
    # author orders) and link while the other's batch is still open.
    settings = load_settings(REPO / "config.toml", overrides={"database": {"url": postgres_url}})
    seed = make_engine(postgres_url)
    with session_scope(seed) as session:
        for n in range(CUSTOMERS):
            customer = Customer(name=f"Customer {n}")
            session.add(customer)
            session.flush()
            session.add(CustomerHandle(customer_id=customer.id, platform="x", handle=f"regular{n}"))
        source = get_or_create_source(session, name="seed", use="replay")
        authors = [AuthorIn(platform="x", platform_id=f"a{n}", handle=f"regular{n}") for n in range(CUSTOMERS)]
        order = authors + authors[::-1]  # post ids: the first half in one author order, the second in the other
        posts = [
            PostIn(platform="x", external_id=str(i), author=a, created_at=utcnow(), text=f"order {i} never came")
            for i, a in enumerate(order)
        ]
        store_page(session, source=source, page=Page(posts, {}))
    settings = load_settings(
        REPO / "config.toml", overrides={"database": {"url": postgres_url}, "nlp": {"batch_size": CUSTOMERS}}
    )

    def work(engine: Engine, _number: int) -> None:
        # The delay keeps each batch open after its links are written, so the two overlap.
        pipeline.analyze(settings, engine, analyzer=FakeAnalyzer(delay=0.5), limit=CUSTOMERS)

    errors = run_workers(postgres_url, 2, work, timeout=60)
    with Session(seed) as session:
        links = [(link.author_id, link.customer_id, link.status) for link in session.exec(select(IdentityLink))]
        audited = session.exec(select(AuditEvent).where(AuditEvent.action == "identity.link")).all()
    seed.dispose()
    assert not errors, errors
    assert len(links) == len(set(links)) == CUSTOMERS, links
    assert {status for _a, _c, status in links} == {"applied"}
    assert len(audited) == CUSTOMERS
