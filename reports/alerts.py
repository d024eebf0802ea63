"""Spike and crisis alerts: volume and negative-share anomalies per topic and per source.

For every scope (each primary topic, each source) the detector slides a window of
`window_hours` over hourly counts and compares each window with what was expected:

- expected volume is the largest of: the same weekday-and-hours window averaged over the previous
  `baseline_weeks` weeks, the same hours averaged over the previous six days, and the scope's
  average rate over the baseline, never below `min_expected` (so a busy Monday morning is judged
  against Monday mornings, the daily cycle is known after a few days of history, and a thin
  history does not make every handful of posts look like a spike);
- a volume window is anomalous when its count reaches `min_count`, is `min_ratio` times the
  expectation, and a Poisson tail that far out is rarer than `alpha`;
- a negative-share window is anomalous when at least `negative_min` posts are negative, the
  share exceeds the baseline share by `negative_lift`, and a binomial tail is rarer than `alpha`.

Anomalous windows of a scope that follow each other form a candidate. Candidates of one topic
that overlap in time (within `merge_gap_hours`) are ONE episode; a source's candidate joins the
topic episode it overlaps, because one burst of posts shows up in its topic and its source alike,
and forms its own episode otherwise. Two topics are never merged: each gets its own alert. An
episode becomes one Alert row, or extends the stored Alert of the same scope it overlaps, so
re-running the detector never raises the same episode twice.
The alert explains itself: the facets that fired, the terms that rose against the baseline's
posts, representative posts (one per near-duplicate cluster) and the authors with most reach.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlmodel import Session

from dangol.core.errors import SendError
from dangol.core.links import item_url, scope_url
from dangol.core.settings import AlertSettings, Settings, TopicCatalog
from dangol.core.types import utcnow
from reports.feeds import deduplicate
from reports.notify import email_configured, post_webhook, send_email
from reports.ratings import concentrated_version
from reports.tails import binomial_sf, poisson_sf
from reports.terms import rising_terms
from storage import read_models as q
from storage.alerts import alerts_between, unnotified_alerts
from storage.authors import mark_brand_accounts
from storage.models import Alert, Staff
from storage.notifications import notify
from storage.queue import item_ids_for_posts
from storage.staff import staff_allowed, staff_by_usernames
from storage.topics import topic_names

log = logging.getLogger(__name__)
HOUR = timedelta(hours=1)
WEEK_HOURS = 7 * 24
ALERT_POSTS = 3  # representative posts quoted in an alert's message


@dataclass(frozen=True, slots=True)
class SpikeRules:
    """The detector's thresholds; the defaults suit a brand with tens to thousands of posts a day.

    Operators set them in config.toml `[reports.alerts]` (validated by `AlertSettings`).
    """

    window_hours: int = 6
    lookback_hours: int = 48
    baseline_weeks: int = 4
    min_history_hours: int = 72
    alpha: float = 1e-4
    min_count: int = 8
    min_ratio: float = 3.0
    min_expected: float = 0.5
    negative_min: int = 8
    negative_lift: float = 0.25
    merge_gap_hours: int = 6

    @classmethod
    def from_settings(cls, alerts: AlertSettings) -> SpikeRules:
        """The rules configured in `[reports.alerts]`; keys not there keep their defaults."""
        return cls(**alerts.model_dump())


@dataclass(slots=True)
class Candidate:
    """Contiguous anomalous windows of one scope and kind."""

    kind: str  # volume | negative_share
    scope: str  # topic:<key> | source:<name>
    start: datetime
    end: datetime
    observed: float
    expected: float
    p_value: float

    def as_facet(self) -> dict[str, object]:
        facet = asdict(self)
        facet.update(start=self.start.isoformat(), end=self.end.isoformat(), ratio=self.observed / self.expected)
        return facet


@dataclass(slots=True)
class Episode:
    """Overlapping candidates: one burst, seen from every scope that it moved."""

    candidates: list[Candidate] = field(default_factory=list)

    @property
    def reach_end(self) -> datetime:
        """Where the episode's last facet ends (for merging the next candidate)."""
        return max(c.end for c in self.candidates)

    @property
    def start(self) -> datetime:
        """The primary facet's start: broader facets (a whole source) blur where the burst began."""
        return self.primary.start

    @property
    def end(self) -> datetime:
        return self.primary.end

    @property
    def primary(self) -> Candidate:
        """The facet that best names the burst: a named topic over a source over "other", then the rarest."""
        return min(self.candidates, key=lambda c: (_scope_rank(c), c.kind != "volume", c.p_value, c.scope))


