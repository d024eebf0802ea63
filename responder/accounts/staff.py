"""Staff accounts and teams: create, list, change role or team, reset passwords, unlock.

`create_staff` is also how the first admin is made (from the CLI, which is trusted: whoever can
run it already holds the server). Every change made from the dashboard passes the acting staff
member, whose role is checked with `permissions.require`, and is audited.
"""

from __future__ import annotations

import re

from sqlmodel import Session

from dangol.core.errors import ActionError, Conflict, NotFound
from dangol.core.permissions import require, validate_role
from dangol.core.text import LANGUAGE_CODE
from dangol.core.types import utcnow
from responder.accounts.auth import hash_password
from storage import audit, dashboard_sessions
from storage import login_throttles as throttles
from storage import staff as staff_store
from storage.models import Staff, Team

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def ensure_team(*, session: Session, key: str, name: str | None = None) -> Team:
    """The team with this key, created (named after the key unless `name` is given) on first use."""
    key = key.strip().lower()
    if not USERNAME.match(key):
        raise ActionError(f"invalid team key {key!r}: use lowercase letters, digits, '.', '_' or '-'")
    team = staff_store.team_by_key(session=session, key=key)
    if team is None:
        team = Team(key=key, name=name or key.replace("_", " ").title())
        session.add(team)
        session.flush()
    return team


def save_team(*, session: Session, actor: Staff, key: str, name: str | None = None) -> Team:
    """Create a team, or rename one (`admin.teams`); audited with the name before and after."""
    require(actor, "admin.teams")
    key = key.strip().lower()
    existing = staff_store.team_by_key(session=session, key=key)
    before = {"name": existing.name} if existing else {}
    team = ensure_team(session=session, key=key, name=name)
    if name and name.strip():
        team.name = name.strip()
    session.flush()
    audit.record(
        session, actor=actor, action="team.save", entity_type="team", entity_id=team.key, before=before,
        after={"name": team.name},
    )  # fmt: skip
    return team


def list_teams(*, session: Session) -> list[Team]:
    """Every team, by key."""
    return staff_store.all_teams(session=session)


def clean_languages(languages: list[str] | None) -> list[str]:
    """Lowercase ISO 639 codes, deduplicated in order; anything else is refused."""
    cleaned: list[str] = []
    for code in languages or []:
        code = code.strip().lower()
        if not code:
            continue
        if not LANGUAGE_CODE.match(code):
            raise ActionError(f"invalid language code {code!r}: use ISO 639 codes such as en, ko")
        if code not in cleaned:
            cleaned.append(code)
    return cleaned


def create_staff(
    *,
    session: Session,
    username: str,
    password: str,
    role: str,
    team: str | None = None,
    languages: list[str] | None = None,
    display_name: str = "",
    capacity: int = 10,
    actor: str = "system:cli",
) -> Staff:
    """Create an account; Conflict if the username is taken, ActionError for invalid values."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise ActionError(f"invalid username {username!r}: 2-64 of a-z, 0-9, '.', '_' or '-', starting with a-z or 0-9")
    validate_role(role)
    if staff_store.staff_by_username(session=session, username=username) is not None:
        raise Conflict(f"username {username!r} is already taken")
    if capacity < 1:
        raise ActionError("capacity must be at least 1 open item")
    staff = Staff(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=hash_password(password),
        role=role,
        team_id=ensure_team(session=session, key=team).id if team else None,
        languages=clean_languages(languages),
        capacity=capacity,
    )
    session.add(staff)
    session.flush()
    audit.record(
        session, actor=actor, action="staff.create", entity_type="staff", entity_id=staff.id,
        after={"username": username, "role": role, "team": team},
    )  # fmt: skip
    return staff


def list_staff(*, session: Session, include_inactive: bool = True) -> list[Staff]:
    """Staff accounts by username."""
    return staff_store.all_staff(session=session, include_inactive=include_inactive)


def get_staff(*, session: Session, staff_id: int) -> Staff:
    """The staff row, or NotFound."""
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound(f"no staff member with id {staff_id}")
    return staff


def team_key(*, session: Session, staff: Staff) -> str | None:
    """The key of the staff member's team, if any."""
    team = session.get(Team, staff.team_id) if staff.team_id else None
    return team.key if team else None


def update_staff(
    *,
    session: Session,
    actor: Staff,
    staff_id: int,
    role: str | None = None,
    team: str | None = None,
    languages: list[str] | None = None,
    capacity: int | None = None,
    active: bool | None = None,
) -> Staff:
    """Change an account's role, team, languages, capacity or active flag (admin.staff)."""
    require(actor, "admin.staff")
    staff = get_staff(session=session, staff_id=staff_id)
    before = {"role": staff.role, "team_id": staff.team_id, "active": staff.active}
    if role is not None:
        staff.role = validate_role(role)
    if team is not None:
        staff.team_id = ensure_team(session=session, key=team).id if team else None
    if languages is not None:
        staff.languages = clean_languages(languages)
    if capacity is not None:
        if capacity < 1:
            raise ActionError("capacity must be at least 1 open item")
        staff.capacity = capacity
    if active is not None:
        if not active and staff.id == actor.id:
            raise ActionError("you cannot deactivate your own account")
        staff.active = active
    session.add(staff)
    audit.record(
        session, actor=actor, action="staff.update", entity_type="staff", entity_id=staff.id, before=before,
        after={"role": staff.role, "team_id": staff.team_id, "active": staff.active},
    )  # fmt: skip
    session.flush()
    return staff


def reset_password(*, session: Session, actor: Staff | None, staff_id: int, password: str) -> None:
    """Set a new password and clear any lockout (admin.staff; `actor=None` only from the CLI)."""
    if actor is not None:
        require(actor, "admin.staff")
    staff = get_staff(session=session, staff_id=staff_id)
    staff.password_hash = hash_password(password)
    throttles.clear(session, throttles.user_key(staff.username))
    # A reset is often because the password leaked: logins kept by cookie end with it.
    dashboard_sessions.revoke_staff_sessions(session=session, staff_id=staff_id, now=utcnow())
    session.add(staff)
    audit.record(
        session, actor=actor or "system:cli", action="staff.password_reset", entity_type="staff", entity_id=staff_id
    )
    session.flush()


def unlock(*, session: Session, actor: Staff | None, staff_id: int) -> None:
    """Lift a staff member's login block before it runs out (admin.staff; `actor=None` only from the CLI)."""
    staff = get_staff(session=session, staff_id=staff_id)
    lift_block(session=session, actor=actor, key=throttles.user_key(staff.username))


def lift_block(*, session: Session, actor: Staff | None, key: str) -> None:
    """Forget the failed logins of one username or client (`LoginThrottle.key`) and lift its block
    (admin.staff; `actor=None` only from the CLI); audited."""
    if actor is not None:
        require(actor, "admin.staff")
    throttles.clear(session, key)
    audit.record(session, actor=actor or "system:cli", action="staff.unlock", entity_type="login", entity_id=key)
    session.flush()
