"""The pipeline spine: collect → analyze → route, as plain functions over settings and an engine.

This is the only module that knows every stage. Each step is idempotent and resumable and can
run alone (`dangol collect`, `dangol analyze`, `dangol route`) or on the worker's schedule.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from dangol.core.errors import AnalysisError, AuthError, CollectError, ConfigError, DangolError, RateLimited
from dangol.core.redact import redact_secrets, secret_values
from dangol.core.settings import OTHER_TOPIC, LinkingSettings, Settings, SourceSettings, TopicCatalog, named_sources
from dangol.core.types import AuthorIn, Billing, Page, engagement, star_rating, utcnow
from dangol.core.workers import died_here, this_process
from dangol.training_record import record_training
from storage import analyses, customer_scores, customers, feedback, ingest, sources
from storage import topics as topic_store
from storage.engine import database_unavailable, session_scope, transaction_conflict
from storage.models import Author, Source

if TYPE_CHECKING:
    from nlp.analyzer import Analyzer
    from nlp.base import Encoder, LinkCandidate
    from nlp.linking import CustomerLinker
    from nlp.taxonomy import Taxonomy

log = logging.getLogger(__name__)
# Who holds a source's collection lease or a schedule slot: host and process, unique in a cluster.
WORKER_ID = this_process()
Progress = Callable[[int], None]


@dataclass(slots=True)
class SourceRun:
    """The outcome of collecting one source."""

    source: str
    pages: int = 0
    requests: int = 0
    new_posts: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    status: str = "ok"  # ok | throttled | failed | skipped | budget
    error: str | None = None
    preview: list[dict[str, Any]] = field(default_factory=list)


def enabled_sources(sources: Mapping[str, SourceSettings], names: Iterable[str] | None = None) -> list[str]:
    """Configured source names (of `[sources.*]`) to collect: the named ones (must exist) or every enabled one."""
    if names:
        return named_sources(sources, names)
    return [name for name, source in sources.items() if source.enabled]


def collect(
    settings: Settings, engine: Engine, *, names: Iterable[str] | None = None, dry_run: bool = False
) -> list[SourceRun]:
    """Collect every enabled (or each named) source; one failing source never stops the others."""
    return [
        collect_source(settings, engine, name, dry_run=dry_run) for name in enabled_sources(settings.sources, names)
    ]


def backoff_delay(failures: int, *, base: float = 60.0, cap: float = 3600.0) -> timedelta:
    """Exponential backoff with full jitter: up to base·2^(failures-1) seconds, capped."""
    return timedelta(seconds=random.uniform(base / 2, min(cap, base * 2 ** max(0, failures - 1))))


def collect_source(
    settings: Settings, engine: Engine, name: str, *, dry_run: bool = False, worker: str = WORKER_ID
) -> SourceRun:
    """Collect one source page by page; each page, its cursor and its cost are stored in one
    transaction.

    Only the worker holding the source's lease collects it (`storage.sources.take_lease`); another
    worker due at the same time skips it. `worker` names this worker ("host:pid" by default)."""
    config = settings.sources[name]
    run = SourceRun(source=name)
    with session_scope(engine) as session:
        source = ingest.get_or_create_source(session, name=name, use=config.use)
        source_id, holder = source.id, source.lease_owner
        if not sources.is_due(source):
            run.status = "skipped"
            run.error = f"throttled until {source.throttled_until:%Y-%m-%d %H:%M} UTC"
            return run
    assert source_id is not None
    with session_scope(engine) as session:
        dead = holder if holder and died_here(holder) else None
        if not dry_run and not sources.take_lease(session=session, source_id=source_id, worker=worker, dead_owner=dead):
            run.status = "skipped"
            run.error = "another worker is collecting this source"
            return run
    try:
        return _collect_leased(settings, engine, name, source_id, run, worker, dry_run=dry_run)
    finally:
        if not dry_run:
            with session_scope(engine) as session:
                sources.release_lease(session=session, source_id=source_id, worker=worker)


def _collect_leased(
    settings: Settings, engine: Engine, name: str, source_id: int, run: SourceRun, worker: str, *, dry_run: bool
) -> SourceRun:
    """The collection itself, under this worker's lease: the cursor and budget are read after the
    lease is taken, so they are the last ones stored."""
    from listener.base import build_collector, source_billing

    config = settings.sources[name]
    billing = source_billing(name, settings.sources)
    with session_scope(engine) as session:
        source = ingest.get_or_create_source(session, name=name, use=config.use)
        cursor = dict(source.cursor)
        allowed = sources.requests_allowed(source, billing)
        used = sources.usage(source, billing) if billing else None
    if allowed == 0:
        assert billing is not None and used is not None
        run.status = "budget"
        run.error = f"read budget reached ({sources.describe_usage(billing, used)}); the next page could pass it"
        return run
    secrets = secret_values(settings)
    # Each new post is tagged with the brands it is about (dangol.core.brands), this source's by default.
    tagging: dict[str, Any] = {"brands": settings.brand_catalog, "source_brand": config.brand}
    try:
        collector = build_collector(name, settings.sources)
        for page in collector.fetch(cursor, max_requests=allowed):
            if not _take_page(engine, source, page, run, billing, worker, dry_run=dry_run, tagging=tagging):
                run.status = "skipped"
                run.error = "the collection lease expired and another worker took the source; stopped"
                return run
    except (RateLimited, AuthError, CollectError) as exc:
        _record_failure(engine, name, config.use, exc, secrets, run)
    except ConfigError:
        raise  # our own configuration is at fault, not the source: don't back it off
    except DBAPIError as exc:
        if database_unavailable(exc):
            raise  # the database is away, not the source at fault: the job retries
        # The database refused even record by record (a cursor or dead letter it cannot hold):
        # this source backs off with the error recorded, and the run goes on to the others.
        log.exception("source %s: the database refused its page", name)
        _record_failure(engine, name, config.use, exc, secrets, run)
    except Exception as exc:  # a misbehaving platform or client must not stop the other sources
        log.exception("source %s failed unexpectedly", name)
        _record_failure(engine, name, config.use, exc, secrets, run)
    else:
        if not dry_run:
            with session_scope(engine) as session:
                sources.record_success(ingest.get_or_create_source(session, name=name, use=config.use))
    return run


def _take_page(
    engine: Engine,
    source: Source,
    page: Page,
    run: SourceRun,
    billing: Billing | None,
    worker: str,
    *,
    dry_run: bool,
    tagging: dict[str, Any] | None = None,
) -> bool:
    """Store one page with its cursor and its cost, renewing the lease in the same transaction;
    False (nothing stored) when the lease was lost."""
    run.pages += 1
    run.requests += page.requests
    if dry_run:
        run.preview.extend(
            {"platform": p.platform, "external_id": p.external_id, "author_handle": p.author.handle, "text": p.text}
            for p in page.posts
        )
        run.dead_letters += len(page.dead_letters)
        return True
    try:
        stored = _store_page_again_on_conflict(engine, source, page, billing, worker, tagging)
    except DBAPIError as exc:
        if database_unavailable(exc):
            raise
        # One record the database cannot take (a value no column holds) must not lose the page:
        # store it again post by post; the refused posts become dead letters with the reason.
        reason = type(exc).__name__
        log.warning("source %s: the database refused a page (%s); storing it post by post", source.name, reason)
        by_record = partial(ingest.store_page_record_by_record, **(tagging or {}))
        stored = _store_page(engine, source, page, billing, worker, by_record)
    if stored is None:
        return False
    run.new_posts += stored.new_posts
    run.duplicates += stored.duplicates
    run.dead_letters += stored.dead_letters
    return True


# How often a page rolled back for another worker's transaction is stored again before the error
# is left to the job (which retries it as a database error).
CONFLICT_RETRIES = 3


def _store_page_again_on_conflict(
    engine: Engine, source: Source, page: Page, billing: Billing | None, worker: str, tagging: dict[str, Any] | None
) -> ingest.StoreResult | None:
    """`_store_page` with `ingest.store_page`, run again (after a short random wait) when PostgreSQL
    rolled it back for another worker's transaction (a deadlock or serialization failure): that is
    no refused record and no outage, and the page stored a moment later is stored whole."""
    store = partial(ingest.store_page, **(tagging or {}))
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            return _store_page(engine, source, page, billing, worker, store)
        except DBAPIError as exc:
            if not transaction_conflict(exc) or attempt == CONFLICT_RETRIES:
                raise
            log.info("source %s: a page gave way to another worker's transaction; storing it again", source.name)
            time.sleep(random.uniform(0.01, 0.1) * 2**attempt)
    raise AssertionError("unreachable")  # the loop returns or raises


def _store_page(
    engine: Engine,
    source: Source,
    page: Page,
    billing: Billing | None,
    worker: str,
    store: Callable[..., ingest.StoreResult],
) -> ingest.StoreResult | None:
    """One transaction: renew the lease, debit the page's cost, `store` the page and its cursor;
    None (nothing stored) when the lease was lost.

    `source` is the row read when the run began, not read again: only its id and name are used, and
    the lease renewed first (held by this worker, or nothing is stored) is what makes it still ours."""
    assert source.id is not None
    with session_scope(engine) as session:
        if not sources.renew_lease(session=session, source_id=source.id, worker=worker):
            session.rollback()
            return None
        if billing is not None:
            sources.debit(session=session, source_id=source.id, billing=billing, page=page)
        return store(session, source=source, page=page)


def _record_failure(engine: Engine, name: str, use: str, exc: Exception, secrets: list[str], run: SourceRun) -> None:
    message = redact_secrets(f"{type(exc).__name__}: {exc}", secrets)
    run.status = "throttled" if isinstance(exc, RateLimited) else "failed"
    run.error = message
    with session_scope(engine) as session:
        source = ingest.get_or_create_source(session, name=name, use=use)
        retry_at = exc.retry_at if isinstance(exc, RateLimited) and exc.retry_at else None
        if retry_at is None:
            retry_at = utcnow() + backoff_delay(source.consecutive_failures + 1)
        sources.record_failure(source, message, retry_at=retry_at)


# --- analyze ---------------------------------------------------------------------------------


@dataclass(slots=True)
class AnalyzeRun:
    analyzed: int = 0
    batches: int = 0
    links_applied: int = 0
    links_proposed: int = 0


def build_linker(linking: LinkingSettings, session: Session) -> CustomerLinker:
    """A linker over the current customer records (built once per analyze run)."""
    from nlp.base import KnownCustomer
    from nlp.linking import CustomerLinker

    known = [
        KnownCustomer(
            customer_id=r.customer.id,  # type: ignore[arg-type]
            name=r.customer.name,
            email=r.customer.email,
            tier=r.customer.tier,
            handles=r.handles,
            order_numbers=r.orders,
        )
        for r in customers.customer_records(session=session)
    ]
    return CustomerLinker(known, linking)


def load_analyzer(settings: Settings) -> Analyzer:
    """The analyzer a process keeps for the rest of its life, with everything alive then (models,
    tokenizers, the ORM's mappers, imported modules: ~200,000 objects) moved out of the garbage
    collector's reach. Otherwise each full collection walks them all again, ~0.15 s about once per
    thousand analyzed posts (BENCHMARKS.md, Pipeline), though none of them ever becomes garbage.
    The analyzer is warmed up first (`Analyzer.warm_up`), so what its first batch would make is
    frozen too, and garbage is collected before the freeze, so none is frozen with them."""
    import gc

    from nlp.analyzer import Analyzer

    analyzer = Analyzer.from_settings(settings)
    analyzer.warm_up()
    gc.collect()
    gc.freeze()
    return analyzer


def analyze(
    settings: Settings,
    engine: Engine,
    *,
    analyzer: Analyzer | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
) -> AnalyzeRun:
    """Analyze unanalyzed posts batch by batch until none are left (or `limit` is reached)."""
    if analyzer is None:
        analyzer = load_analyzer(settings)
    with Session(engine) as session:
        linker = build_linker(settings.linking, session)
    run = AnalyzeRun()
    while limit is None or run.analyzed < limit:
        size = settings.nlp.batch_size if limit is None else min(settings.nlp.batch_size, limit - run.analyzed)
        with session_scope(engine) as session:
            done = _analyze_batch(settings, session, analyzer, linker, size, run)
        if done == 0:
            break
        run.analyzed += done
        run.batches += 1
        if progress:
            progress(done)
    return run


def _analyze_batch(
    settings: Settings, session: Session, analyzer: Analyzer, linker: CustomerLinker, size: int, run: AnalyzeRun
) -> int:
    from nlp.base import PostText

    claimed = analyses.claim_unanalyzed(session=session, limit=size)
    if not claimed:
        return 0
    _follow_topic_edits(settings.topic_catalog, session, analyzer)
    tiers = _link_authors(settings, session, linker, claimed, run)
    items = [
        PostText(
            post_id=c.post.id,  # type: ignore[arg-type]
            text=c.post.text,
            platform=c.post.platform,
            created_at=c.post.created_at,  # type: ignore[arg-type]
            lang_hint=c.post.lang_hint,
            followers=c.author.followers,
            engagement=engagement(c.post.metrics),
            customer_tier=tiers[c.author.id][0] if c.author.id in tiers else None,
            customer_value=tiers[c.author.id][1] if c.author.id in tiers else None,
            is_retweet=c.post.is_retweet,
            is_quote=c.post.is_quote,
            referenced_id=c.post.referenced_id,
            external_id=c.post.external_id,
            rating=star_rating(c.post.metrics),
        )
        for c in claimed
    ]
    saved = []
    # Posts about competitors only are grouped into near-duplicate clusters among themselves: a
    # cluster becomes one queue item, and none of theirs may join one of ours.
    for competitor in (False, True):
        side = [(c, i) for c, i in zip(claimed, items, strict=True) if c.post.competitor is competitor]
        if not side:
            continue
        start, end = analyses.window_around([i.created_at for _, i in side], settings.nlp.duplicate_window_hours)
        referenced = [(c.post.platform, c.post.referenced_id) for c, _ in side if c.post.referenced_id]
        recent = analyses.recent_members(
            session=session, start=start, end=end, referenced=referenced, competitor=competitor
        )
        for result in analyzer.analyze([i for _, i in side], recent):
            # Shallow: asdict deep-copied every field (the embedding too, then dropped), ~0.3 ms a
            # post, a sixth of `analyze` with the fast profile; the analyzer's dicts are per post.
            values = {f.name: getattr(result, f.name) for f in fields(result) if f.name not in ("post_id", "embedding")}
            values["analyzed_at"] = utcnow()
            saved.append((result.post_id, values, result.embedding))
    analyses.save_analyses(session=session, analyses=saved)
    return len(claimed)


def current_taxonomy(catalog: TopicCatalog, session: Session) -> Taxonomy:
    """The topics the analyzer uses: the catalog's with the Admin page's edits, enabled ones only."""
    from nlp.taxonomy import from_tables

    return from_tables(topic_store.topics_in_force(session=session, catalog=catalog))


@dataclass(frozen=True, slots=True)
class TopicTraining:
    """What `train_topics` did, as the CLI prints it and the worker logs it."""

    examples: int
    corrections: int
    kept: bool
    reason: str
    path: Path

    def __str__(self) -> str:
        outcome = f"wrote {self.path}" if self.kept else f"{self.path} unchanged"
        return f"trained on {self.examples} examples and {self.corrections} corrections; {self.reason}; {outcome}"


def train_topics(
    settings: Settings,
    engine: Engine,
    *,
    examples: list[tuple[str, str]] | None = None,
    head_path: Path | None = None,
    encoder: Encoder | None = None,
) -> TopicTraining:
    """Retrain the topic head from `examples` and every staff topic correction; write it only if not worse.

    The newest correction seen is recorded beside the head (kept or not), so `topics_train_job`
    retrains only when staff have corrected topics since. The worker's analyzer picks up a
    rewritten head file at its next batch. `head_path` defaults to where the analyzer reads it.
    """
    from nlp.topic_training import retrain_head
    from nlp.topics import DEFAULT_HEAD_PATH, FewShotHead

    head_path = head_path or DEFAULT_HEAD_PATH

    with Session(engine) as session:
        # The topics in force, Admin-page edits included, so corrections to a UI-added topic count.
        taxonomy = current_taxonomy(settings.topic_catalog, session)
        corrections = feedback.topic_corrections(session=session)
        through = feedback.last_topic_correction_id(session=session)
    usable = [(text, key) for text, key in corrections if key in (*taxonomy.keys, OTHER_TOPIC)]
    examples = examples or []
    if not examples and not usable:
        raise AnalysisError("nothing to train on: give labelled examples or correct some topics in the dashboard first")
    if encoder is None:
        from nlp.encoders import build_encoder

        encoder = build_encoder(settings)
    current = FewShotHead.load(head_path) if head_path.exists() else None
    threshold = settings.nlp.topic_threshold
    choice = retrain_head(examples, usable, encoder, taxonomy, current=current, threshold=threshold)
    if choice.head is not None:
        choice.head.save(head_path)
    record_training(head_path, through, choice.reason)
    return TopicTraining(len(examples), len(usable), choice.head is not None, choice.reason, head_path)


def _follow_topic_edits(catalog: TopicCatalog, session: Session, analyzer: Analyzer) -> None:
    """Pick up topic edits and a retrained topic head at each batch, without restarting the worker.

    The check is one SUM over the few topic rows; only a changed revision rebuilds the taxonomy.
    """
    analyzer.reload_head_if_changed()
    revision = topic_store.topics_revision(session=session)
    if revision != analyzer.taxonomy_stamp:
        analyzer.use_taxonomy(current_taxonomy(catalog, session), stamp=revision)


def _link_authors(
    settings: Settings,
    session: Session,
    linker: CustomerLinker,
    claimed: list[analyses.ClaimedPost],
    run: AnalyzeRun,
) -> dict[int, tuple[str, float | None]]:
    """Link each new author to a customer where the evidence allows; returns author id → (tier,
    value score: None until the customer's scores were computed, when risk falls back on the tier)."""
    author_ids = sorted({c.author.id for c in claimed})  # type: ignore[type-var]
    existing = customers.linked_authors(author_ids, session=session)  # type: ignore[arg-type]
    # A post about competitors only is never evidence that its author is our customer: the brand has
    # no business tying people who talk about others to its own records. An author already linked
    # is never looked up.
    judged = {
        c.post.id: list(_judged(settings.linking, linker, c))
        for c in claimed
        if not c.post.competitor and not any(link.status == "applied" for link in existing.get(c.author.id, []))  # type: ignore[arg-type]
    }
    linking = sorted({c.author.id for c in claimed if judged.get(c.post.id)})  # type: ignore[type-var]
    if linking:
        # Another worker may be linking the same people in its batch now: wait for its turn to end,
        # then read what it linked, so each link is made once (storage.customers.lock_authors).
        customers.lock_authors(linking, session=session)  # type: ignore[arg-type]
        existing.update(customers.linked_authors(linking, session=session))  # type: ignore[arg-type]
    for c in claimed:
        if c.post.id not in judged:
            continue
        new = customers.save_link_candidates(
            session=session,
            author_id=c.author.id,  # type: ignore[arg-type]
            links=existing.setdefault(c.author.id, []),  # type: ignore[arg-type]
            candidates=judged[c.post.id],
        )
        run.links_applied += sum(1 for link in new if link.status == "applied")
        run.links_proposed += sum(1 for link in new if link.status == "proposed")
    # Risk of a competitor post is not weighed by customer value: it is never linked, nor queued.
    own_authors = sorted({c.author.id for c in claimed if not c.post.competitor})  # type: ignore[type-var]
    applied = customers.applied_customer_ids(own_authors, session=session)  # type: ignore[arg-type]
    tiers = {known.customer_id: known.tier for known in linker.customers}
    values = customer_scores.value_scores(list(applied.values()), session=session)
    return {
        author_id: (tiers.get(customer_id, "standard"), values.get(customer_id))
        for author_id, customer_id in applied.items()
    }


def _judged(
    linking: LinkingSettings, linker: CustomerLinker, claimed: analyses.ClaimedPost
) -> Iterator[tuple[LinkCandidate, bool]]:
    """The linker's candidates for the post's author, best first, each with whether it applies alone
    (`nlp.linking.applies_alone`). A retweet's text is someone else's words: an order number or
    e-mail address in it is evidence about its writer, never about the person who retweeted it, so
    only the retweeter's own handle and bio count then."""
    from nlp.linking import applies_alone

    own_words = "" if claimed.post.is_retweet else claimed.post.text
    for candidate in linker.candidates(_author_in(claimed.author), own_words):
        yield candidate, applies_alone(candidate, linking)


def _author_in(author: Author) -> AuthorIn:
    return AuthorIn(
        platform=author.platform,
        platform_id=author.platform_id,
        handle=author.handle,
        display_name=author.display_name,
        followers=author.followers,
        url=author.url,
        bio=author.bio,
    )


# --- route -----------------------------------------------------------------------------------


def route(settings: Settings, engine: Engine) -> Any:
    """Turn analyzed, actionable posts into queue items (see responder.queue.route_new), after
    grouping again the near-duplicates parallel analysis split (dangol.grouping), in the same
    routing turn."""
    from dangol.grouping import regroup_parallel_duplicates
    from nlp.encoders.base import encoder_options, model_traits
    from responder.queue import RouteResult, route_new
    from storage.queue import take_routing_turn

    with session_scope(engine) as session:
        if not take_routing_turn(session=session):
            return RouteResult()  # another worker is routing: its pass routes what is waiting
        blind = model_traits(encoder_options(settings).model).blind_languages
        regroup_parallel_duplicates(settings.nlp, session, blind)
        return route_new(session=session, settings=settings)


# --- customer scores -------------------------------------------------------------------------


@dataclass(slots=True)
class ScoreRun:
    """What `score_customers` did: customers scored, segment joins and leaves by segment, seconds taken."""

    customers: int = 0
    joined: dict[str, int] = field(default_factory=dict)
    left: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def __str__(self) -> str:
        moves = ", ".join(
            f"{key} +{self.joined.get(key, 0)}/-{self.left.get(key, 0)}" for key in sorted({*self.joined, *self.left})
        )
        return f"{self.customers} customers scored in {self.seconds:.1f} s" + (f"; segments {moves}" if moves else "")


def score_customers(settings: Settings, engine: Engine, *, now: datetime | None = None) -> ScoreRun:
    """Recompute every customer's scores (dangol.core.customer_scores) and segments (`[segments]`),
    in one transaction: inputs from a few grouped queries, written back in bulk."""
    from dangol.core import customer_scores as formulas

    started = time.monotonic()
    now = now or utcnow()
    rules = formulas.segment_rules(settings.segments)
    with session_scope(engine) as session:
        results = []
        for inputs in customer_scores.gather_inputs(session=session, now=now):
            scores = formulas.compute(inputs, now)
            scores.segments = formulas.segments_matching(scores, rules)
            results.append(scores)
        saved = customer_scores.save_scores(results, session=session, now=now)
    return ScoreRun(saved.customers, saved.joined, saved.left, round(time.monotonic() - started, 3))


def run_once(settings: Settings, engine: Engine, *, progress: Progress | None = None) -> dict[str, Any]:
    """Collect every enabled source, analyze everything new and route it: one full pass."""
    runs = collect(settings, engine)
    analyzed = analyze(settings, engine, progress=progress)
    routed = route(settings, engine)
    return {"sources": [asdict(r) for r in runs], "analyzed": analyzed.analyzed, "routed": routed}


__all__ = [
    "AnalyzeRun",
    "DangolError",
    "SourceRun",
    "analyze",
    "collect",
    "collect_source",
    "route",
    "run_once",
    "score_customers",
]
