"""`dangol customers export`: the privacy export from the command line is audited like the dashboard's."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session, select
from typer.testing import CliRunner

from dangol.cli import app
from dangol.core.types import utcnow
from storage.engine import make_engine, session_scope
from storage.models import AuditEvent, Customer


def test_each_cli_export_writes_one_audit_event_as_the_cli_and_a_failed_one_none(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        customer = Customer(name="Kim Minji", email="kim@example.com", created_at=utcnow())
        session.add(customer)
        session.flush()
        customer_id = customer.id
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n')
    base = ["--config", str(config), "customers", "export"]
    exported = CliRunner().invoke(app, [*base, str(customer_id)])
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout)["customer"]["email"] == "kim@example.com"
    missing = CliRunner().invoke(app, [*base, "999"])
    assert missing.exit_code == 1 and "no customer with id 999" in missing.output
    with Session(engine) as session:
        events = [(e.actor, e.action, e.entity_type, e.entity_id) for e in session.exec(select(AuditEvent))]
    engine.dispose()
    assert events == [("system:cli", "customer.export", "customer", str(customer_id))]


def test_a_segment_csv_from_the_command_line_is_audited_and_names_no_one(database_url: str, tmp_path: Path) -> None:
    import csv
    import io

    from storage.models import CustomerScore, CustomerSegment

    engine = make_engine(database_url)
    with session_scope(engine) as session:
        customer = Customer(name="Kim Minji", email="kim@example.com", created_at=utcnow())
        session.add(customer)
        session.flush()
        session.add(CustomerSegment(customer_id=customer.id, segment="at_risk", since=utcnow()))
        session.add(
            CustomerScore(customer_id=customer.id, activity=0.5, mood=0.2, service=0.0, reach=0.1, value=0.3,
                          trend="worsening", segments=["at_risk"], breakdown={}, computed_at=utcnow())
        )  # fmt: skip
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n[segments.at_risk]\nname = "At risk"\nunresolved = true\n')
    base = ["--config", str(config), "customers", "segment-csv"]
    unknown = CliRunner().invoke(app, [*base, "at_rsik"])
    assert unknown.exit_code == 1 and "unknown segment 'at_rsik'; configured: at_risk" in unknown.output
    done = CliRunner().invoke(app, [*base, "at_risk", "--out", str(tmp_path / "risk.csv")])
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "risk.csv").read_text(encoding="utf-8"))))
    assert len(rows) == 1 and "Kim Minji" not in str(rows) and "kim@example.com" not in str(rows)
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "segment.export")).all()
    assert [(e.actor, e.entity_id, e.after) for e in events] == [("system:cli", "at_risk", {"customers": 1})]
    engine.dispose()
