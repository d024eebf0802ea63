"""`bench.analyze_stages`: every post analyzed, every stage timed, nothing left patched."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

import pytest

from bench import analyze_stages
from dangol import pipeline
from storage import analyses
from tests.conftest import REPO


def test_timed_stages_add_up_per_stage_and_put_the_originals_back() -> None:
    owner = SimpleNamespace(step=lambda x: x * 2, other=lambda: "other")
    seconds: defaultdict[str, float] = defaultdict(float)
    original = owner.step
    with analyze_stages.timed_stages([(owner, "step", "doubling"), (owner, "other", "other")], seconds):
        assert owner.step(3) == 6 and owner.step(4) == 8
        assert owner.step is not original
    assert owner.step is original
    assert set(seconds) == {"doubling"} and seconds["doubling"] > 0


def test_timed_stages_count_a_stage_that_raises_and_still_restore() -> None:
    def fails() -> None:
        raise ValueError("refused")

    owner = SimpleNamespace(fails=fails)
    seconds: defaultdict[str, float] = defaultdict(float)
    with pytest.raises(ValueError), analyze_stages.timed_stages([(owner, "fails", "failing")], seconds):
        owner.fails()
    assert owner.fails is fails and seconds["failing"] > 0


def test_analyze_stages_times_every_stage_of_a_real_run(database_url: str) -> None:
    before = {name: getattr(owner, name) for owner, name, _ in analyze_stages.DATABASE_STAGES}
    result = analyze_stages.analyze_stages(REPO / "config.toml", 40, database_url)
    assert result["posts"] == 40
    assert result["backend"] == ("sqlite" if database_url.startswith("sqlite") else "postgresql")
    stages = result["stages_s"]
    assert set(stages) == {
        "claim",
        "topic edits",
        "linking",
        "near-duplicate window",
        "save analyses",
        "encoding",
        "analysis after encoding",
        "commit and the rest",
    }
    assert all(value >= 0 for value in stages.values())
    assert stages["encoding"] > 0 and stages["save analyses"] > 0
    assert sum(stages.values()) == pytest.approx(result["seconds"], abs=0.05)
    assert 0 < result["database_share"] < 1 and 0 < result["encoding_share"] < 1
    assert {name: getattr(owner, name) for owner, name, _ in analyze_stages.DATABASE_STAGES} == before
    assert analyses.claim_unanalyzed is before["claim_unanalyzed"]
    assert pipeline._analyze_batch.__name__ == "_analyze_batch"


def test_a_window_of_posts_is_analyzed_first_and_not_timed(database_url: str) -> None:
    from sqlmodel import Session, func, select

    from storage.engine import make_engine
    from storage.models import Analysis

    result = analyze_stages.analyze_stages(REPO / "config.toml", 20, database_url, window=30)
    assert (result["posts"], result["window_posts"]) == (20, 30)
    engine = make_engine(database_url)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Analysis)).one() == 50
    engine.dispose()
