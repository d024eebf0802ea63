"""The set-up pieces of two studies: the corrections `bench.training_memory` stores, and how
`bench.ko_domain_mix` splits rows by domain and scores a mix."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import Session, select

from bench.ko_domain_mix import accuracy_at, only
from bench.training_memory import add_corrections
from dangol.core.types import utcnow
from nlp.encoders.base import MINILM
from nlp.train import Dataset
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Analysis, Author, LabelFeedback, Post


def test_corrections_are_stored_per_label_on_analyzed_posts_of_the_language(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/copy.db"
    engine = make_engine(url)
    upgrade(engine)
    now = utcnow()
    labels = [("en", "negative"), ("en", "negative"), ("en", "negative"), ("en", "neutral"), ("ko", "positive")]
    with Session(engine) as session:
        author = Author(platform="x", platform_id="a1", handle="someone")
        session.add(author)
        session.flush()
        for n, (language, sentiment) in enumerate(labels):
            post = Post(platform="x", external_id=str(n), author_id=author.id or 0, text=f"post {n}",
                        created_at=now, collected_at=now, analyzed=True)  # fmt: skip
            session.add(post)
            session.flush()
            session.add(Analysis(post_id=post.id or 0, language=language, sentiment=sentiment, analyzed_at=now))
        session.commit()
    assert add_corrections(url, "en", per_class=2) == 3  # two of three negatives, the neutral; no English positive
    with Session(engine) as session:
        stored = session.exec(select(LabelFeedback.post_id, LabelFeedback.kind, LabelFeedback.new_value)).all()
    assert sorted((kind, value) for _, kind, value in stored) == [
        ("sentiment", "negative"),
        ("sentiment", "negative"),
        ("sentiment", "neutral"),
    ]
    engine.dispose()


def test_rows_split_by_source_and_a_mix_scored_by_its_weight() -> None:
    data = Dataset(["a", "b", "c"], ["positive", "negative", "positive"], ["ko", "ko", "ko"])
    data.sources = ["nsmc", "kote", "nsmc"]
    movies = only(data, "nsmc")
    assert (movies.texts, movies.labels, movies.sources) == (["a", "c"], ["positive", "positive"], ["nsmc", "nsmc"])
    # n-grams say class 1 for both rows, the embedding class 0: the weight decides.
    logs = {"ngrams": np.log([[0.2, 0.8], [0.2, 0.8]]), "embedding": np.log([[0.9, 0.1], [0.9, 0.1]])}
    y = np.array([1, 1])
    assert accuracy_at(logs, y, 1.0, np.zeros(2)) == 1.0
    assert accuracy_at(logs, y, 0.0, np.zeros(2)) == 0.0
    assert accuracy_at(logs, y, 0.0, np.array([0.0, 5.0])) == 1.0  # a class bias moves it back


@pytest.mark.slow
def test_the_quantization_study_measures_every_block_and_each_recipe(tmp_path: Path) -> None:
    # MiniLM (6 blocks) keeps it short; the study is the same for e5. Structure and cosine sanity,
    # never timings.
    from bench.quantization import main

    out = tmp_path / "quantization.json"
    main(["--model", MINILM, "--texts", "16", "--rounds", "1", "--out", str(out)])
    results = json.loads(out.read_text())
    assert results["texts"] == {"en": 16, "ko": 16}
    assert sorted(results["one_block_int8"], key=int) == [str(block) for block in range(6)]
    assert set(results["recipes"]) == {"every block fp32", "none fp32"}  # MiniLM has no trait of its own
    for recipe in results["recipes"].values():
        for language in ("en", "ko"):
            assert 0.9 < recipe["cosine"][language]["min"] <= recipe["cosine"][language]["mean"] <= 1.0001
            assert recipe["posts_per_s"][language] > 0
