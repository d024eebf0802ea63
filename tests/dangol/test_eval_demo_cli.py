"""`dangol eval demo`: scores the demo database, or says how to build it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dangol.cli import app
from dangol.demo_data import EXPECTATIONS
from dangol.demo_eval import score_demo
from storage.engine import make_engine
from storage.migrate import upgrade


def test_without_a_demo_database_it_says_how_to_build_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["eval", "demo"])
    assert result.exit_code == 1
    assert "dangol demo" in result.output and "Traceback" not in result.output


def test_an_empty_database_scores_nothing_and_misses_every_post_to_queue(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/empty.db")
    upgrade(engine)
    scores = score_demo(engine, EXPECTATIONS)
    expected = json.loads(EXPECTATIONS.read_text(encoding="utf-8"))
    assert scores["queue_recall"] == 0.0 and scores["queue_precision"] is None
    assert len(scores["missed"]) == expected["counts"]["should_queue"]
    assert "sentiment_ko" not in scores
