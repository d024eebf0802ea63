"""The weekly sentiment report: figures for one ISO week, written as an HTML page and a PDF.

`build_weekly` asks the database for aggregates only (GROUP BY and ORDER BY … LIMIT), so the
cost grows with the number of groups, not posts. `write_weekly` renders the page with Jinja2
and hand-drawn SVG charts, and WeasyPrint turns the same page into the PDF.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session

from dangol.core.links import item_url, report_url, scope_url, topic_url
from dangol.core.settings import BrandSettings, Settings, TopicCatalog
from dangol.core.types import SENTIMENTS, utcnow, web_link
from reports import charts
from reports.brands import BrandRow, ComplaintRow, competitor_complaints, share_of_voice
from reports.period import Week, last_complete_week, parse_week
from reports.ratings import STARS, RatingRow, rating_rows
from reports.segments import SegmentWeek, segment_week
from reports.tails import percentile
from reports.team_performance import TeamRow, team_rows
from storage import read_models as q
from storage.alerts import alerts_between
from storage.authors import mark_brand_accounts
from storage.models import Alert
from storage.queue import item_ids_for_posts
from storage.topics import topic_names

TREND_WEEKS = 4
NOTABLE_POSTS = 3
TOP_TOPICS = 8
TOP_MOVERS = 3


@dataclass(frozen=True, slots=True)
class WeekPoint:
    """Sentiment counts of one week, for the trend."""

    week: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def net(self) -> float | None:
        return net_sentiment(self.counts)


@dataclass(frozen=True, slots=True)
class TopicRow:
    """Complaints about one topic this week and last week."""

    key: str
    name: str
    count: int
    previous: int

    @property
    def change(self) -> int:
        return self.count - self.previous


@dataclass(frozen=True, slots=True)
class ResponseStats:
    """First-response times (minutes) and SLA outcomes of the items queued this week."""

    answered: int
    median_minutes: float | None
    p90_minutes: float | None
    sla_met: int
    sla_missed: int
    sla_pending: int

    @property
    def sla_attainment(self) -> float | None:
        """Met / (met + missed); items still within their deadline are left out."""
        decided = self.sla_met + self.sla_missed
        return self.sla_met / decided if decided else None


@dataclass(frozen=True, slots=True)
class AlertRow:
    """A spike episode that overlapped the week."""

    id: int
    kind: str
    scope: str
    started_at: datetime
    ended_at: datetime | None
    observed: float
    expected: float
    summary: str


@dataclass
class WeeklyReport:
    """Every figure of the weekly report; the template only formats these."""

    brand: str
    week: str
    timezone: str
    start: datetime  # UTC
    end: datetime  # UTC, exclusive
    generated_at: datetime
    as_of: datetime  # the "now" of the figures that change with time (items still within their SLA)
    volume_by_platform: dict[str, int]
    volume_by_source: dict[str, int]
    sentiment: dict[str, int]
    trend: list[WeekPoint]  # oldest first; the last point is this week
    complaint_topics: list[TopicRow]
    movers: list[TopicRow]
    notable_negative: list[q.ReachPost]
    notable_positive: list[q.ReachPost]
    response: ResponseStats
    alerts: list[AlertRow] = field(default_factory=list)
    customers: SegmentWeek | None = None  # won back, newly at risk, top advocates (public handles only)
    # Per team only: every role may read this report (report.view), so no agent's own figures go in it.
    teams: list[TeamRow] = field(default_factory=list)
    # Store reviews' star ratings per week (the trend's weeks, oldest first), store, app and version.
    ratings: list[RatingRow] = field(default_factory=list)
    base_url: str = "http://localhost:8501"  # the dashboard (`[dashboard] base_url`) the report links into
    queued: dict[int, int] = field(default_factory=dict)  # notable post id → the queue item covering it

    @property
    def url(self) -> str:
        """This report on the dashboard's Reports page."""
        return report_url(self.base_url, self.week)

    # Share of voice and net sentiment per brand, the trend's weeks (oldest first), own brand first.
    brands: list[BrandRow] = field(default_factory=list)
    # Where competitors' customers complained this week, per competitor and topic.
    competitor_complaints: list[ComplaintRow] = field(default_factory=list)

    @property
    def brands_this_week(self) -> list[BrandRow]:
        return [b for b in self.brands if b.week == self.week]

    @property
    def total_posts(self) -> int:
        return sum(self.volume_by_platform.values())

    @property
    def analyzed_posts(self) -> int:
        return sum(self.sentiment.values())

    @property
    def sentiment_share(self) -> dict[str, float]:
        total = self.analyzed_posts
        return {s: (self.sentiment.get(s, 0) / total if total else 0.0) for s in SENTIMENTS}

    @property
    def net_sentiment(self) -> float | None:
        return net_sentiment(self.sentiment)

    @property
    def previous_net(self) -> float | None:
        """Last week's net sentiment, when it had analyzed posts."""
        return self.trend[-2].net if len(self.trend) >= 2 else None

    @property
    def net_change(self) -> float | None:
        """Net sentiment minus last week's, when both exist."""
        now, before = (self.trend[-1].net if self.trend else None), self.previous_net
        return None if now is None or before is None else now - before

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(ZoneInfo(self.timezone))

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(ZoneInfo(self.timezone))

    @property
    def local_last_day(self) -> datetime:
        """The week's Sunday, local time (the end is the next Monday's midnight, exclusive)."""
        return self.local_end - timedelta(days=1)


