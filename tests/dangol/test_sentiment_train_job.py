"""The scheduled sentiment-head training: only after new staff sentiment corrections, judged on a
held-out fifth of them, and a kept head reaches a running analyzer."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol.core.settings import Settings
from dangol.core.types import utcnow
from dangol.jobs import SENTIMENT_RECORD, periodic_jobs, sentiment_train_job
from dangol.training_record import corrections_trained_through
from nlp.sentiment import HeadSentimentClassifier, SentimentHead
from storage.models import Author, LabelFeedback, Post
from tests.conftest import DATA
from tests.labelled_text import first_rows
from tests.nlp.test_retrain import small_nsmc


def correct(engine: Engine, corrections: list[tuple[str, str]], hint: str = "ko") -> None:
    """Store a post per (text, label) and a staff sentiment correction of it."""
    with Session(engine) as session:
        author = Author(platform="x", platform_id=f"a{utcnow().timestamp()}", handle="someone")
        session.add(author)
        session.flush()
        for n, (text, label) in enumerate(corrections):
            now = utcnow()
            post = Post(platform="x", external_id=f"{now.timestamp()}-{n}", author_id=author.id, text=text,
                        lang_hint=hint, created_at=now, collected_at=now, analyzed=True)  # fmt: skip
            session.add(post)
            session.flush()
            session.add(LabelFeedback(post_id=post.id, kind="sentiment", new_value=label, created_at=now))
        session.commit()


def korean_corrections(per_class: int) -> list[tuple[str, str]]:
    """NSMC reviews the small training folder does not hold, as staff would correct them."""
    rows = first_rows(DATA / "nsmc" / "train.tsv", 900)[300:]
    labelled = [(r["document"], "positive" if r["label"] == "1" else "negative") for r in rows]
    return [r for r in labelled if r[1] == "negative"][:per_class] + [r for r in labelled if r[1] == "positive"][
        :per_class
    ]


@pytest.fixture
def heads_settings(settings: Settings, tmp_path: Path) -> Settings:
    sentiment = type(settings.nlp.sentiment)(
        **{**settings.nlp.sentiment.model_dump(), "heads_dir": str(tmp_path / "heads")}
    )
    return settings.model_copy(update={"nlp": settings.nlp.model_copy(update={"sentiment": sentiment})})


def test_corrections_train_the_languages_they_are_in_judged_on_a_fifth_of_them(
    engine: Engine, heads_settings: Settings, tmp_path: Path
) -> None:
    correct(engine, korean_corrections(25))
    data = small_nsmc(tmp_path / "data", train_rows=300)
    outcome = sentiment_train_job(heads_settings, engine, data_dir=data)
    assert outcome.startswith("trained on 50 sentiment corrections; ko: accuracy ")
    # Ten of the fifty held out (a fifth of each label); the shipped head and the new one read
    # them equally well, and not worse is kept.
    assert outcome.endswith("on 10 held-out corrections, kept") and "en:" not in outcome
    heads = tmp_path / "heads"
    assert corrections_trained_through(heads / SENTIMENT_RECORD) is not None
    assert SentimentHead.load(heads / "sentiment-ko.npz").meta["trained"]["train_rows"] == 300 + 200 + 40


def test_without_new_corrections_the_job_does_nothing(engine: Engine, heads_settings: Settings, tmp_path: Path) -> None:
    assert sentiment_train_job(heads_settings, engine).startswith("no new sentiment corrections")
    correct(engine, korean_corrections(3))
    data = small_nsmc(tmp_path / "data", train_rows=60)
    assert sentiment_train_job(heads_settings, engine, data_dir=data).startswith("trained on 6 sentiment corrections")
    assert sentiment_train_job(heads_settings, engine, data_dir=data).startswith("no new sentiment corrections")
    correct(engine, korean_corrections(1))  # newer than the record: trains again, on all of them
    assert sentiment_train_job(heads_settings, engine, data_dir=data).startswith("trained on 8 sentiment corrections")


def test_without_public_data_the_job_says_so_and_tries_again_next_time(
    engine: Engine, heads_settings: Settings, tmp_path: Path
) -> None:
    correct(engine, korean_corrections(2))
    missing = tmp_path / "nowhere"
    outcome = sentiment_train_job(heads_settings, engine, data_dir=missing)
    assert outcome == (
        f"sentiment heads not retrained: public training data not found in {missing}; give --data-dir with "
        "tweeteval-sentiment/ and nsmc/"
    )
    assert corrections_trained_through(tmp_path / "heads" / SENTIMENT_RECORD) is None


def test_a_head_written_by_a_training_reaches_a_running_classifier(tmp_path: Path) -> None:
    heads = tmp_path / "heads"
    classifier = HeadSentimentClassifier(heads)
    shipped = classifier.heads["ko"].version
    assert not classifier.reload_if_changed()
    from nlp.train import train_language

    retrained, _ = train_language("ko", data_dir=small_nsmc(tmp_path / "data", train_rows=60))
    retrained.save(heads / "sentiment-ko.npz")
    assert classifier.reload_if_changed()
    assert classifier.heads["ko"].version == retrained.version != shipped
    assert f"ko={retrained.version}" in classifier.version
    (heads / "sentiment-ko.npz").unlink()  # removed: the shipped head again
    assert classifier.reload_if_changed() and classifier.heads["ko"].version == shipped


def test_the_worker_schedules_it_unless_turned_off(engine: Engine, settings: Settings) -> None:
    assert "sentiment:train" in [job_id for job_id, _, _ in periodic_jobs(settings, engine)]
    settings.worker.sentiment_train_every_hours = 0
    assert "sentiment:train" not in [job_id for job_id, _, _ in periodic_jobs(settings, engine)]


def test_a_head_is_replaced_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nlp.train import train_language

    heads = tmp_path / "heads"
    first, _ = train_language("ko", data_dir=small_nsmc(tmp_path / "data", train_rows=60))
    first.save(heads / "sentiment-ko.npz")
    second = SentimentHead({**first.meta, "version": "ko-second"}, first.arrays)

    def dies_halfway(fh, **arrays):  # type: ignore[no-untyped-def]
        fh.write(b"PK half a file")
        raise OSError("No space left on device")

    monkeypatch.setattr("nlp.sentiment.np.savez_compressed", dies_halfway)
    with pytest.raises(OSError, match="No space"):
        second.save(heads / "sentiment-ko.npz")
    assert SentimentHead.load(heads / "sentiment-ko.npz").version == first.version
    assert sorted(p.name for p in heads.iterdir()) == ["sentiment-ko.npz"]
    monkeypatch.undo()
    second.save(heads / "sentiment-ko.npz")
    assert SentimentHead.load(heads / "sentiment-ko.npz").version == "ko-second"
    assert sorted(p.name for p in heads.iterdir()) == ["sentiment-ko.npz"]
