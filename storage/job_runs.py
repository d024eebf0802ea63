"""Claims of scheduled-job slots: the first worker to claim (job, slot) runs it, the others skip."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.models import JobRun


def claim_slot(*, session: Session, job: str, slot: str, worker: str, now: datetime) -> bool:
    """True when this call claimed `job`'s `slot` (and committed the claim); False when another
    worker already had it. The unique (job, slot) constraint decides, so it holds across processes
    and machines."""
    session.add(JobRun(job=job, slot=slot, worker=worker, started_at=now))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True
