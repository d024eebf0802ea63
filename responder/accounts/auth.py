"""Local logins: argon2 password hashes, throttling of repeated failures, idle session timeout.

`attempt_login` never raises for a wrong password: it returns what happened, after recording
the failure counters and the audit event in the caller's transaction, so a rollback cannot
erase a failed attempt. Unknown usernames cost one hash verification too, so response time
does not reveal which usernames exist.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session

from dangol.core.errors import ActionError, Forbidden
from dangol.core.settings import DashboardSettings
from dangol.core.types import utcnow
from storage import audit, dashboard_sessions
from storage import login_throttles as throttles
from storage.models import Staff
from storage.staff import staff_by_username

MIN_PASSWORD_LENGTH = 8
_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("dangol-no-such-user")
GENERIC_FAILURE = "unknown username or wrong password"
# A kept session's last use is written at most this often: the dashboard checks the session on
# every click, and a write per click is a cost the idle timeout (minutes) does not need.
TOUCH_EVERY = timedelta(seconds=30)


class SessionExpired(Forbidden):
    """The dashboard session was idle too long or its account can no longer log in."""


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (which must be at least MIN_PASSWORD_LENGTH characters)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ActionError(f"password too short: use at least {MIN_PASSWORD_LENGTH} characters")
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
    return staff_by_username(session=session, username=username.strip().lower())


def attempt_login(
    *,
    session: Session,
    username: str,
    password: str,
    settings: DashboardSettings,
    client: str = "unknown",
    now: datetime | None = None,
) -> LoginAttempt:
    """Check a username and password from `client` (its address), applying throttling per username
    and per client; every outcome is audited, and a known and an unknown username answer alike."""
    now = now or utcnow()
    # A NUL names nobody (no username holds one) and PostgreSQL refuses it in the throttle's key and
    # the audit row: a failed login, counted and audited under the name without it.
    names_nobody = "\x00" in username
    username = username.replace("\x00", "")
    name_key, address_key = throttles.user_key(username), throttles.client_key(client)
    blocked = throttles.blocked_until(session, [name_key, address_key], now=now)
    if blocked is not None:
        audit.record(
            session,
            entity_type="login",
            actor=username[:100],
            action="auth.login_throttled",
            entity_id=username[:100],
            after={"client": client[:100], "blocked_until": blocked.isoformat()},
        )
        return _blocked(blocked)
    staff = None if names_nobody else find_staff(session, username)
    if staff is None or not staff.active:
        verify_password(_DUMMY_HASH, password)
        return _record_failure(session, username, client, settings, now)
    if not verify_password(staff.password_hash, password):
        return _record_failure(session, username, client, settings, now)
    throttles.clear(session, name_key)
    throttles.clear(session, address_key)
    staff.last_login_at = now
    session.add(staff)
    audit.record(session, entity_type="staff", actor=staff.username, action="auth.login", entity_id=str(staff.id))
    session.flush()
    return LoginAttempt(ok=True, message=f"welcome, {staff.display_name or staff.username}", staff=staff)


def _record_failure(
    session: Session, username: str, client: str, settings: DashboardSettings, now: datetime
) -> LoginAttempt:
    """Count the failure on the username and on the client, auditing any block it earns."""
    audit.record(
        session,
        entity_type="login",
        actor=username[:100],
        action="auth.login_failed",
        entity_id=username[:100],
        after={"client": client[:100]},
    )
    first, cap = timedelta(minutes=settings.lockout_minutes), timedelta(minutes=settings.lockout_max_minutes)
    blocked: list[datetime] = []
    for key, limit in (
        (throttles.user_key(username), settings.lockout_attempts),
        (throttles.client_key(client), settings.client_attempts),
    ):
        row = throttles.record_failure(session, key, limit=limit, first_block=first, max_block=cap, now=now)
        # A block still running was refused above, so one running now was earned by this failure.
        if row.blocked_until is not None and row.blocked_until > now:
            blocked.append(row.blocked_until)
            audit.record(
                session,
                entity_type="login",
                actor="system:auth",
                action="auth.lockout",
                entity_id=key,
                after={"blocked_until": row.blocked_until.isoformat(), "blocks_in_a_row": row.blocks},
            )
    return _blocked(max(blocked)) if blocked else LoginAttempt(ok=False, message=GENERIC_FAILURE)


def _blocked(until: datetime) -> LoginAttempt:
    return LoginAttempt(
        ok=False,
        message=f"too many failed logins; try again after {until:%Y-%m-%d %H:%M} UTC",
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


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(*, session: Session, staff_id: int, settings: DashboardSettings, now: datetime | None = None) -> str:
    """A new login that survives a reload: returns the random token for the browser's HttpOnly
    cookie; only its hash is stored. The staff member's ended sessions are forgotten now."""
    now = now or utcnow()
    dashboard_sessions.delete_ended(
        session=session, staff_id=staff_id, started_before=now - timedelta(hours=settings.session_max_hours)
    )
    token = secrets.token_urlsafe(32)
    dashboard_sessions.add_session(session=session, token_hash=_token_hash(token), staff_id=staff_id, now=now)
    return token


def resume_session(
    *, session: Session, token: str, settings: DashboardSettings, now: datetime | None = None, touch: bool = True
) -> Staff:
    """The staff member behind a session cookie, with the session marked as used now; SessionExpired
    when the token is unknown, revoked, idle longer than session_timeout_minutes, older than
    session_max_hours, or its account can no longer log in (an expired session is revoked).

    `touch=False` checks without marking the session used: a page refreshing itself on a timer is
    not the person being active, and must not hold an idle session open."""
    now = now or utcnow()
    row = dashboard_sessions.session_by_hash(session=session, token_hash=_token_hash(token))
    if row is None or row.revoked_at is not None:
        raise SessionExpired("you were logged out; log in again")
    assert row.created_at is not None and row.last_seen_at is not None
    if now - row.created_at > timedelta(hours=settings.session_max_hours):
        row.revoked_at = now
        raise SessionExpired(f"sessions end {settings.session_max_hours} hours after login; log in again")
    if session_expired(row.last_seen_at, settings, now):
        row.revoked_at = now
        raise SessionExpired(f"session expired after {settings.session_timeout_minutes} idle minutes; log in again")
    staff = session.get(Staff, row.staff_id)
    if staff is None or not staff.active:
        row.revoked_at = now
        raise SessionExpired("this account is no longer active; ask an admin")
    if touch and now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
    return staff


def end_session(*, session: Session, token: str, now: datetime | None = None) -> bool:
    """Revoke the session behind a cookie (logout): the token is refused from now on, whoever holds
    it. True when a live session was revoked."""
    return dashboard_sessions.revoke_session(session=session, token_hash=_token_hash(token), now=now or utcnow()) > 0
