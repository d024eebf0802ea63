"""Retraining the sentiment heads from staff corrections (and a brand's own labelled posts): what
`dangol nlp retrain` and the worker's weekly `sentiment_train_job` share.

The training itself is `nlp.train.retrain`: public data plus the brand's rows, a fifth of those
held out to judge the new head (kept only if not worse) and to decide its complaint rule through
the pipeline. Here: reading the corrections from the database and building what judges them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dangol.core.errors import ConfigError
from dangol.core.settings import Settings
from storage.feedback import sentiment_corrections

if TYPE_CHECKING:
    from nlp.train import RetrainResult

Row = tuple[str, str, str]  # (text, label, language)


def feedback_rows(session: Session) -> list[Row]:
    """(text, label, language) per corrected post; the latest correction of a post wins, and the
    language is the analyzed one (or detected now for posts never analyzed)."""
    from nlp.langid import detect_language

    latest: dict[int, Row] = {}
    for post_id, label, text, hint, language in sentiment_corrections(session=session):
        latest[post_id] = (text, label, language or detect_language(text, hint))
    return list(latest.values())


def retrain_sentiment(
    settings: Settings,
    feedback: Sequence[Row],
    languages: Sequence[str],
    *,
    data_dir: Path | None = None,
    domain: Sequence[Row] = (),
    out: Path | None = None,
) -> list[RetrainResult]:
    """Retrain `languages`' heads of the configured profile on public data plus `feedback` and
    `domain` rows (see `nlp.train.retrain`); ConfigError saying why it cannot (`cannot_retrain`)."""
    from nlp.sentiment import head_folders
    from nlp.train import DATA, retrain

    problem = cannot_retrain(settings, data_dir)
    if problem:
        raise ConfigError(problem)
    folder = data_dir or DATA
    heads_dir, packaged = head_folders(settings)
    read, encode = _judging(settings, bool(feedback or domain))
    return retrain(
        feedback, heads_dir, languages, encode, data_dir=folder, domain=domain, out=out, packaged=packaged, read=read
    )


def cannot_retrain(settings: Settings, data_dir: Path | None) -> str | None:
    """Why the sentiment heads cannot be retrained here (None: they can): another sentiment
    classifier is configured, or the public training data is not in `data_dir` (default: beside
    the repository)."""
    from nlp.train import DATA

    if settings.nlp.sentiment.use != "head":
        return f'retrain applies to [nlp.sentiment] use = "head", not {settings.nlp.sentiment.use!r}'
    folder = data_dir or DATA
    if not folder.is_dir():
        return f"public training data not found in {folder}; give --data-dir with tweeteval-sentiment/ and nsmc/"
    return None


def _judging(settings: Settings, own_rows: bool) -> tuple[Any, Any]:
    """(how the pipeline reads a candidate head, the encoder's encode): heads learn from the vectors
    the configured encoder will give them; with the brand's own rows, the pipeline, intent
    included, judges the new heads' complaint rule on the held-out ones."""
    if not own_rows:
        from nlp.encoders import build_encoder

        return None, build_encoder(settings).encode
    from nlp.analyzer import Analyzer
    from nlp.evaluate import pipeline_reading

    analyzer = Analyzer.from_settings(settings)
    return pipeline_reading(analyzer), analyzer.encoder.inner.encode


def corrections(engine: Engine) -> tuple[list[Row], int | None]:
    """The staff sentiment corrections as training rows, and the newest correction's id."""
    from storage.feedback import last_sentiment_correction_id

    with Session(engine) as session:
        return feedback_rows(session), last_sentiment_correction_id(session=session)