def _scope_rank(candidate: Candidate) -> int:
    if candidate.scope.startswith("topic:") and candidate.scope != "topic:other":
        return 0
    return 1 if candidate.scope.startswith("source:") else 2


@dataclass(slots=True)
class _Series:
    """Hourly totals and negatives of one scope, indexed from the start of the read range."""

    totals: list[int]
    negatives: list[int]
    _sums: dict[str, list[int]] = field(default_factory=dict)

    def window(self, name: str, end: int, width: int) -> int:
        """The sum of `name` ("totals" or "negatives") over the `width` hours ending at index `end`."""
        return self.span(name, end + 1 - width, end + 1)

    def span(self, name: str, start: int, stop: int) -> int:
        """The sum of `name` over indexes [start, stop)."""
        if name not in self._sums:
            self._sums[name] = [0, *accumulate(getattr(self, name))]
        prefix = self._sums[name]
        return prefix[max(0, stop)] - prefix[max(0, start)]


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def detect_spikes(
    *,
    session: Session,
    settings: Settings,
    now: datetime,
    since: datetime | None = None,
    rules: SpikeRules | None = None,
) -> list[Alert]:
    """Find spike episodes in windows ending from `since` (default: `lookback_hours` ago) to `now`.

    `rules` default to those of `settings.reports.alerts`.

    New episodes are added to the session as Alert rows and returned; an episode that overlaps
    a stored alert extends that alert instead (it is not returned again). The caller commits.
    """
    mark_brand_accounts(session=session, own=settings.brand.own_accounts())  # their posts are not counted
    rules = rules or SpikeRules.from_settings(settings.reports.alerts)
    last = floor_hour(now)
    first = floor_hour(since) if since else last - (rules.lookback_hours - 1) * HOUR
    origin = first - (rules.window_hours - 1 + rules.baseline_weeks * WEEK_HOURS) * HOUR
    series, data_start = _read_series(session, origin, now, last)
    if data_start is None:
        return []
    first_index = _index(first, origin)
    history_index = _index(data_start, origin)
    candidates = [
        candidate
        for scope, values in sorted(series.items())
        for candidate in _scan(scope, values, first_index, _index(last, origin), history_index, origin, rules)
    ]
    created = []
    for episode in _merge(candidates, timedelta(hours=rules.merge_gap_hours)):
        alert = _store(session, settings, episode, rules)
        if alert is not None:
            created.append(alert)
    session.flush()
    for alert in created:
        notify_staff(alert, session=session, settings=settings, now=now)
    return created


def _index(moment: datetime, origin: datetime) -> int:
    return int((moment - origin) / HOUR)


def _read_series(
    session: Session, origin: datetime, now: datetime, last: datetime
) -> tuple[dict[str, _Series], datetime | None]:
    size = _index(last, origin) + 1
    series: dict[str, _Series] = {}
    data_start: datetime | None = None
    for row in q.hourly_counts(session=session, since=origin, until=now):
        data_start = row.hour if data_start is None else min(data_start, row.hour)
        for scope in (f"topic:{row.topic}", f"source:{row.source}"):
            s = series.setdefault(scope, _Series([0] * size, [0] * size))
            i = _index(row.hour, origin)
            s.totals[i] += row.count
            if row.negative:
                s.negatives[i] += row.count
    return series, data_start


@dataclass(frozen=True, slots=True)
class _Window:
    index: int
    kind: str
    observed: int
    expected: float
    hourly_expected: float
    p_value: float


