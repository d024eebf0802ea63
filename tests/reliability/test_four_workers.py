"""Four real `dangol run` workers on one PostgreSQL database, from brand-new sources: collect,
analyze (the real encoder), route and the periodic jobs together, with a paid source's budget.
The same harness as the soak benchmark (bench/soak.py), at a test's size."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.soak import soak
from dangol.core.settings import load_settings
from nlp.analyzer import Analyzer

pytestmark = pytest.mark.slow


def test_four_workers_store_analyze_and_queue_every_post_once_with_no_error(postgres_url: str, tmp_path: Path):
    Analyzer.from_settings(load_settings(None))  # exports the encoder once, not in four workers at once
    result = soak(postgres_url, posts=600, workers=4, timeout_s=600, work=tmp_path, sources=3, budget=1000)
    assert result["finished"], result
    assert (result["lost"], result["duplicated"], result["overspent"]) == (0, 0, 0), result
    assert result["posts"] == result["analyses"] == result["routed"] == 600
    assert result["queue_items_without_one_post"] == 0
    assert result["budget"] == {"soak_c": {"cap": 1000, "used": 200}}  # the paid source's posts, debited once
    assert result["job_runs"]["slots_run_more_than_once"] == 0
    assert result["worker_error_lines"] == [], result["worker_error_lines"]
