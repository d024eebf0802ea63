"""`dangol topics propose` over stored complaints (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from dangol.cli import app
from dangol.core.types import utcnow
from storage.models import Analysis, Author, LabelFeedback, Post
from tests.conftest import REPO
from tests.nlp.semantic_fakes import HashingEncoder


def store(
    engine: Engine, texts: list[str], *, primary: str = "other", complaint: bool = True, days_ago: int = 1
) -> None:
    encoder = HashingEncoder()
    with Session(engine) as session:
        author = Author(platform="x", platform_id=f"a{primary}{days_ago}{complaint}", handle="someone")
        session.add(author)
        session.flush()
        for i, (text, vector) in enumerate(zip(texts, encoder.encode(texts), strict=True)):
            when = utcnow() - timedelta(days=days_ago)
            p = Post(platform="x", external_id=f"{primary}-{days_ago}-{complaint}-{i}", author_id=author.id, text=text,
                     created_at=when, collected_at=when, analyzed=True)  # fmt: skip
            session.add(p)
            session.flush()
            session.add(Analysis(post_id=p.id, language="en", sentiment="negative", primary_topic=primary,
                                 is_complaint=complaint, embedding=vector.tobytes()))  # fmt: skip
        session.commit()


def propose(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        ["--config", str(REPO / "config.toml"), "topics", "propose", *args],
        env={"DANGOL_DATABASE_URL": database_url},
    )
    return result.exit_code, result.output


def test_propose_groups_recent_uncategorized_complaints(engine: Engine, database_url: str) -> None:
    store(engine, [f"the new oat milk tastes sour in cup {i}" for i in range(6)])
    store(engine, [f"the new oat milk tastes sour in mug {i}" for i in range(6)], primary="quality")
    store(engine, [f"the new oat milk tastes sour old {i}" for i in range(6)], days_ago=30)
    store(engine, [f"the new oat milk tastes sour praise {i}" for i in range(6)], complaint=False)
    code, output = propose(database_url, "--json", "--min-size", "3")
    assert code == 0, output
    [proposal] = json.loads(output)
    assert proposal["size"] == 6
    assert {"oat", "milk", "sour"} <= set(proposal["terms"])
    assert len(proposal["post_ids"]) == 6 and proposal["representatives"][0].startswith("the new oat milk")


def test_propose_says_so_when_there_is_nothing_to_group(engine: Engine, database_url: str) -> None:
    code, output = propose(database_url, "--days", "7")
    assert code == 0 and "no uncategorized complaints in the last 7 days" in output


def test_propose_says_why_a_few_complaints_make_no_topic(engine: Engine, database_url: str) -> None:
    store(engine, ["the courier rang the bell at 3am", "my latte was lukewarm again"])
    code, output = propose(database_url)
    assert code == 0, output
    assert "2 uncategorized complaints in the last 7 days, 0 proposed topics" in output
    assert "no group of 5 or more alike among them to propose as a topic (--min-size, --days)" in output


@pytest.mark.slow
def test_train_writes_a_head_from_a_file_and_staff_corrections(engine: Engine, database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from nlp.topics import FewShotHead

    store(engine, ["the courier rang the bell at 3am", "latte was lukewarm"], primary="other")
    with Session(engine) as session:
        session.add(LabelFeedback(post_id=1, kind="topic", new_value="delivery", created_at=utcnow()))
        session.add(LabelFeedback(post_id=2, kind="topic", new_value="quality", created_at=utcnow()))
        session.add(LabelFeedback(post_id=2, kind="sentiment", new_value="negative", created_at=utcnow()))
        session.commit()
    data = tmp_path / "labels.csv"
    data.write_text("text,topic\nmy card was charged twice,Billing and refunds\nthe app crashes,App and website\n")
    out = tmp_path / "head.npz"
    result = CliRunner().invoke(
        app,
        ["--config", str(REPO / "config.toml"), "topics", "train", "--data", str(data), "--out", str(out)],
        env={"DANGOL_DATABASE_URL": database_url, "HF_HUB_OFFLINE": "1"},
    )
    assert result.exit_code == 0, result.output
    assert "trained on 2 examples and 2 corrections" in result.output
    assert sorted(FewShotHead.load(out).classes) == ["app", "billing", "delivery", "quality"]