@dataclass(slots=True)
class _Dispersion:
    """Running variance-to-mean ratio of hourly counts, per hour of day, over a sliding baseline.

    Social posts come in clumps (a thread, a share), so counts vary more than a Poisson
    process would; testing against the plain Poisson tail would call ordinary clumps spikes.
    """

    counts: list[int]
    offset: int  # the UTC hour of day of index 0
    n: list[int] = field(default_factory=lambda: [0] * 24)
    total: list[float] = field(default_factory=lambda: [0.0] * 24)
    squares: list[float] = field(default_factory=lambda: [0.0] * 24)

    def add(self, index: int, sign: int = 1) -> None:
        bucket, value = (self.offset + index) % 24, self.counts[index]
        self.n[bucket] += sign
        self.total[bucket] += sign * value
        self.squares[bucket] += sign * value * value

    def ratio(self) -> float:
        """Σ variance / Σ mean over the hours of day seen on at least three days; at least 1."""
        variance = mean = 0.0
        for n, total, squares in zip(self.n, self.total, self.squares, strict=True):
            if n >= 3:
                variance += max(0.0, (squares - total * total / n) / (n - 1))
                mean += total / n
        return min(10.0, max(1.0, variance / mean)) if mean > 0 else 1.0


def _scan(
    scope: str, s: _Series, first: int, last: int, history: int, origin: datetime, rules: SpikeRules
) -> list[Candidate]:
    width = rules.window_hours
    windows: list[_Window] = []
    dispersion = _Dispersion(s.totals, origin.hour)
    base_start = base_stop = max(history, first - width + 1 - rules.baseline_weeks * WEEK_HOURS)
    for i in range(first, last + 1):
        # Slide the baseline [base_start, base_stop) so it ends where this window begins.
        while base_stop < i - width + 1:
            dispersion.add(base_stop)
            base_stop += 1
        while base_start < max(history, i - width + 1 - rules.baseline_weeks * WEEK_HOURS):
            dispersion.add(base_start, -1)
            base_start += 1
        base_hours = base_stop - base_start
        if base_hours < rules.min_history_hours:
            continue
        base_total = s.span("totals", base_start, base_stop)
        seasonal = [
            s.window("totals", i - k * WEEK_HOURS, width)
            for k in range(1, rules.baseline_weeks + 1)
            if i - k * WEEK_HOURS - width + 1 >= history
        ]
        # The same hours on the previous days catch the daily cycle before weeks of history exist.
        daily = [s.window("totals", i - d * 24, width) for d in range(1, 7) if i - d * 24 - width + 1 >= history]
        expected = max(
            sum(seasonal) / len(seasonal) if seasonal else 0.0,
            sum(daily) / len(daily) if daily else 0.0,
            base_total / base_hours * width,
            rules.min_expected,
        )
        observed = s.window("totals", i, width)
        if observed >= rules.min_count and observed >= rules.min_ratio * expected:
            phi = dispersion.ratio()  # quasi-Poisson: both sides scaled by the dispersion
            p = poisson_sf(math.floor(observed / phi), expected / phi)
            if p < rules.alpha:
                windows.append(_Window(i, "volume", observed, expected, expected / width, p))
        negatives = s.window("negatives", i, width)
        if negatives >= rules.negative_min:
            share = (s.span("negatives", base_start, base_stop) + 1) / (base_total + 2)
            p = binomial_sf(negatives, observed, share)
            if negatives / observed - share >= rules.negative_lift and p < rules.alpha:
                expected_negatives = share * observed
                windows.append(_Window(i, "negative_share", negatives, expected_negatives, share, p))
    return [_candidate(scope, run, s, origin, width, rules.min_ratio) for run in _runs(windows)]


def _runs(windows: list[_Window]) -> list[list[_Window]]:
    """Windows of the same kind at consecutive hours, grouped."""
    runs: list[list[_Window]] = []
    for kind in ("volume", "negative_share"):
        current: list[_Window] = []
        for w in (w for w in windows if w.kind == kind):
            if current and w.index != current[-1].index + 1:
                runs.append(current)
                current = []
            current.append(w)
        if current:
            runs.append(current)
    return runs


