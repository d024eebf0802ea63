"""A small dashboard database built through the real storage and responder functions, and
helpers to drive the Streamlit app with AppTest."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from dangol.core.settings import Settings, load_settings
from dangol.core.types import AuthorIn, Page, PostIn, utcnow
from nlp.risk import score_risk
from reports.period import week_containing
from responder.accounts.staff import create_staff
from responder.queue import route_new
from storage import analyses
from storage.engine import make_engine, session_scope
from storage.ingest import get_or_create_source, store_page
from storage.migrate import upgrade
from storage.models import Customer, IdentityLink, Post, QueueItem, Staff

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "dashboard" / "app.py"
PASSWORDS = {
    "agent1": "agent-pass-1",
    "product1": "product-pass-1",
    "reviewer1": "reviewer-pass-1",
    "admin1": "admin-pass-1",
}
XSS_TEXT = (
    "<script>alert(1)</script> look ![pic](http://127.0.0.1:9/x.png) and [click me](javascript:alert(2)) **bold**"
)
PRESS_TEXT = "Journalist here: does your press office have a statement on the cold deliveries?"
COMPLAINT = "My order #A-1001 arrived cold and the barista was rude. I want a refund."


@dataclass
class DashboardDb:
    url: str
    config: Path
    settings: Settings
    engine: Engine
    staff: dict[str, int]
    items: dict[str, int]  # "complaint" | "question" | "xss" → queue item id


def fixture_now(timezone: str) -> datetime:
    """The moment the fixture's four posts (5 to 30 minutes old) are dated back from: now, unless the
    brand's week began under an hour ago, then a minute before it began. So the four always share
    one report week, whenever the suite runs (a CI run at 00:02 on a Monday in Seoul once found the
    Reports page's week empty because the posts were dated the week before)."""
    now = utcnow()
    week_start = week_containing(now, timezone).start
    return week_start - timedelta(minutes=1) if now - timedelta(hours=1) < week_start else now


def _post(n: int, text: str, followers: int, handle: str, minutes_ago: int, now: datetime | None = None) -> PostIn:
    author = AuthorIn(
        platform="x",
        platform_id=f"u{n}",
        handle=handle,
        display_name=f"<b>{handle}</b>",
        followers=followers,
        bio="[bio link](javascript:alert(3))",
    )
    return PostIn(
        platform="x",
        external_id=f"fx{n}",
        author=author,
        text=text,
        url=f"https://x.com/{handle}/status/{n}",
        created_at=(now or utcnow()) - timedelta(minutes=minutes_ago),
        raw={"id": f"fx{n}"},
    )


ANALYSES = {
    "fx1": {
        "sentiment": "negative",
        "probs": {"negative": 0.91, "neutral": 0.07, "positive": 0.02},
        "topic": "quality",
        "complaint": True,
        "question": False,
    },
    "fx2": {
        "sentiment": "neutral",
        "probs": {"negative": 0.2, "neutral": 0.7, "positive": 0.1},
        "topic": "app",
        "complaint": False,
        "question": True,
    },
    "fx4": {
        "sentiment": "neutral",
        "probs": {"negative": 0.3, "neutral": 0.6, "positive": 0.1},
        "topic": "delivery",
        "complaint": False,
        "question": True,
    },
    "fx3": {
        "sentiment": "negative",
        "probs": {"negative": 0.6, "neutral": 0.3, "positive": 0.1},
        "topic": "delivery",
        "complaint": True,
        "question": False,
    },
}


# A post routed later (add_queue_item): a plain complaint.
LATER = {
    "sentiment": "negative",
    "probs": {"negative": 0.8, "neutral": 0.15, "positive": 0.05},
    "topic": "delivery",
    "complaint": True,
    "question": False,
}


def set_config(config: Path, default: str, ours: str) -> None:
    """Change one line of a test's config.toml (it must be there: the sample changed otherwise)."""
    text = config.read_text(encoding="utf-8")
    assert default in text, f"{config} has no {default!r}; update the dashboard fixture"
    config.write_text(text.replace(default, ours), encoding="utf-8")


def build_dashboard_db(tmp_path: Path, config_lines: dict[str, str] | None = None) -> DashboardDb:
    """Staff of every role, three posts (one with markup and a script tag), analyses, queue items.
    `config_lines` replaces lines of the sample config.toml (the line as it is → the line wanted)."""
    url = f"sqlite:///{tmp_path}/dashboard.db"
    config = tmp_path / "config.toml"
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    for default, ours in (('url = "sqlite:///var/dangol.db"', f'url = "{url}"'),
                          ('assignment = "load_balanced"', 'assignment = "manual"'),
                          *(config_lines or {}).items()):  # fmt: skip
        assert default in text, f"config.toml no longer has {default!r}; update the dashboard fixture"
        text = text.replace(default, ours)
    config.write_text(text, encoding="utf-8")
    settings = load_settings(config)
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        staff = {
            name: create_staff(
                session=session, username=name, password=PASSWORDS[name], role=role, team="support", languages=["en"]
            ).id
            for name, role in (
                ("agent1", "agent"),
                ("product1", "product"),
                ("reviewer1", "pr_reviewer"),
                ("admin1", "admin"),
            )
        }
        source = get_or_create_source(session, name="fixture", use="replay")
        now = fixture_now(settings.brand.timezone)
        posts = [
            _post(1, COMPLAINT, 1200, "coldcoffee", 30, now),
            _post(2, "Does the app support Apple Pay?", 50, "curious", 20, now),
            _post(3, XSS_TEXT, 10, "markup_fan", 10, now),
            _post(4, PRESS_TEXT, 300, "reporter", 5, now),
        ]
        store_page(session, source=source, page=Page(posts=posts, cursor={}))
        _analyze(session)
        _link_customer(session)
        route_new(session=session, settings=settings)
        items = {
            name: session.exec(
                select(QueueItem.id).join(Post, Post.id == QueueItem.post_id).where(Post.external_id == ext)
            ).one()
            for name, ext in (("complaint", "fx1"), ("question", "fx2"), ("xss", "fx3"), ("press", "fx4"))
        }
    return DashboardDb(url, config, settings, engine, staff, items)


def _analyze(session: Session) -> None:
    rng = np.random.default_rng(7)
    for claimed in analyses.claim_unanalyzed(session=session, limit=10):
        a = ANALYSES.get(claimed.post.external_id, LATER)
        risk = score_risk(claimed.post.text, a["probs"]["negative"], claimed.author.followers)
        vector = rng.normal(size=384).astype(np.float32)
        analyses.save_analysis(
            session=session,
            post_id=claimed.post.id,
            values={
                "language": "en",
                "sentiment": a["sentiment"],
                "sentiment_probs": a["probs"],
                "topics": {a["topic"]: 0.8, "other": 0.1},
                "primary_topic": a["topic"],
                "is_complaint": a["complaint"],
                "is_question": a["question"],
                "risk": risk.score,
                "risk_breakdown": risk.breakdown,
                "text_hash": claimed.post.external_id,
                "cluster_key": f"c-{claimed.post.external_id}",
                "model_versions": {"sentiment": "fixture"},
                "analyzed_at": utcnow(),
            },
            embedding=vector / np.linalg.norm(vector),
        )


def _link_customer(session: Session) -> None:
    customer = Customer(external_ref="C-1", name="Hana Kim", email="hana@example.com", tier="gold", created_at=utcnow())
    session.add(customer)
    session.flush()
    author_id = session.exec(select(Post.author_id).where(Post.external_id == "fx1")).one()
    session.add(
        IdentityLink(
            author_id=author_id,
            customer_id=customer.id,
            method="handle",
            confidence=1.0,
            evidence="handle matches CRM",
            status="applied",
            created_at=utcnow(),
        )
    )
    other = session.exec(select(Post.author_id).where(Post.external_id == "fx2")).one()
    session.add(
        IdentityLink(
            author_id=other,
            customer_id=customer.id,
            method="fuzzy_name",
            confidence=0.7,
            evidence="display name looks like Hana Kim",
            status="proposed",
            created_at=utcnow(),
        )
    )


def add_queue_item(db: DashboardDb, n: int, text: str, handle: str) -> int:
    """Collect, analyze and route one more post (external id fx{n}) as the worker would; its item's id."""
    with session_scope(db.engine) as session:
        source = get_or_create_source(session, name="fixture", use="replay")
        store_page(session, source=source, page=Page(posts=[_post(n, text, 100, handle, 1)], cursor={}))
        _analyze(session)
        route_new(session=session, settings=db.settings)
        return session.exec(
            select(QueueItem.id).join(Post, Post.id == QueueItem.post_id).where(Post.external_id == f"fx{n}")
        ).one()


@pytest.fixture(scope="session")
def dashboard_template(tmp_path_factory: pytest.TempPathFactory) -> DashboardDb:
    """Built once per run (hashing passwords and migrating take a while); tests get copies."""
    db = build_dashboard_db(tmp_path_factory.mktemp("dashboard-template"))
    db.engine.dispose()
    return db


@pytest.fixture
def dashboard_db(dashboard_template: DashboardDb, tmp_path: Path) -> Iterator[DashboardDb]:
    """A private copy of the template database, with its own config file."""
    source = Path(make_url(dashboard_template.url).database or "")
    shutil.copy(source, tmp_path / "dashboard.db")
    url = f"sqlite:///{tmp_path}/dashboard.db"
    config = tmp_path / "config.toml"
    config.write_text(dashboard_template.config.read_text(encoding="utf-8").replace(dashboard_template.url, url))
    db = DashboardDb(url, config, load_settings(config), make_engine(url), dashboard_template.staff,
                     dashboard_template.items)  # fmt: skip
    yield db
    db.engine.dispose()


def app_as(
    db: DashboardDb, username: str | None, monkeypatch: pytest.MonkeyPatch, page: str | None = None, **state: object
) -> AppTest:
    """An AppTest of the dashboard against `db`, logged in as `username` (None: logged out)."""
    monkeypatch.setenv("DANGOL_CONFIG", str(db.config))
    at = AppTest.from_file(str(APP), default_timeout=60)
    if username is not None:
        at.session_state["staff_id"] = db.staff[username]
        at.session_state["last_activity"] = utcnow()
    if page is not None:
        at.session_state["page"] = page
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def nav_pages(at: AppTest) -> list[str]:
    """The pages st.navigation offered on the last run, in menu order (the hidden root page left
    out). AppTest 1.67 has no public accessor for the menu; `_registered_pages` is what its own
    switch_page resolves against."""
    return [str(info["page_name"]) for info in at._registered_pages.values() if info["url_pathname"]]


def open_url(at: AppTest, path: str, **params: str) -> AppTest:
    """Run `at` as the browser would on `/path?params` (a link opened in the session): the page is
    found by its URL path among the registered pages, as Streamlit's server does."""
    hashes = [h for h, info in at._registered_pages.items() if info["url_pathname"] == path]
    assert hashes, f"no page at /{path}; have {[i['url_pathname'] for i in at._registered_pages.values()]}"
    at._page_hash = hashes[0]
    at.query_params = dict(params)
    return at.run()


def current_url_path(at: AppTest) -> str:
    """The URL path of the page the last run ended on."""
    return str(at._registered_pages[at._finished_page_script_hash]["url_pathname"])


def staff_row(db: DashboardDb, username: str) -> Staff:
    with Session(db.engine) as session:
        return session.exec(select(Staff).where(Staff.username == username)).one()


def button(at: AppTest, label: str):  # noqa: ANN201 - streamlit's Button element
    """The (form submit) button with this label; fails the test when there is none."""
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; have {[b.label for b in at.button]}"
    return found[0]


def shown(elements) -> list[str]:  # noqa: ANN001 - a streamlit ElementList
    """Element texts as a reader sees them (markdown escapes removed)."""
    import re

    return [re.sub(r"\\(.)", r"\1", str(e.value)) for e in elements]
