"""The scheduled topic-head training: retrains only after new staff corrections, keeps a head only if not worse."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol.core.settings import Settings
from dangol.core.types import utcnow
from dangol.jobs import periodic_jobs, topics_train_job
from nlp.topics import FewShotHead
from storage.models import Author, LabelFeedback, Post
from tests.nlp.semantic_fakes import HashingEncoder


def correct(engine: Engine, *corrections: tuple[str, str]) -> None:
    """Store a post per (text, topic key) and a staff topic correction of it."""
    with Session(engine) as session:
        author = Author(platform="x", platform_id=f"a{utcnow().timestamp()}", handle="someone")
        session.add(author)
        session.flush()
        for text, key in corrections:
            now = utcnow()
            post = Post(platform="x", external_id=f"{key}-{text}", author_id=author.id, text=text,
                        created_at=now, collected_at=now, analyzed=True)  # fmt: skip
            session.add(post)
            session.flush()
            session.add(LabelFeedback(post_id=post.id, kind="topic", new_value=key, created_at=now))
        session.commit()


def test_a_new_correction_trains_and_writes_the_head(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    correct(engine, ("the courier rang the bell at 3am", "delivery"), ("latte was lukewarm", "quality"))
    head = tmp_path / "head.npz"
    outcome = topics_train_job(settings, engine, head_path=head, encoder=HashingEncoder())
    assert "trained on 0 examples and 2 corrections" in outcome and f"wrote {head}" in outcome
    assert sorted(FewShotHead.load(head).classes) == ["delivery", "quality"]


def test_without_new_corrections_the_job_does_nothing(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    correct(engine, ("the courier rang the bell at 3am", "delivery"), ("latte was lukewarm", "quality"))
    head = tmp_path / "head.npz"
    topics_train_job(settings, engine, head_path=head, encoder=HashingEncoder())
    written = head.stat().st_mtime_ns
    encoder = HashingEncoder()
    outcome = topics_train_job(settings, engine, head_path=head, encoder=encoder)
    assert outcome.startswith("no new topic corrections")
    assert encoder.calls == [] and head.stat().st_mtime_ns == written


def test_a_correction_after_the_last_training_trains_again(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    correct(engine, ("the courier rang the bell at 3am", "delivery"), ("latte was lukewarm", "quality"))
    head = tmp_path / "head.npz"
    topics_train_job(settings, engine, head_path=head, encoder=HashingEncoder())
    correct(engine, ("charged twice for one latte", "billing"))
    outcome = topics_train_job(settings, engine, head_path=head, encoder=HashingEncoder())
    assert "3 corrections" in outcome
    assert sorted(FewShotHead.load(head).classes) == ["billing", "delivery", "quality"]


def test_no_corrections_at_all_is_nothing_to_do(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    head = tmp_path / "head.npz"
    assert topics_train_job(settings, engine, head_path=head, encoder=HashingEncoder()).startswith("no new")
    assert not head.exists()


def test_the_worker_schedules_training_unless_it_is_turned_off(engine: Engine, settings: Settings) -> None:
    assert "topics:train" in [job_id for job_id, _, _ in periodic_jobs(settings, engine)]
    settings.worker.topics_train_every_hours = 0
    assert "topics:train" not in [job_id for job_id, _, _ in periodic_jobs(settings, engine)]
