"""Local logins: argon2 password hashes, lockout after repeated failures, idle session timeout.

`attempt_login` never raises for a wrong password: it returns what happened, after recording
the failure counters and the audit event in the caller's transaction, so a rollback cannot
erase a failed attempt. Unknown usernames cost one hash verification too, so response time
does not reveal which usernames exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from dangol.errors import Forbidden, QueueError
from dangol.settings import DashboardSettings
from dangol.types import utcnow
from responder import audit
from storage.models import Staff

MIN_PASSWORD_LENGTH = 8
_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("dangol-no-such-user")
GENERIC_FAILURE = "unknown username or wrong password"


class SessionExpired(Forbidden):
    """The dashboard session was idle too long or its account can no longer log in."""


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (which must be at least MIN_PASSWORD_LENGTH characters)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise QueueError(f"password too short: use at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches `password_hash`; a malformed or empty hash never matches."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """The outcome of one login: the staff row on success, otherwise a message safe to show."""

    ok: bool
    message: str
    staff: Staff | None = None
    locked_until: datetime | None = None


def find_staff(session: Session, username: str) -> Staff | None:
    """The staff row with this username (usernames compare case-insensitively)."""
    return session.exec(select(Staff).where(Staff.username == username.strip().lower())).first()


def attempt_login(
    *, session: Session, username: str, password: str, settings: DashboardSettings, now: datetime | None = None
) -> LoginAttempt:
    """Check a username and password, applying lockout; every outcome is audited."""
    now = now or utcnow()
    staff = find_staff(session, username)
    if staff is None or not staff.active:
        verify_password(_DUMMY_HASH, password)
        audit.record(
            session, entity_type="staff", actor=username[:100], action="auth.login_failed", entity_id=username[:100]
        )
        return LoginAttempt(ok=False, message=GENERIC_FAILURE)
    if staff.locked_until is not None and staff.locked_until > now:
        audit.record(
            session, entity_type="staff", actor=staff.username, action="auth.login_locked", entity_id=str(staff.id)
        )
        return _locked(staff.locked_until)
    if not verify_password(staff.password_hash, password):
        return _record_failure(session, staff, settings, now)
    staff.failed_logins = 0
    staff.locked_until = None
    staff.last_login_at = now
    session.add(staff)
    audit.record(session, entity_type="staff", actor=staff.username, action="auth.login", entity_id=str(staff.id))
    session.flush()
    return LoginAttempt(ok=True, message=f"welcome, {staff.display_name or staff.username}", staff=staff)


def _record_failure(session: Session, staff: Staff, settings: DashboardSettings, now: datetime) -> LoginAttempt:
    staff.failed_logins += 1
    audit.record(
        session,
        entity_type="staff",
        actor=staff.username,
        action="auth.login_failed",
        entity_id=str(staff.id),
        after={"failed_logins": staff.failed_logins},
    )
    if staff.failed_logins >= settings.lockout_attempts:
        staff.locked_until = now + timedelta(minutes=settings.lockout_minutes)
        staff.failed_logins = 0
        audit.record(
            session,
            entity_type="staff",
            actor=staff.username,
            action="auth.lockout",
            entity_id=str(staff.id),
            after={"locked_until": staff.locked_until.isoformat()},
        )
    session.add(staff)
    session.flush()
    if staff.locked_until is not None and staff.locked_until > now:
        return _locked(staff.locked_until)
    return LoginAttempt(ok=False, message=GENERIC_FAILURE)


def _locked(until: datetime) -> LoginAttempt:
    return LoginAttempt(
        ok=False,
        message=f"too many failed logins: account locked until {until:%Y-%m-%d %H:%M} UTC",
        locked_until=until,
    )


def session_expired(last_activity: datetime, settings: DashboardSettings, now: datetime | None = None) -> bool:
    """True when more than session_timeout_minutes have passed since `last_activity`."""
    return (now or utcnow()) - last_activity > timedelta(minutes=settings.session_timeout_minutes)


def current_staff(
    *,
    session: Session,
    staff_id: int,
    last_activity: datetime,
    settings: DashboardSettings,
    now: datetime | None = None,
) -> Staff:
    """The logged-in staff row, freshly loaded (so role changes apply at once), or SessionExpired."""
    if session_expired(last_activity, settings, now):
        raise SessionExpired(f"session expired after {settings.session_timeout_minutes} idle minutes; log in again")
    staff = session.get(Staff, staff_id)
    if staff is None or not staff.active:
        raise SessionExpired("this account is no longer active; ask an admin")
    return staff


def record_logout(*, session: Session, staff_id: int, reason: str = "logout") -> None:
    """Audit a logout (`logout` or `timeout`)."""
    staff = session.get(Staff, staff_id)
    if staff is not None:
        audit.record(
            session, entity_type="staff", actor=staff.username, action=f"auth.{reason}", entity_id=str(staff_id)
        )