def net_sentiment(counts: dict[str, int]) -> float | None:
    """(positive − negative) / all analyzed posts, or None when there are none."""
    total = sum(counts.values())
    if not total:
        return None
    return (counts.get("positive", 0) - counts.get("negative", 0)) / total


def resolve_week(week: str | None, brand: BrandSettings, now: datetime | None = None) -> Week:
    """The named ISO week, or the last complete one in the brand's time zone."""
    tz = brand.timezone
    return parse_week(week, tz) if week else last_complete_week(now or utcnow(), tz)


def build_weekly(
    *, session: Session, settings: Settings, week: str | None, now: datetime | None = None
) -> WeeklyReport:
    """Compute the weekly report for `week` (`2026-W47`; default: the last complete week)."""
    now = now or utcnow()
    target = resolve_week(week, settings.brand, now)
    start, end = target.start, target.end
    mark_brand_accounts(session=session, own=settings.brand.own_accounts())  # their posts are not counted
    q.refresh_statistics(session=session)
    weeks = [target.shift(-i) for i in range(TREND_WEEKS, -1, -1)]
    by_week = q.sentiment_counts_by_window(session=session, windows=[(w.label, w.start, w.end) for w in weeks])
    trend = [WeekPoint(w.label, by_week[w.label]) for w in weeks]
    topics = _topic_rows(session, settings.topic_catalog, target)
    notable = {
        sentiment: q.top_posts_by_reach(
            session=session,
            since=start,
            until=end,
            sentiment=sentiment,
            limit=NOTABLE_POSTS,
            exclude_accounts=settings.brand.own_accounts(),
        )
        for sentiment in ("negative", "positive")
    }
    return WeeklyReport(
        brand=settings.brand.name,
        week=target.label,
        timezone=target.timezone,
        start=start,
        end=end,
        generated_at=utcnow(),  # when it was made, even for a report of replayed data
        as_of=now,
        volume_by_platform=q.volume_by_platform(session=session, since=start, until=end),
        volume_by_source=q.volume_by_source(session=session, since=start, until=end),
        sentiment=trend[-1].counts,
        trend=trend,
        complaint_topics=topics[:TOP_TOPICS],
        movers=_movers(topics),
        notable_negative=notable["negative"],
        notable_positive=notable["positive"],
        response=_response_stats(session, start, end, now),
        alerts=[_alert_row(a) for a in alerts_between(session=session, since=start, until=end)],
        customers=segment_week(session=session, configured=set(settings.segments), since=start, until=end),
        teams=team_rows(session=session, week=target),
        ratings=rating_rows(session=session, weeks=weeks),
        base_url=settings.dashboard.base_url,
        queued=item_ids_for_posts([p.post_id for posts in notable.values() for p in posts], session=session),
        brands=share_of_voice(session=session, brands=settings.brand_catalog, weeks=weeks),
        competitor_complaints=competitor_complaints(
            session=session,
            brands=settings.brand_catalog,
            week=target,
            topic_names=topic_names(session=session, catalog=settings.topic_catalog),
        ),
    )