def _candidate(scope: str, run: list[_Window], s: _Series, origin: datetime, width: int, min_ratio: float) -> Candidate:
    peak = max(run, key=lambda w: (w.observed / w.expected, -w.p_value))
    values = s.totals if peak.kind == "volume" else s.negatives
    lo, hi = run[0].index - width + 1, run[-1].index
    # The episode is the hours that ran above expectation, not the whole of every window.
    threshold = max(1.0, min_ratio * peak.hourly_expected) if peak.kind == "volume" else 1.0
    busy = [i for i in range(max(0, lo), hi + 1) if values[i] >= threshold] or [peak.index]
    return Candidate(
        kind=peak.kind,
        scope=scope,
        start=origin + busy[0] * HOUR,
        end=origin + (busy[-1] + 1) * HOUR,
        observed=float(peak.observed),
        expected=round(peak.expected, 3),
        p_value=min(w.p_value for w in run),
    )


def _merge(candidates: list[Candidate], gap: timedelta) -> list[Episode]:
    """Per topic, overlapping candidates are one episode; a source's candidate joins an overlapping
    topic episode (the same burst seen from its source), else episodes of its own source."""
    ordered = sorted(candidates, key=lambda c: (c.start, c.scope, c.kind))
    by_scope: dict[str, list[Episode]] = {}
    for candidate in (c for c in ordered if c.scope.startswith("topic:")):
        _join(by_scope.setdefault(candidate.scope, []), candidate, gap)
    topic_episodes = [e for episodes in by_scope.values() for e in episodes]
    for candidate in (c for c in ordered if not c.scope.startswith("topic:")):
        overlapping = [
            e for e in topic_episodes if candidate.start <= e.reach_end + gap and candidate.end >= e.start - gap
        ]
        if overlapping:
            min(overlapping, key=lambda e: e.start).candidates.append(candidate)
        else:
            _join(by_scope.setdefault(candidate.scope, []), candidate, gap)
    return sorted((e for episodes in by_scope.values() for e in episodes), key=lambda e: (e.start, e.primary.scope))


def _join(episodes: list[Episode], candidate: Candidate, gap: timedelta) -> None:
    if episodes and candidate.start <= episodes[-1].reach_end + gap:
        episodes[-1].candidates.append(candidate)
    else:
        episodes.append(Episode([candidate]))


def _store(session: Session, settings: Settings, episode: Episode, rules: SpikeRules) -> Alert | None:
    gap = timedelta(hours=rules.merge_gap_hours)
    primary = episode.primary
    existing = [
        a
        for a in alerts_between(session=session, since=episode.start - gap, until=episode.end + gap)
        if a.scope == primary.scope
    ]
    if existing:
        alert = existing[0]
        start = min(alert.started_at or episode.start, episode.start)
        end = max(alert.ended_at or episode.end, episode.end)
        if (start, end) != (alert.started_at, alert.ended_at) or primary.observed > alert.observed:
            alert.started_at, alert.ended_at = start, end
            alert.observed = max(alert.observed, primary.observed)
            alert.explanation = explain(session, settings.topic_catalog, episode, start, end, rules)
            session.add(alert)
        return None
    alert = Alert(
        kind=primary.kind,
        scope=primary.scope,
        started_at=episode.start,
        ended_at=episode.end,
        observed=primary.observed,
        expected=primary.expected,
        explanation=explain(session, settings.topic_catalog, episode, episode.start, episode.end, rules),
    )
    session.add(alert)
    return alert


def _scope_filter(scope: str) -> dict[str, str]:
    kind, _, name = scope.partition(":")
    return {"topic": name} if kind == "topic" else {"source": name}


def scope_label(scope: str, session: Session, catalog: TopicCatalog) -> str:
    """`topic:delivery` as the topic's name (config.toml or Admin page), `source:acme_x` as "source acme_x"."""
    kind, _, name = scope.partition(":")
    if kind == "topic":
        return topic_names(session=session, catalog=catalog).get(name, name)
    return f"source {name}"


