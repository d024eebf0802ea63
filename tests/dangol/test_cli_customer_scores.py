"""`dangol customers score`: scores every customer now and prints counts and the time taken."""

from __future__ import annotations

import re
from pathlib import Path

from sqlmodel import Session, select
from typer.testing import CliRunner

from dangol.cli import app
from dangol.core.types import utcnow
from storage.engine import make_engine, session_scope
from storage.models import Customer, CustomerScore, CustomerSegment
from tests.conftest import REPO


def test_customers_score_scores_everyone_and_prints_segment_counts(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        session.add(Customer(name="Kim", tier="vip", created_at=utcnow()))
        session.add(Customer(name="Lee", tier="standard", created_at=utcnow()))
    config = tmp_path / "config.toml"
    sample = (REPO / "config.toml").read_text(encoding="utf-8")
    config.write_text(re.sub(r'(?m)^url = "sqlite:.*"$', f'url = "{database_url}"', sample, count=1))
    result = CliRunner().invoke(app, ["--config", str(config), "customers", "score"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"customers: 2 scored in \d+\.\d\d s", lines[0]), lines
    assert "segment vip: 1 joined, 0 left" in lines and "segment at_risk: 0 joined, 0 left" in lines
    again = CliRunner().invoke(app, ["--config", str(config), "customers", "score"])
    assert "segment vip: 0 joined, 0 left" in again.stdout.splitlines()
    with Session(engine) as session:
        assert len(session.exec(select(CustomerScore)).all()) == 2
        assert [s.segment for s in session.exec(select(CustomerSegment))] == ["vip"]
    engine.dispose()
