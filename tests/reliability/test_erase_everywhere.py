"""Erasing a customer of the demo leaves none of their identifiers in any table or in any file
Dangol wrote (topic feeds, weekly report pages and PDFs), whether the erasure is asked for on
the command line or on the dashboard, and not in other people's reposts and mentions of them;
everyone else's posts stay in those files."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from dangol import pipeline
from dangol.cli import app
from dangol.core.settings import load_settings
from storage.engine import make_engine
from storage.models import (
    Author,
    Customer,
    CustomerHandle,
    CustomerOrder,
    CustomerScore,
    CustomerSegment,
    CustomerSegmentChange,
    IdentityLink,
    Post,
)
from tests.demo_build import BuiltDemo, built_demo, copy_demo, dashboard_page
from tests.reliability.traces import file_texts, squash, traces

pytestmark = pytest.mark.slow


@dataclass
class Person:
    """A customer and everything that identifies them: name, contacts, orders, handles, display
    names and the words of their posts (those no one else also wrote)."""

    customer_id: int
    name: str
    handles: set[str]
    identifiers: set[str]


@pytest.fixture
def demo(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> BuiltDemo:
    return copy_demo(built_demo(tmp_path_factory), tmp_path / "demo")


@pytest.fixture
def engine(demo: BuiltDemo) -> Iterator[Engine]:
    engine = make_engine(demo.settings.database.url)
    yield engine
    engine.dispose()


def people(session: Session) -> list[Person]:
    """Every customer with an author confirmed to be them."""
    links = session.exec(select(IdentityLink).where(IdentityLink.status == "applied")).all()
    authors = {a.id: a for a in session.exec(select(Author))}
    posts = session.exec(select(Post)).all()
    mine: dict[int, set[int]] = {}
    for link in links:
        mine.setdefault(link.customer_id, set()).add(link.author_id)
    found = []
    for customer_id, author_ids in sorted(mine.items()):
        customer = session.get(Customer, customer_id)
        assert customer is not None
        handles = {authors[a].handle for a in author_ids}
        handles |= set(session.exec(select(CustomerHandle.handle).where(CustomerHandle.customer_id == customer_id)))
        orders = set(session.exec(select(CustomerOrder.order_number).where(CustomerOrder.customer_id == customer_id)))
        words = {p.text for p in posts if p.author_id in author_ids} | {
            p.title for p in posts if p.author_id in author_ids and p.title
        }
        names = {authors[a].display_name for a in author_ids}
        contacts = {customer.name, customer.email or "", customer.phone or "", customer.external_ref or ""}
        found.append(Person(customer_id, customer.name, handles, handles | orders | words | names | contacts))
    return found


def theirs(session: Session, chosen: list[Person]) -> set[int]:
    """The authors confirmed to be one of `chosen`."""
    stmt = select(IdentityLink.author_id).where(
        IdentityLink.status == "applied",
        IdentityLink.customer_id.in_({p.customer_id for p in chosen}),  # type: ignore[attr-defined]
    )
    return set(session.exec(stmt))


def unmentioned(text: str, handles: set[str]) -> str:
    """`text` without @-mentions of `handles` (a mention names them, it is not someone else's word)."""
    for handle in handles:
        text = re.sub(rf"@{re.escape(handle)}(?!\w|[.-]\w)", "", text, flags=re.IGNORECASE)
    return text


def others_text(session: Session, chosen: list[Person]) -> str:
    """Everything that belongs to people other than `chosen`, to tell shared words from theirs:
    other authors' names and posts, less their reposts of the chosen's posts and mentions of them."""
    mine, ids = theirs(session, chosen), {p.customer_id for p in chosen}
    handles = set().union(*(p.handles for p in chosen))
    posts = session.exec(select(Post)).all()
    reposted = {(p.platform, p.external_id) for p in posts if p.author_id in mine}
    parts: list[str] = []
    for author in session.exec(select(Author)):
        if author.id not in mine:
            parts += [author.handle, author.display_name]
    for post in posts:
        if post.author_id not in mine and not (post.is_retweet and (post.platform, post.referenced_id) in reposted):
            parts += [unmentioned(post.text, handles), unmentioned(post.title or "", handles)]
    for customer in session.exec(select(Customer)):
        if customer.id not in ids:
            parts += [customer.name, customer.email or "", customer.phone or ""]
    return squash("\n".join(parts))


def reposters(session: Session, chosen: list[Person]) -> set[str]:
    """Handles of the people who reposted a post of `chosen` (the repost goes with the erasure)."""
    mine = theirs(session, chosen)
    posts = session.exec(select(Post)).all()
    keys = {(p.platform, p.external_id) for p in posts if p.author_id in mine}
    reposting = {p.author_id for p in posts if p.is_retweet and (p.platform, p.referenced_id) in keys}
    return {a.handle for a in session.exec(select(Author)) if a.id in reposting}


def echoes(session: Session, person: Person) -> int:
    """How many posts of other people repost or mention `person`."""
    mine = theirs(session, [person])
    posts = session.exec(select(Post)).all()
    keys = {(p.platform, p.external_id) for p in posts if p.author_id in mine}
    others = [p for p in posts if p.author_id not in mine]
    return sum((p.platform, p.referenced_id) in keys or unmentioned(p.text, person.handles) != p.text for p in others)


def chosen_people(demo: BuiltDemo, engine: Engine) -> tuple[list[Person], set[str]]:
    """Three customers: one the weekly report shows, the one the written files show most (by their
    handles), and the one other people repost or mention most; with their own identifiers, and
    the handles of other people the files show."""
    files = file_texts(demo.outputs)
    report = [body for path, body in files.items() if path.suffix == ".html"]
    with Session(engine) as session:
        everyone = people(session)

        def shown(person: Person, bodies: list[str]) -> int:
            return sum(f"@{h}" in body for h in person.handles for body in bodies)

        chosen = [min((p for p in everyone if shown(p, report)), key=lambda p: p.customer_id)]
        rest = [p for p in everyone if p not in chosen]
        chosen.append(max(rest, key=lambda p: (shown(p, list(files.values())), -p.customer_id)))
        echoed = [(echoes(session, p), p) for p in everyone if p not in chosen]
        chosen.append(max(echoed, key=lambda e: (e[0], -e[1].customer_id))[1])
        assert max(n for n, _ in echoed) > 0, "someone reposts or mentions a demo customer"
        others = others_text(session, chosen)
        handles = {a.handle for a in session.exec(select(Author))} - reposters(session, chosen)
    for person in chosen:
        person.identifiers = {i for i in person.identifiers if len(squash(i)) >= 3 and squash(i) not in others}
    mine = set().union(*(p.handles for p in chosen))
    visible = {h for h in handles - mine if any(f"@{h}" in body for body in files.values())}
    return chosen, visible


def test_an_erased_customer_is_in_no_table_and_no_file_dangol_wrote(demo, engine, monkeypatch) -> None:
    chosen, others = chosen_people(demo, engine)
    assert len(chosen) == 3 and others
    before = traces(set().union(*(p.identifiers for p in chosen)), engine, demo.outputs)
    for person in chosen[:2]:  # the check below means something only if the files showed them
        assert any(place.startswith("file ") for i in person.identifiers for place in before.get(i, [])), person
    by_cli, on_dashboard, echoed = chosen
    # Scores and segments are about the person too (numbers only): computed first, erased with them.
    pipeline.score_customers(load_settings(demo.config), engine)
    for person in (by_cli, echoed):
        args = ["customers", "erase", str(person.customer_id), "--as", "admin", "--yes"]
        erased = CliRunner().invoke(app, ["--config", str(demo.config), *args])
        assert erased.exit_code == 0, erased.output
    at = dashboard_page(demo, "admin", "Customers", monkeypatch, customer_query=on_dashboard.name)
    assert [h.value for h in at.subheader][:1] == [on_dashboard.name], (on_dashboard.name, at.subheader, at.info)
    at.checkbox[0].check()
    at = next(b for b in at.button if b.label == "Erase this customer").click().run()
    assert not at.exception, at.exception
    with Session(engine) as session:
        assert session.get(Customer, on_dashboard.customer_id).erased_at is not None  # type: ignore[union-attr]

    with Session(engine) as session:
        for table in (CustomerScore, CustomerSegment, CustomerSegmentChange):
            kept = {row.customer_id for row in session.exec(select(table))}
            assert not kept & {p.customer_id for p in chosen}, table
        assert session.exec(select(CustomerScore)).first() is not None  # the others' scores stay

    left = traces(set().union(*(p.identifiers for p in chosen)), engine, demo.outputs)
    assert not left, "\n".join(f"{identifier[:60]!r} in {places}" for identifier, places in left.items())
    files = file_texts(demo.outputs)
    assert {h for h in others if any(f"@{h}" in body for body in files.values())} == others  # the rest stay