def explain(
    session: Session, catalog: TopicCatalog, episode: Episode, start: datetime, end: datetime, rules: SpikeRules
) -> dict[str, object]:
    """What the alert shows: the facets, the terms that rose, representative posts, top authors."""
    primary = episode.primary
    where = _scope_filter(primary.scope)
    posts = q.scoped_posts(session=session, since=start, until=end, limit=500, **where)
    baseline = q.scoped_posts(
        session=session,
        since=start - timedelta(weeks=rules.baseline_weeks),
        until=start,
        limit=1000,
        order="newest",
        **where,
    )
    terms = rising_terms((p.shared_text for p in posts), (p.shared_text for p in baseline))
    negative = sum(p.sentiment == "negative" for p in posts)
    clusters = sorted(deduplicate(posts), key=lambda i: (-i.cluster_size, -i.post.reach, i.post.post_id))[:5]
    authors: dict[int, dict[str, object]] = {}
    for p in posts:
        entry = authors.setdefault(
            p.author_id, {"handle": p.handle, "platform": p.platform, "followers": p.followers, "posts": 0}
        )
        entry["posts"] = int(str(entry["posts"])) + 1
    top_authors = sorted(authors.values(), key=lambda a: (-int(str(a["followers"])), str(a["handle"])))[:5]
    hours = max(1, math.ceil((end - start) / HOUR))
    summary = (
        f"{scope_label(primary.scope, session, catalog)}: {len(posts)} posts in {hours} h "
        f"(window peak {primary.observed:g} vs {primary.expected:.1f} expected), "
        f"{negative / len(posts) if posts else 0:.0%} negative"
    )
    if terms:
        summary += "; rising terms: " + ", ".join(t for t, _, _ in terms[:5])
    # Store reviews carry the app version they were written on: a spike mostly on one version points
    # at a release (did 3.5.0 break login?), so the alert names it.
    version = concentrated_version(session=session, post_ids=[p.post_id for p in posts])
    if version is not None:
        summary += (
            f"; {version.reviews} of {version.of} store reviews on app version {version.version}"
            f" ({', '.join(version.apps)})"
        )
    return {
        "summary": summary,
        "app_version": None
        if version is None
        else {"version": version.version, "reviews": version.reviews, "of": version.of, "apps": list(version.apps)},
        "window_hours": rules.window_hours,
        "posts_in_episode": len(posts),
        "negative_share": negative / len(posts) if posts else 0.0,
        "facets": [c.as_facet() for c in sorted(episode.candidates, key=lambda c: (c.scope, c.kind))],
        "terms": [{"term": t, "posts": n, "lift": round(lift, 2)} for t, n, lift in terms],
        "posts": [
            {
                "post_id": i.post.post_id,
                "platform": i.post.platform,
                "handle": i.post.handle,
                "text": i.post.shared_text[:500],
                "url": i.post.url,
                "created_at": i.post.created_at.isoformat(),
                "sentiment": i.post.sentiment,
                "reach": i.post.reach,
                "cluster_size": i.cluster_size,
            }
            for i in clusters
        ],
        "authors": top_authors,
    }


def _count(value: Any) -> str:
    """A count as people read it ("103,267"); anything else, as it was stored."""
    return f"{value:,}" if isinstance(value, int) else str(value)


def alert_text(alert: Alert, settings: Settings, items: Mapping[int, int] | None = None) -> str:
    """A plain-text message about one alert, for chat or e-mail. `items` (post id → queue item id,
    from `alert_items`) adds a link to each listed post's queue item."""
    base = settings.dashboard.base_url
    explanation = alert.explanation
    lines = [f"[{settings.brand.name}] spike alert #{alert.id}: {explanation.get('summary', alert.scope)}"]
    started = alert.started_at.isoformat() if alert.started_at else "?"
    lines.append(f"From {started} to {alert.ended_at.isoformat() if alert.ended_at else 'now'} (UTC).")
    for post in explanation.get("posts", [])[:ALERT_POSTS]:
        item = (items or {}).get(post.get("post_id", 0))
        link = f" {item_url(base, item)}" if item is not None else ""
        reach = _count(post["reach"])
        lines.append(f"• @{post['handle']} ({post['platform']}, reach {reach}): {post['text'][:200]}{link}")
    authors = explanation.get("authors", [])[:3]
    if authors:
        named = (f"@{a['handle']} ({_count(a['followers'])} followers)" for a in authors)
        lines.append("Largest reach: " + ", ".join(named))
    lines.append(scope_url(base, alert.scope))
    return "\n".join(lines)


