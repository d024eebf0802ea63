"""`dangol bench pipeline` under the fast profile: every post analyzed and stored through the static encoder."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bench.pipeline import bench_pipeline
from dangol.core.settings import load_settings
from storage.engine import make_engine

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_fast_profile_analyzes_and_stores_every_post(tmp_path: Path) -> None:
    settings = load_settings(REPO / "config.toml", overrides={"nlp": {"profile": "fast"}})
    result = bench_pipeline(settings, 300, tmp_path, duplicate_share=0.3).as_json()
    assert result["posts"] == 300 and result["posts_per_s"] > 0
    engine = make_engine(f"sqlite:///{tmp_path}/bench-pipeline.db")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT model_versions, risk_breakdown, length(embedding) FROM analysis")).all()
        unanalyzed = conn.execute(text("SELECT count(*) FROM post WHERE analyzed = 0")).scalar()
    engine.dispose()
    assert len(rows) == 300 and unanalyzed == 0
    # 256 float32 dimensions per stored embedding, the static encoder named in every row.
    assert {length for _, _, length in rows} == {256 * 4}
    assert all('"encoder": "static:' in versions and breakdown != "{}" for versions, breakdown, _ in rows)
