"""Source health, the paid read budgets (what `dangol sources` and the dashboard show), the
collection lease (one worker collects a source at a time, across processes and machines), and the
dead letters: records a source returned that could not be stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, or_, update
from sqlmodel import Session, col, select

from dangol.core.types import Billing, Page, utcnow
from storage.engine import DriverStatement
from storage.models import DeadLetter, Source

# A lease lasts this long unless renewed (every stored page renews it): a worker that died mid-run
# frees its sources after this.
LEASE_SECONDS = 300


def take_lease(
    *, session: Session, source_id: int, worker: str, now: datetime | None = None, dead_owner: str | None = None
) -> bool:
    """Lease the source to `worker` (committed) when no other worker holds a live lease, or when the
    holder is `dead_owner` (a worker known to have died); True if taken."""
    now = now or utcnow()
    holders = [worker] + ([dead_owner] if dead_owner else [])
    free = or_(col(Source.lease_owner).is_(None), col(Source.lease_until) < now, col(Source.lease_owner).in_(holders))
    taken = session.execute(
        update(Source)
        .where(col(Source.id) == source_id, free)
        .values(lease_owner=worker, lease_until=now + timedelta(seconds=LEASE_SECONDS))
    )
    session.commit()
    return bool(getattr(taken, "rowcount", 0))


# Built once and run on the driver's cursor with each page's values (one per page): building it per
# call took 0.1 ms and SQLAlchemy's execution 0.2 ms, several times what running it does. Core,
# not the ORM's UPDATE (which first matches the session's objects).
_RENEW_LEASE = DriverStatement(
    update(Source)
    .where(col(Source.id) == bindparam("source_id"), col(Source.lease_owner) == bindparam("worker"))
    .values(lease_until=bindparam("until", type_=Source.__table__.c.lease_until.type))  # type: ignore[attr-defined]
)


def renew_lease(*, session: Session, source_id: int, worker: str, now: datetime | None = None) -> bool:
    """Extend `worker`'s lease inside the caller's transaction; False when the lease was lost (it
    expired and another worker took the source): the caller must not store its page then."""
    until = (now or utcnow()) + timedelta(seconds=LEASE_SECONDS)
    renewed = _RENEW_LEASE.run(session, {"source_id": source_id, "worker": worker, "until": until})
    return renewed.rowcount > 0


def release_lease(*, session: Session, source_id: int, worker: str) -> None:
    """Give the source up (committed), if `worker` still holds it."""
    session.execute(
        update(Source)
        .where(col(Source.id) == source_id, col(Source.lease_owner) == worker)
        .values(lease_owner=None, lease_until=None)
    )
    session.commit()


def budget_period(billing: Billing, now: datetime | None = None) -> str:
    """The period usage counts against: "2026-11" (month) or "2026-11-03" (day), in the billing's
    time zone (Naver's daily limit turns over at midnight in Seoul, not in UTC)."""
    local = (now or utcnow()).astimezone(ZoneInfo(billing.timezone))
    return local.strftime("%Y-%m-%d" if billing.period == "day" else "%Y-%m")


@dataclass(frozen=True, slots=True)
class Usage:
    """A source's use of its billing this period."""

    period: str
    units: int
    spent_micros: int


def usage(source: Source, billing: Billing, *, now: datetime | None = None) -> Usage:
    """This period's units and money (zero when the stored counts belong to an earlier period)."""
    period = budget_period(billing, now)
    if source.budget_period != period:
        return Usage(period, 0, 0)
    return Usage(period, source.budget_used, source.budget_spent_micros)


def requests_allowed(source: Source, billing: Billing | None, *, now: datetime | None = None) -> int | None:
    """How many requests this run may make so that even if each bills its worst case, neither cap
    is passed; None when nothing is capped."""
    if billing is None:
        return None
    used = usage(source, billing, now=now)
    allowed: list[int] = []
    if billing.limit is not None:
        per_request = 1 if billing.unit == "calls" else max(1, billing.worst_case.get(billing.unit, 1))
        allowed.append(max(0, billing.limit - used.units) // per_request)
    if billing.spend_limit_micros is not None:
        per_request = max(1, billing.cost_micros(billing.worst_case))
        allowed.append(max(0, billing.spend_limit_micros - used.spent_micros) // per_request)
    return min(allowed) if allowed else None


def debit(*, session: Session, source_id: int, billing: Billing, page: Page, now: datetime | None = None) -> None:
    """Add `page`'s units and cost to this period's usage, in the caller's transaction, as one
    UPDATE (a new period starts from zero): the page and its cost are stored together or not at all."""
    period = budget_period(billing, now)
    units, cost = billing.units(page), billing.cost_micros(page.billed)
    same = col(Source.budget_period) == period
    session.execute(
        update(Source)
        .where(col(Source.id) == source_id)
        .values(
            budget_period=period,
            budget_used=case((same, col(Source.budget_used) + units), else_=units),
            budget_spent_micros=case((same, col(Source.budget_spent_micros) + cost), else_=cost),
        )
        .execution_options(synchronize_session=False)
    )


def describe_usage(billing: Billing, used: Usage) -> str:
    """ "1,980/2,000 posts read, $9.90/$10.00 in 2026-12" for `dangol sources` and the dashboard."""
    parts = [f"{used.units:,}" + (f"/{billing.limit:,}" if billing.limit is not None else "") + f" {billing.unit}"]
    if billing.prices_micros:
        spend = f"${used.spent_micros / 1e6:,.2f}"
        if billing.spend_limit_micros is not None:
            spend += f"/${billing.spend_limit_micros / 1e6:,.2f}"
        parts.append(spend)
    return ", ".join(parts) + f" in {used.period}"


def record_success(source: Source, *, now: datetime | None = None) -> None:
    """The run finished: clear the error streak and any throttle."""
    now = now or utcnow()
    source.last_run_at = now
    source.last_ok_at = now
    source.last_error = None
    source.consecutive_failures = 0
    source.throttled_until = None


def record_failure(source: Source, error: str, *, retry_at: datetime | None, now: datetime | None = None) -> None:
    """The run failed: keep the error (no secrets: callers pass redacted text) and when to retry."""
    source.last_run_at = now or utcnow()
    source.last_error = error[:2000]
    source.consecutive_failures += 1
    source.throttled_until = retry_at


def is_due(source: Source, *, now: datetime | None = None) -> bool:
    """False while the source is throttled or backing off after failures."""
    now = now or utcnow()
    return source.throttled_until is None or source.throttled_until <= now


def all_sources(*, session: Session) -> list[Source]:
    """Every source row, configured now or not."""
    return list(session.exec(select(Source)))


def source_by_name(*, session: Session, name: str) -> Source:
    """The source row with this name (it must exist: collecting or re-checking made it)."""
    return session.exec(select(Source).where(col(Source.name) == name)).one()


def sources_health(*, session: Session) -> list[Source]:
    """Every source row with its health, throttling and budget."""
    return list(session.execute(select(Source).order_by(col(Source.name))).scalars())


def dead_letters(*, session: Session, limit: int = 50) -> list[DeadLetter]:
    """The newest dead letters."""
    stmt = select(DeadLetter).order_by(col(DeadLetter.id).desc()).limit(limit)
    return list(session.execute(stmt).scalars())