def alert_items(alert: Alert, *, session: Session) -> dict[int, int]:
    """Post id → queue item id for the posts the alert's message lists (those that were queued)."""
    # .get: an explanation is stored JSON; one written without post ids still gets its message.
    posts = [p["post_id"] for p in alert.explanation.get("posts", [])[:ALERT_POSTS] if p.get("post_id")]
    return item_ids_for_posts(posts, session=session)


def alert_channels(settings: Settings) -> list[str]:
    """Where alerts go besides the staff's inboxes: "webhook" and "email", those configured."""
    reports = settings.reports
    return [name for name, on in (("webhook", bool(reports.webhook_url)), ("email", email_configured(reports))) if on]


def delivery_summary(alert: Alert, channels: list[str]) -> str:
    """Where `alert` went beyond the staff's inboxes (which every alert reaches when it is raised),
    given the configured `channels`: "sent by webhook", "e-mail not sent yet"…"""
    names = {"webhook": "webhook", "email": "e-mail"}
    sent = [names.get(c, c) for c in sorted(alert.delivered or {})]
    waiting = [names.get(c, c) for c in channels if c not in (alert.delivered or {})]
    if not sent and not waiting:
        return "inboxes only: no webhook or e-mail configured"
    parts = [f"sent by {' and '.join(sent)}"] if sent else []
    return "; ".join(parts + ([f"{' and '.join(waiting)} not sent yet"] if waiting else []))


def notify_alerts(
    *, session: Session, settings: Settings, alerts: list[Alert] | None = None, now: datetime | None = None
) -> list[Alert]:
    """Send each not-yet-notified alert to the webhook and/or by e-mail; returns those delivered.

    A failed delivery is logged and the alert stays unnotified, so the next run retries that
    channel only: each channel's delivery is recorded in `Alert.delivered`, and a channel that
    worked is never sent the same alert again. Without a webhook or e-mail nothing is sent.
    """
    channels, webhook = alert_channels(settings), settings.reports.webhook_url
    if not channels:
        return []
    pending = [a for a in (alerts if alerts is not None else unnotified_alerts(session=session)) if not a.notified_at]
    delivered = []
    for alert in pending:
        text = alert_text(alert, settings, alert_items(alert, session=session))
        done = dict(alert.delivered or {})
        for channel in channels:
            if channel in done:
                continue  # delivered on an earlier run: never sent twice while another channel retries
            try:
                if channel == "webhook":
                    post_webhook(str(webhook), text)
                else:
                    subject = (
                        f"[{settings.brand.name}] spike: {scope_label(alert.scope, session, settings.topic_catalog)}"
                    )
                    send_email(settings.reports, subject=subject, text=text)
            except SendError as exc:
                log.warning("alert %s not delivered by %s: %s", alert.id, channel, exc)
                continue
            done[channel] = (now or utcnow()).isoformat()
        alert.delivered = done
        if all(channel in done for channel in channels):
            alert.notified_at = now or utcnow()
            delivered.append(alert)
        session.add(alert)
    return delivered


def alert_recipients(*, session: Session, settings: Settings) -> list[Staff]:
    """Who hears of a new spike alert: `[notifications] alert_recipients` by username when set,
    else every active member whose role may see alerts (alert.view)."""
    named = settings.notifications.alert_recipients
    people = staff_by_usernames(named, session=session) if named else staff_allowed("alert.view", session=session)
    return [s for s in people if s.active]


def notify_staff(alert: Alert, *, session: Session, settings: Settings, now: datetime | None = None) -> None:
    """A notification of a new alert to each recipient (the inbox, and their own channels)."""
    summary = alert.explanation.get("summary", alert.scope) if isinstance(alert.explanation, dict) else alert.scope
    notify(
        alert_recipients(session=session, settings=settings), session=session, kind="alert",
        subject=f"alert:{alert.id}", event="raised", text=f"Spike alert #{alert.id}: {summary}",
        now=now or utcnow(), alert_id=alert.id,
    )  # fmt: skip
