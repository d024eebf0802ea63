"""Staff accounts and teams: look-ups by username and key, the active roster, who wrote what."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from storage.models import Staff, Team


def staff_by_username(*, session: Session, username: str) -> Staff | None:
    """The staff row with exactly this username (callers normalise it; usernames are stored lowercase)."""
    return session.exec(select(Staff).where(Staff.username == username)).first()


def all_staff(*, session: Session, include_inactive: bool = True) -> list[Staff]:
    """Staff accounts by username; active ones only unless `include_inactive`."""
    stmt = select(Staff).order_by(col(Staff.username))
    if not include_inactive:
        stmt = stmt.where(col(Staff.active).is_(True))
    return list(session.exec(stmt))


def active_staff(*, session: Session) -> list[Staff]:
    """Every active account, in the database's order (the assigner ranks them itself)."""
    return list(session.exec(select(Staff).where(Staff.active == True)))  # noqa: E712


def usernames(staff_ids: Iterable[int], *, session: Session) -> dict[int, str]:
    """Staff id → username for these ids (unknown ids are left out)."""
    ids = list(staff_ids)
    if not ids:
        return {}
    rows = session.exec(select(Staff.id, Staff.username).where(col(Staff.id).in_(ids)))
    return {staff_id or 0: name for staff_id, name in rows}


def has_staff(*, session: Session) -> bool:
    """True once any account exists."""
    return session.exec(select(Staff.id).limit(1)).first() is not None


def team_by_key(*, session: Session, key: str) -> Team | None:
    """The team with exactly this key."""
    return session.exec(select(Team).where(Team.key == key)).first()


def all_teams(*, session: Session) -> list[Team]:
    """Every team, by key."""
    return list(session.exec(select(Team).order_by(col(Team.key))))


def team_keys(*, session: Session) -> set[str]:
    """The keys of every team in the table."""
    return set(session.exec(select(Team.key)))


def staffed_team_keys(*, session: Session) -> set[str]:
    """The keys of teams that have at least one account (active or not)."""
    return set(session.exec(select(Team.key).join(Staff, col(Staff.team_id) == col(Team.id))))


def staff_allowed(action: str, *, session: Session) -> list[Staff]:
    """Active staff whose role grants `action`, by id."""
    from dangol.core.permissions import allowed

    rows = session.exec(select(Staff).where(Staff.active == True).order_by(col(Staff.id)))  # noqa: E712
    return [s for s in rows if allowed(s, action)]


def team_leads(team_key: str | None, *, session: Session) -> list[Staff]:
    """The active staff with role `lead` in the team `team_key` (none for no team)."""
    if not team_key:
        return []
    stmt = (
        select(Staff)
        .join(Team, col(Staff.team_id) == col(Team.id))
        .where(Team.key == team_key, Staff.role == "lead", Staff.active == True)  # noqa: E712
        .order_by(col(Staff.id))
    )
    return list(session.exec(stmt))


def staff_by_usernames(names: Iterable[str], *, session: Session) -> list[Staff]:
    """The staff rows with these usernames (unknown names are left out)."""
    wanted = [n.lower() for n in names]
    if not wanted:
        return []
    return list(session.exec(select(Staff).where(col(Staff.username).in_(wanted)).order_by(col(Staff.id))))
