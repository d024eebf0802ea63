"""Staff accounts and teams, and the `dangol staff` commands."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from dangol.cli import app
from dangol.core.errors import ActionError, Conflict, Forbidden
from dangol.core.types import utcnow
from responder.accounts.auth import verify_password
from responder.accounts.staff import create_staff, list_teams, reset_password, team_key, update_staff
from storage import login_throttles
from storage.models import AuditEvent


def test_created_account_has_team_languages_and_an_audit_event(session: Session) -> None:
    staff = create_staff(
        session=session,
        username="Minji",
        password="a long password",
        role="agent",
        team="korea",
        languages=["ko", " EN", "ko"],
    )
    assert staff.username == "minji" and staff.languages == ["ko", "en"]
    assert team_key(session=session, staff=staff) == "korea"
    assert [t.key for t in list_teams(session=session)] == ["korea"]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "staff.create")).one()
    assert event.after["role"] == "agent" and "password" not in str(event.after)


def test_duplicate_username_is_a_conflict(session: Session) -> None:
    create_staff(session=session, username="mina", password="a long password", role="agent")
    with pytest.raises(Conflict, match="already taken"):
        create_staff(session=session, username="MINA", password="a long password", role="admin")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("username", "bad name!", "invalid username"), ("role", "boss", "valid roles"), ("languages", ["english"], "ISO")],
)
def test_invalid_values_are_refused_with_what_is_accepted(
    session: Session, field: str, value: object, message: str
) -> None:
    values: dict = {"username": "mina", "password": "a long password", "role": "agent", field: value}
    with pytest.raises(ActionError, match=message):
        create_staff(session=session, **values)


def test_only_admins_change_roles(session: Session) -> None:
    agent = create_staff(session=session, username="agent1", password="a long password", role="agent")
    other = create_staff(session=session, username="agent2", password="a long password", role="agent")
    with pytest.raises(Forbidden):
        update_staff(session=session, actor=agent, staff_id=other.id, role="admin")
    admin = create_staff(session=session, username="boss", password="a long password", role="admin")
    update_staff(session=session, actor=admin, staff_id=other.id, role="pr_reviewer")
    assert other.role == "pr_reviewer"


def test_password_reset_clears_lockout(session: Session) -> None:
    admin = create_staff(session=session, username="boss", password="a long password", role="admin")
    staff = create_staff(session=session, username="mina", password="a long password", role="agent")
    now = utcnow()
    for _ in range(5):
        login_throttles.record_failure(
            session, "user:mina", limit=5, first_block=timedelta(minutes=15), max_block=timedelta(hours=1), now=now
        )
    assert login_throttles.blocked_until(session, ["user:mina"], now=now) is not None
    reset_password(session=session, actor=admin, staff_id=staff.id, password="another long one")
    assert login_throttles.blocked_until(session, ["user:mina"], now=now) is None
    assert verify_password(staff.password_hash, "another long one")


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/cli.db"\n')
    return config


def test_cli_adds_the_first_admin_from_stdin_and_lists_it(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    runner = CliRunner()
    added = runner.invoke(
        app,
        [
            "--config",
            str(config),
            "staff",
            "add",
            "root",
            "--role",
            "admin",
            "--team",
            "support",
            "--languages",
            "en,ko",
            "--password-stdin",
        ],
        input="a long password\n",
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["--config", str(config), "staff", "list"])
    assert listed.exit_code == 0
    assert "root" in listed.output and "admin" in listed.output and "en,ko" in listed.output


def test_cli_refuses_an_unknown_role_without_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["--config", str(write_config(tmp_path)), "staff", "add", "x1", "--role", "boss", "--password-stdin"],
        input="a long password\n",
    )
    assert result.exit_code == 1
    assert "valid roles: agent, lead, pr_reviewer, product, admin" in result.output
    assert "Traceback" not in result.output


def test_cli_refuses_a_short_password(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["--config", str(write_config(tmp_path)), "staff", "add", "x1", "--role", "agent", "--password-stdin"],
        input="short\n",
    )
    assert result.exit_code == 1 and "at least 8" in result.output