def _topic_rows(session: Session, catalog: TopicCatalog, week: Week) -> list[TopicRow]:
    last_week = week.previous()
    windows = [("before", last_week.start, last_week.end), ("this", week.start, week.end)]
    counts = q.complaint_topics_by_window(session=session, windows=windows)
    this, before = counts["this"], counts["before"]
    keys = set(this) | set(before)
    names = topic_names(session=session, catalog=catalog)
    rows = [TopicRow(key, names.get(key, key), this.get(key, 0), before.get(key, 0)) for key in keys]
    return sorted(rows, key=lambda r: (-r.count, -r.previous, r.key))


def _movers(rows: list[TopicRow]) -> list[TopicRow]:
    moved = [r for r in rows if r.change]
    return sorted(moved, key=lambda r: (-abs(r.change), -r.count, r.key))[:TOP_MOVERS]


def _response_stats(session: Session, start: datetime, end: datetime, now: datetime) -> ResponseStats:
    minutes = q.first_response_minutes(session=session, since=start, until=end)
    sla = q.sla_counts(session=session, since=start, until=end, now=now)
    return ResponseStats(
        answered=len(minutes),
        median_minutes=percentile(minutes, 0.5),
        p90_minutes=percentile(minutes, 0.9),
        sla_met=sla.met,
        sla_missed=sla.missed,
        sla_pending=sla.pending,
    )


def _alert_row(alert: Alert) -> AlertRow:
    assert alert.id is not None and alert.started_at is not None
    return AlertRow(
        id=alert.id,
        kind=alert.kind,
        scope=alert.scope,
        started_at=alert.started_at,
        ended_at=alert.ended_at,
        observed=alert.observed,
        expected=alert.expected,
        summary=str(alert.explanation.get("summary", "")),
    )


def render_html(report: WeeklyReport) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG charts)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["html"]))
    env.filters["web_link"] = web_link
    env.filters["topic_url"] = lambda key: topic_url(report.base_url, key)
    env.filters["item_url"] = lambda item_id: item_url(report.base_url, item_id)
    env.filters["scope_url"] = lambda scope: scope_url(report.base_url, scope)
    env.filters["count"] = lambda v: f"{v:,}"  # 103,272 as people read it, not 103272
    env.filters["pct"] = lambda v: "–" if v is None else f"{v * 100:.1f}%"
    env.filters["signed"] = lambda v: "–" if v is None else f"{v:+.2f}"
    env.filters["minutes"] = format_minutes
    env.filters["stars"] = format_stars
    env.filters["local"] = lambda d: d.astimezone(ZoneInfo(report.timezone)).strftime("%Y-%m-%d %H:%M")
    return env.get_template("weekly.html").render(r=report, charts=_charts(report), stars=STARS)


def format_minutes(value: float | None) -> str:
    """Minutes as the report shows them: '45 min' under two hours, else '3.5 h'; '–' for none."""
    if value is None:
        return "–"
    if value < 120:
        return f"{value:.0f} min"
    return f"{value / 60:.1f} h"


def format_stars(value: float | None) -> str:
    """An average star rating as the report shows it: '3.47'; '–' without reviews."""
    return "–" if value is None else f"{value:.2f}"


def _charts(report: WeeklyReport) -> dict[str, str]:
    return {
        "trend": charts.stacked_shares([(p.week, p.counts) for p in report.trend], title="Sentiment share by week"),
        "sources": charts.horizontal_bars(
            sorted(report.volume_by_source.items(), key=lambda kv: (-kv[1], kv[0])), title="Posts by source"
        ),
        "topics": charts.horizontal_bars(
            [(t.name, t.count) for t in report.complaint_topics], title="Complaints by topic", color="#c62828"
        ),
    }


def write_weekly(report: WeeklyReport, out_dir: Path | str) -> list[Path]:
    """Write `<brand-slug>-<week>.html` and `.pdf` into `out_dir`; returns both paths."""
    from weasyprint import HTML

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"weekly-{report.week}"
    html_path, pdf_path = out / f"{stem}.html", out / f"{stem}.pdf"
    page = render_html(report)
    html_path.write_text(page, encoding="utf-8")
    HTML(string=page, base_url=str(out)).write_pdf(pdf_path)
    return [html_path, pdf_path]
