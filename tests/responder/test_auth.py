"""Logins: argon2 hashes, lockout after repeated failures, idle timeout, and the audit trail."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from dangol.core.errors import ActionError
from dangol.core.settings import DashboardSettings
from dangol.core.types import utcnow
from responder.accounts.auth import (
    SessionExpired,
    attempt_login,
    current_staff,
    hash_password,
    verify_password,
)
from responder.accounts.staff import create_staff, update_staff
from storage.models import AuditEvent, Staff

SETTINGS = DashboardSettings(lockout_attempts=3, lockout_minutes=15, session_timeout_minutes=60)


def actions(session: Session) -> list[str]:
    return [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]


def make(session: Session, username: str = "mina", role: str = "agent") -> Staff:
    return create_staff(session=session, username=username, password="correct horse", role=role)


def test_password_is_stored_as_argon2_hash_and_verifies() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$") and "correct horse" not in hashed
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "wrong horse")
    assert not verify_password("", "correct horse")


def test_short_password_is_refused_with_the_minimum_length() -> None:
    with pytest.raises(ActionError, match="at least 8"):
        hash_password("short")


def test_right_password_logs_in_and_is_audited(session: Session) -> None:
    make(session)
    result = attempt_login(session=session, username="Mina", password="correct horse", settings=SETTINGS)
    assert result.ok and result.staff is not None and result.staff.last_login_at is not None
    assert actions(session)[-1] == "auth.login"


def test_unknown_user_and_wrong_password_get_the_same_message(session: Session) -> None:
    make(session)
    unknown = attempt_login(session=session, username="nobody", password="correct horse", settings=SETTINGS)
    wrong = attempt_login(session=session, username="mina", password="wrong", settings=SETTINGS)
    assert not unknown.ok and not wrong.ok
    assert unknown.message == wrong.message
    assert actions(session)[-2:] == ["auth.login_failed", "auth.login_failed"]


def test_a_username_with_a_nul_character_is_a_failed_login_not_an_error(session: Session) -> None:
    # The login form's "mi%00na": PostgreSQL refused the NUL in the throttle's key and the audit row.
    make(session)
    for password in ("wrong", "correct horse"):
        result = attempt_login(session=session, username="mi\x00na", password=password, settings=SETTINGS)
        assert not result.ok
    session.flush()
    assert actions(session)[-2:] == ["auth.login_failed", "auth.login_failed"]


def test_account_is_blocked_after_configured_failures_even_for_the_right_password(session: Session) -> None:
    make(session)
    now = utcnow()
    for _ in range(3):
        attempt_login(session=session, username="mina", password="wrong", settings=SETTINGS, now=now)
    blocked = attempt_login(session=session, username="mina", password="correct horse", settings=SETTINGS, now=now)
    assert not blocked.ok and blocked.locked_until == now + timedelta(minutes=15)
    assert "try again after" in blocked.message
    assert "auth.lockout" in actions(session) and actions(session)[-1] == "auth.login_throttled"


def test_an_unknown_username_is_blocked_with_the_same_answer_as_a_real_one(session: Session) -> None:
    make(session)
    now = utcnow()
    answers = {}
    for name in ("mina", "nobody"):
        for _ in range(3):
            attempt_login(session=session, username=name, password="wrong", settings=SETTINGS, client=name, now=now)
        answers[name] = attempt_login(
            session=session, username=name, password="x", settings=SETTINGS, client=name, now=now
        ).message
    assert answers["mina"] == answers["nobody"]
    assert "try again after" in answers["nobody"]


def test_blocks_in_a_row_double_up_to_the_cap_and_never_lock_for_good(session: Session) -> None:
    make(session)
    settings = SETTINGS.model_copy(update={"lockout_max_minutes": 50})
    now = utcnow()
    lengths = []
    for _ in range(4):
        for _ in range(3):
            result = attempt_login(session=session, username="mina", password="wrong", settings=settings, now=now)
        assert result.locked_until is not None
        lengths.append(round((result.locked_until - now).total_seconds() / 60))
        now = result.locked_until + timedelta(seconds=1)
    assert lengths == [15, 30, 50, 50]
    assert attempt_login(session=session, username="mina", password="correct horse", settings=settings, now=now).ok


def test_one_client_guessing_many_usernames_is_blocked_on_its_own_count(session: Session) -> None:
    make(session)
    settings = SETTINGS.model_copy(update={"client_attempts": 4})
    now = utcnow()
    for i in range(4):
        attempt_login(
            session=session, username=f"guess{i}", password="x", settings=settings, client="10.0.0.9", now=now
        )
    from_guesser = attempt_login(
        session=session, username="mina", password="correct horse", settings=settings, client="10.0.0.9", now=now
    )
    elsewhere = attempt_login(
        session=session, username="mina", password="correct horse", settings=settings, client="10.0.0.2", now=now
    )
    assert not from_guesser.ok and elsewhere.ok


def test_lockout_ends_after_lockout_minutes(session: Session) -> None:
    make(session)
    now = utcnow()
    for _ in range(3):
        attempt_login(session=session, username="mina", password="wrong", settings=SETTINGS, now=now)
    later = now + timedelta(minutes=16)
    assert attempt_login(session=session, username="mina", password="correct horse", settings=SETTINGS, now=later).ok


def test_a_success_resets_the_failure_count_and_an_admin_sees_and_lifts_blocks(session: Session) -> None:
    from responder.accounts.staff import lift_block
    from storage import login_throttles

    admin = make(session, "boss", "admin")
    make(session)
    attempt_login(session=session, username="mina", password="wrong", settings=SETTINGS)
    attempt_login(session=session, username="mina", password="correct horse", settings=SETTINGS)
    assert login_throttles.current(session) == []
    for _ in range(3):
        attempt_login(session=session, username="mina", password="wrong", settings=SETTINGS)
    assert [r.key for r in login_throttles.current(session) if r.blocked_until] == ["user:mina"]
    lift_block(session=session, actor=admin, key="user:mina")
    assert attempt_login(session=session, username="mina", password="correct horse", settings=SETTINGS).ok
    assert "staff.unlock" in actions(session)


def test_deactivated_account_cannot_log_in(session: Session) -> None:
    admin = make(session, "boss", "admin")
    staff = make(session)
    update_staff(session=session, actor=admin, staff_id=staff.id, active=False)
    assert not attempt_login(session=session, username="mina", password="correct horse", settings=SETTINGS).ok


def test_idle_session_expires_after_timeout(session: Session) -> None:
    staff = make(session)
    now = utcnow()
    fresh = current_staff(
        session=session, staff_id=staff.id, last_activity=now - timedelta(minutes=59), settings=SETTINGS, now=now
    )
    assert fresh.id == staff.id
    with pytest.raises(SessionExpired, match="60 idle minutes"):
        current_staff(
            session=session, staff_id=staff.id, last_activity=now - timedelta(minutes=61), settings=SETTINGS, now=now
        )


def test_current_staff_sees_a_role_change_at_once(session: Session) -> None:
    admin = make(session, "boss", "admin")
    staff = make(session)
    update_staff(session=session, actor=admin, staff_id=staff.id, role="product")
    session.commit()
    reloaded = current_staff(session=session, staff_id=staff.id, last_activity=utcnow(), settings=SETTINGS)
    assert reloaded.role == "product"


def test_a_kept_session_resumes_until_idle_or_too_old_and_stores_only_a_hash(session: Session) -> None:
    from responder.accounts.auth import resume_session, start_session
    from storage.models import DashboardSession

    staff = make(session)
    settings = DashboardSettings(session_timeout_minutes=60, session_max_hours=12)
    start = utcnow()
    token = start_session(session=session, staff_id=staff.id, settings=settings, now=start)
    [row] = session.exec(select(DashboardSession)).all()
    assert len(token) >= 40 and token not in row.token_hash  # a copy of the table logs nobody in
    # Used every 50 minutes it stays alive, but not past 12 hours after the login.
    at = start
    for _ in range(14):
        at += timedelta(minutes=50)
        assert resume_session(session=session, token=token, settings=settings, now=at).id == staff.id
    with pytest.raises(SessionExpired, match="12 hours after login"):
        resume_session(session=session, token=token, settings=settings, now=at + timedelta(minutes=50))
    # Revoked on expiry: even a clock set back does not bring it back.
    with pytest.raises(SessionExpired, match="logged out"):
        resume_session(session=session, token=token, settings=settings, now=start + timedelta(minutes=1))
    idle = start_session(session=session, staff_id=staff.id, settings=settings, now=start)
    with pytest.raises(SessionExpired, match="60 idle minutes"):
        resume_session(session=session, token=idle, settings=settings, now=start + timedelta(minutes=61))
    with pytest.raises(SessionExpired, match="logged out"):
        resume_session(session=session, token="not-a-token", settings=settings, now=start)


def test_logout_a_password_reset_and_deactivation_end_kept_sessions(session: Session) -> None:
    from responder.accounts.auth import end_session, resume_session, start_session
    from responder.accounts.staff import reset_password

    admin = make(session, "boss", "admin")
    staff = make(session)
    token = start_session(session=session, staff_id=staff.id, settings=SETTINGS)
    assert end_session(session=session, token=token) is True
    assert end_session(session=session, token=token) is False  # already revoked
    with pytest.raises(SessionExpired, match="logged out"):
        resume_session(session=session, token=token, settings=SETTINGS)
    token = start_session(session=session, staff_id=staff.id, settings=SETTINGS)
    reset_password(session=session, actor=admin, staff_id=staff.id, password="a new long password")
    with pytest.raises(SessionExpired, match="logged out"):
        resume_session(session=session, token=token, settings=SETTINGS)
    token = start_session(session=session, staff_id=staff.id, settings=SETTINGS)
    update_staff(session=session, actor=admin, staff_id=staff.id, active=False)
    with pytest.raises(SessionExpired, match="no longer active"):
        resume_session(session=session, token=token, settings=SETTINGS)


def test_a_new_login_forgets_the_staff_members_ended_sessions_only(session: Session) -> None:
    from responder.accounts.auth import end_session, start_session
    from storage.models import DashboardSession

    settings = DashboardSettings(session_max_hours=12)
    staff, other = make(session), make(session, "jun")
    start = utcnow()
    start_session(session=session, staff_id=staff.id, settings=settings, now=start - timedelta(hours=13))  # too old
    ended = start_session(session=session, staff_id=staff.id, settings=settings, now=start - timedelta(hours=1))
    start_session(session=session, staff_id=staff.id, settings=settings, now=start - timedelta(hours=1))  # live
    end_session(session=session, token=ended)
    start_session(
        session=session, staff_id=other.id, settings=settings, now=start - timedelta(hours=13)
    )  # not theirs to end
    start_session(session=session, staff_id=staff.id, settings=settings, now=start)
    kept = session.exec(select(DashboardSession.staff_id, DashboardSession.created_at)).all()
    assert sorted(staff_id for staff_id, _ in kept) == sorted([staff.id, staff.id, other.id])  # live + new + theirs
