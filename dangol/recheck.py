"""Re-checking recent posts against their platforms, and removing what was deleted there.

A collector sees a post once, when it is new; X's, Mastodon's and Bluesky's developer terms
require a post deleted on the platform to be deleted here too. So each source that can
(`listener.base.Rechecker`) is asked, in batches, whether the posts it stored in the last days
still exist: the ones it says are gone lose their text (storage.deletions), each removal is
audited, and every post asked about is stamped so the next run asks about others first.

A source is re-checked under its collection lease, like a collection, so a paid source's caps
hold: a run asks about no more posts than fit under them even if every one is billed, and each
answer is debited in the transaction that applies it. A failed request (network, 5xx, 401, a
rate limit) ends that source's run with nothing taken as deleted; the others go on.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from dangol.core.errors import DangolError, RateLimited
from dangol.core.redact import redact_secrets, secret_values
from dangol.core.settings import Settings, SourceSettings, named_sources
from dangol.core.types import Billing, Page, Recheck, utcnow
from storage import deletions, ingest, sources
from storage.engine import database_unavailable, session_scope
from storage.models import Source

if TYPE_CHECKING:
    from listener.base import Rechecker

log = logging.getLogger(__name__)
ACTOR = "system:deletion_recheck"


@dataclass(slots=True)
class RecheckRun:
    """What re-checking one source did."""

    source: str
    checked: int = 0
    deleted: int = 0
    requests: int = 0
    status: str = "ok"  # ok | skipped | budget | throttled | failed | unsupported
    error: str | None = None

    def __str__(self) -> str:
        requests = f"{self.requests} request" + ("" if self.requests == 1 else "s")
        line = f"{self.source}: {self.status}, {self.checked} posts checked in {requests}"
        line += f", {self.deleted} deleted upstream and removed"
        return line + (f" ({self.error})" if self.error else "")


def rechecked_sources(sources: Mapping[str, SourceSettings], names: Iterable[str] | None = None) -> list[str]:
    """The named sources (which must exist), or every enabled source that can be re-checked."""
    from listener.base import can_recheck

    if names:
        return named_sources(sources, names)
    return [n for n, s in sources.items() if s.enabled and can_recheck(n, sources)]


def recheck_deletions(
    settings: Settings,
    engine: Engine,
    *,
    worker: str,
    names: Iterable[str] | None = None,
    days: int | None = None,
    max_posts: int | None = None,
) -> list[RecheckRun]:
    """Re-check the posts of the last `days` (default `worker.deletion_recheck_days`) of every
    source that can be re-checked, or of each named one, at most `max_posts` per source."""
    days = days or settings.worker.deletion_recheck_days
    max_posts = max_posts or settings.worker.deletion_recheck_max_posts
    since = utcnow() - timedelta(days=days)
    return [
        recheck_source(settings, engine, name, worker=worker, since=since, max_posts=max_posts)
        for name in rechecked_sources(settings.sources, names)
    ]


def recheck_source(
    settings: Settings, engine: Engine, name: str, *, worker: str, since: datetime, max_posts: int
) -> RecheckRun:
    """Re-check one source under its collection lease (`worker` names this worker, "host:pid")."""
    from listener.base import can_recheck

    run = RecheckRun(source=name)
    if not can_recheck(name, settings.sources):
        run.status, run.error = "unsupported", "only X, Mastodon and Bluesky sources can be re-checked"
        return run
    use = settings.sources[name].use
    with session_scope(engine) as session:
        source = ingest.get_or_create_source(session, name=name, use=use)
        source_id, due = source.id, sources.is_due(source)
        throttled = source.throttled_until
    assert source_id is not None
    if not due:
        run.status, run.error = "skipped", f"throttled until {throttled:%Y-%m-%d %H:%M} UTC"
        return run
    with session_scope(engine) as session:
        if not sources.take_lease(session=session, source_id=source_id, worker=worker):
            run.status, run.error = "skipped", "another worker is collecting this source; re-checked next time"
            return run
    try:
        _recheck_leased(settings, engine, name, source_id, run, worker, since=since, max_posts=max_posts)
    finally:
        with session_scope(engine) as session:
            sources.release_lease(session=session, source_id=source_id, worker=worker)
    return run


def _recheck_leased(
    settings: Settings,
    engine: Engine,
    name: str,
    source_id: int,
    run: RecheckRun,
    worker: str,
    *,
    since: datetime,
    max_posts: int,
) -> None:
    from listener.base import build_collector, source_billing

    try:
        collector = cast("Rechecker", build_collector(name, settings.sources))
        billing = source_billing(name, settings.sources)
        with session_scope(engine) as session:
            source = ingest.get_or_create_source(session, name=name, use=settings.sources[name].use)
            allowed = _ids_allowed(source, billing, collector)
            if allowed == 0:
                assert billing is not None
                used = sources.describe_usage(billing, sources.usage(source, billing))
                run.status, run.error = "budget", f"read budget reached ({used}); nothing re-checked"
                return
            limit = max_posts if allowed is None else min(max_posts, allowed)
            ids = deletions.posts_to_recheck(session=session, source_id=source_id, since=since, limit=limit)
        for answer in collector.recheck(ids):
            removed = _apply(engine, name, source_id, collector.platform, answer, billing, worker)
            if removed is None:
                run.status, run.error = "skipped", "the lease expired and another worker took the source; stopped"
                return
            run.checked += len(answer.checked)
            run.deleted += removed
            run.requests += answer.requests
    except (DangolError, DBAPIError) as exc:
        if isinstance(exc, DBAPIError) and database_unavailable(exc):
            raise  # the job retries when the database is back
        run.status = "throttled" if isinstance(exc, RateLimited) else "failed"
        run.error = redact_secrets(f"{type(exc).__name__}: {exc}", secret_values(settings))
        if isinstance(exc, RateLimited) and exc.retry_at:
            _hold_until(engine, name, exc.retry_at)
    except Exception as exc:  # a misbehaving platform or client must not stop the other sources
        log.exception("re-checking source %s failed unexpectedly", name)
        run.status = "failed"
        run.error = redact_secrets(f"{type(exc).__name__}: {exc}", secret_values(settings))


def _hold_until(engine: Engine, name: str, retry_at: datetime) -> None:
    """The platform's limit is the source's too: collecting waits for its reset, as after a
    collector's own 429 (the source's error streak is left alone: collecting did not fail)."""
    with session_scope(engine) as session:
        source = sources.source_by_name(session=session, name=name)
        if source.throttled_until is None or source.throttled_until < retry_at:
            source.throttled_until = retry_at


def _ids_allowed(source: Source, billing: Billing | None, collector: Rechecker) -> int | None:
    """How many posts this run may ask about so that neither cap is passed even if each one asked
    about is billed its most (`recheck_billed_per_id`); None when the source is free."""
    if billing is None:
        return None
    per_id = dataclasses.replace(billing, worst_case=dict(collector.recheck_billed_per_id))
    # requests_allowed divides what is left by the worst case of one "request": here one id.
    return sources.requests_allowed(source, per_id)


def _apply(
    engine: Engine,
    name: str,
    source_id: int,
    platform: str,
    answer: Recheck,
    billing: Billing | None,
    worker: str,
) -> int | None:
    """One transaction: renew the lease, debit what the answer was billed, remove the posts it says
    are gone and stamp every post it covered; returns how many were removed, or None (nothing
    applied) when the lease was lost."""
    now = utcnow()
    with session_scope(engine) as session:
        if not sources.renew_lease(session=session, source_id=source_id, worker=worker, now=now):
            session.rollback()
            return None
        if billing is not None:
            cost = Page(posts=[], cursor={}, requests=answer.requests, billed=answer.billed)
            sources.debit(session=session, source_id=source_id, billing=billing, page=cost, now=now)
        removed = deletions.remove_deleted_upstream(
            session=session, platform=platform, external_ids=answer.gone, source=name, actor=ACTOR, now=now
        )
        deletions.mark_rechecked(session=session, platform=platform, external_ids=answer.checked, now=now)
    return removed
