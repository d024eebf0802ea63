"""Every number Dangol shows about the demo equals the same number counted directly from the tables.

The demo is built as `make demo` builds it. The counts here are recomputed in Python from whole
tables (never through storage.read_models): posts that are still up, by authors who are not
the brand's own accounts (judged from brand.own_handles, not from Author.is_brand). They are
compared with the written weekly report and feed files, the CSV export of the command line, and
what the Topics, Reports and Queue pages show.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, create_engine, select
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from dangol.cli import app
from dangol.demo_data import EXPECTATIONS
from storage.models import (
    Analysis,
    Author,
    Customer,
    CustomerSegment,
    CustomerSegmentChange,
    IdentityLink,
    Post,
    QueueItem,
    Source,
)
from tests.demo_build import BuiltDemo, built_demo, dashboard_page

pytestmark = pytest.mark.slow
SENTIMENTS = ("negative", "neutral", "positive")
ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass(frozen=True)
class Row:
    """One post as the tables hold it, with its author and analysis."""

    id: int
    platform: str
    source: str
    created_at: datetime
    handle: str
    author_id: int
    reach: int
    sentiment: str | None
    topic: str | None
    complaint: bool
    spam: bool
    cluster: str


@dataclass
class Truth:
    """The demo's posts that count as customer voice, and what else the counts need."""

    voice: list[Row]
    brand_handles: set[tuple[str, str]]
    items: list[QueueItem]
    applied: dict[int, Customer]  # author id -> the customer an applied link says it is
    topic_names: dict[str, str]
    newest: datetime

    def between(self, since: datetime, until: datetime) -> list[Row]:
        return [r for r in self.voice if since <= r.created_at < until]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> BuiltDemo:
    return built_demo(tmp_path_factory)


@pytest.fixture(scope="module")
def truth(demo: BuiltDemo) -> Truth:
    engine = create_engine(demo.settings.database.url)
    with Session(engine) as session:
        authors = {a.id: a for a in session.exec(select(Author))}
        analyses = {a.post_id: a for a in session.exec(select(Analysis))}
        sources = {s.id: s.name for s in session.exec(select(Source))}
        posts = list(session.exec(select(Post)))
        items = list(session.exec(select(QueueItem)))
        customers = {c.id: c for c in session.exec(select(Customer))}
        links = list(session.exec(select(IdentityLink).where(IdentityLink.status == "applied")))
    engine.dispose()
    own = demo.settings.brand
    voice = [
        _row(p, authors[p.author_id], analyses.get(p.id or 0), sources)
        for p in posts
        if p.deleted_at is None
        and not own.is_own(p.platform, authors[p.author_id].handle)
        # About the rival only: counted for share of voice, never as the own brand's voice.
        and not _about_rivals_only(p)
    ]
    brand = {(a.platform, a.handle) for a in authors.values() if own.is_own(a.platform, a.handle)}
    names = {key: topic.name for key, topic in demo.settings.topics.items()}
    newest = max(p.created_at for p in posts if p.deleted_at is None)
    applied = {link.author_id: customers[link.customer_id] for link in links}
    return Truth(voice, brand, items, applied, names, newest)


def _about_rivals_only(post: Post) -> bool:
    """Judged from the demo's story (expectations.json), not from the stored Post.competitor."""
    return _RIVAL_KEYS_OF_STORY.get(f"{post.platform}:{post.external_id}", False)


_RIVAL_KEYS_OF_STORY = {
    key: post["brand"] != "maru" for key, post in json.loads(EXPECTATIONS.read_text(encoding="utf-8"))["posts"].items()
}


def _row(post: Post, author: Author, analysis: Analysis | None, sources: dict[int | None, str]) -> Row:
    engagement = sum(v for v in post.metrics.values() if isinstance(v, int) and not isinstance(v, bool))
    return Row(
        id=post.id or 0,
        platform=post.platform,
        source=sources.get(post.source_id, post.platform),
        created_at=post.created_at,  # type: ignore[arg-type]
        handle=author.handle,
        author_id=author.id or 0,
        reach=(author.followers or 0) + engagement,
        sentiment=analysis.sentiment if analysis else None,
        topic=analysis.primary_topic if analysis else None,
        complaint=bool(analysis and analysis.is_complaint),
        spam=bool(analysis and analysis.is_spam),
        cluster=(analysis.cluster_key if analysis else "") or f"post:{post.id}",
    )


def local_week(label: str, timezone: str) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) of ISO week `label` in `timezone`, in UTC."""
    year, number = (int(part) for part in label.split("-W"))
    monday = date.fromisocalendar(year, number, 1)
    start = datetime.combine(monday, time(0), ZoneInfo(timezone))
    return start.astimezone(UTC), (start + timedelta(days=7)).astimezone(UTC)


# --- the weekly report file --------------------------------------------------------------------


@dataclass
class ReportPage:
    """The numbers of a written weekly report page, read back from its HTML."""

    kpis: dict[str, str]
    tables: dict[str, list[list[str]]]  # first header cell -> data rows
    notable: list[tuple[str, str]]  # (css class, the line under the post)
    charts: dict[str, list[str]]  # title -> the texts the chart prints, in order


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def read_report(path: Path) -> ReportPage:
    page = path.read_text(encoding="utf-8")
    charts = {
        html.unescape(title): [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", body)]
        for title, body in re.findall(r"<svg[^>]*><title>(.*?)</title>(.*?)</svg>", page, flags=re.S)
    }
    page = re.sub(r"<svg.*?</svg>|<style.*?</style>", "", page, flags=re.S)
    kpis = {}
    for block in re.findall(r'<div class="kpi">(.*?)</div>', page, flags=re.S):
        name, value = re.match(r"\s*([^<]+)<b>(.*?)</b>", block, flags=re.S).groups()  # type: ignore[union-attr]
        kpis[name.strip()] = f"{_text(value)} | {_text(block.split('</b>', 1)[1])}"
    tables = {}
    for table in re.findall(r"<table>(.*?)</table>", page, flags=re.S):
        rows = [
            [_text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)]
            for r in re.findall(r"<tr>(.*?)</tr>", table, re.S)
        ]
        tables[rows[0][0]] = rows[1:]
    notable = re.findall(r'<div class="post (\w+)">\s*<div>.*?</div>\s*<div class="muted">(.*?)</div>', page, re.S)
    return ReportPage(kpis, tables, [(css, _text(line)) for css, line in notable], charts)


@pytest.fixture(scope="module")
def report(demo: BuiltDemo) -> tuple[str, ReportPage]:
    [html_file] = sorted(Path(demo.settings.reports.out_dir).glob("weekly-*.html"))
    return html_file.stem.removeprefix("weekly-"), read_report(html_file)


def test_the_report_counts_the_weeks_posts_by_platform_and_sentiment(demo, truth, report) -> None:
    label, page = report
    start, end = local_week(label, demo.settings.brand.timezone)
    week = truth.between(start, end)
    assert week, "the demo's report week holds posts"
    posts, analyzed = page.kpis["Posts"].split(" | ")
    assert (int(posts), analyzed) == (len(week), f"{sum(r.sentiment is not None for r in week)} analyzed")
    platforms = Counter(r.platform for r in week)
    assert {p: int(n) for p, n in page.tables["Platform"]} == dict(platforms)


def test_the_reports_charts_print_the_same_counts(demo, truth, report) -> None:
    label, page = report
    this = local_week(label, demo.settings.brand.timezone)
    week = truth.between(*this)
    by_source = page.charts["Posts by source"]
    assert dict(zip(by_source[::2], map(int, by_source[1::2]), strict=True)) == dict(Counter(r.source for r in week))
    by_topic = page.charts["Complaints by topic"]
    complaints = Counter(truth.topic_names.get(r.topic or "", r.topic) for r in week if r.complaint)
    assert dict(zip(by_topic[::2], map(int, by_topic[1::2]), strict=True)) == dict(complaints)
    trend = page.charts["Sentiment share by week"]
    totals = dict(zip(trend[1:10:2], map(int, trend[0:10:2]), strict=True))  # each week's total above its label
    assert totals == {row[0]: int(row[1]) for row in page.tables["Week"]}


def test_the_reports_trend_counts_every_week_by_sentiment(demo, truth, report) -> None:
    label, page = report
    trend = {row[0]: [int(n) for n in row[1:5]] for row in page.tables["Week"]}
    assert list(trend)[-1] == label and len(trend) == 5
    for week, (total, *by_sentiment) in trend.items():
        counts = Counter(r.sentiment for r in truth.between(*local_week(week, demo.settings.brand.timezone)))
        counts.pop(None, None)
        assert [total, *by_sentiment] == [sum(counts.values()), *(counts[s] for s in SENTIMENTS)], week


def test_the_reports_complaint_topics_count_this_week_and_last(demo, truth, report) -> None:
    label, page = report
    this = local_week(label, demo.settings.brand.timezone)
    last = (this[0] - timedelta(days=7), this[0])
    counted = {
        key: Counter(truth.topic_names.get(r.topic or "", r.topic) for r in truth.between(*window) if r.complaint)
        for key, window in (("this", this), ("last", last))
    }
    shown = {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in page.tables["Topic"]}
    names = set(counted["this"]) | set(counted["last"])
    assert shown == {
        n: (counted["this"][n], counted["last"][n], counted["this"][n] - counted["last"][n]) for n in names
    }


def test_the_reports_notable_posts_are_the_weeks_highest_reach_customer_posts(demo, truth, report) -> None:
    label, page = report
    week = [r for r in truth.between(*local_week(label, demo.settings.brand.timezone)) if not r.spam]
    for css in ("negative", "positive"):
        ranked = sorted((r for r in week if r.sentiment == css), key=lambda r: (-r.reach, r.id))[:3]
        shown = [
            re.match(r"@(\S+) on (\S+), .* reach ([\d,]+) ", line).groups() for c, line in page.notable if c == css
        ]  # type: ignore[union-attr]
        assert shown == [(r.handle, r.platform, f"{r.reach:,}") for r in ranked], css


def test_the_reports_response_figures_count_the_items_queued_that_week(demo, truth, report) -> None:
    label, page = report
    start, end = local_week(label, demo.settings.brand.timezone)
    now = truth.newest + timedelta(minutes=1)  # the report jobs of the demo run "now" after its newest post
    items = [i for i in truth.items if start <= i.created_at < end]
    due = [i for i in items if i.first_response_due_at is not None]
    met = [
        i
        for i in due
        if not i.sla_breached and i.first_responded_at and i.first_responded_at <= i.first_response_due_at
    ]
    pending = [i for i in due if not i.sla_breached and not i.first_responded_at and i.first_response_due_at > now]
    [row] = page.tables["Answered"]
    assert [int(row[0]), int(row[3]), int(row[4]), int(row[5])] == [
        sum(i.first_responded_at is not None for i in items),
        len(met),
        len(due) - len(met) - len(pending),
        len(pending),
    ]


def test_the_reports_spikes_count_the_customer_posts_of_their_episode(demo, truth, report) -> None:
    from storage.models import Alert

    label, page = report
    engine = create_engine(demo.settings.database.url)
    with Session(engine) as session:
        alerts = {a.scope: a for a in session.exec(select(Alert))}
    engine.dispose()
    rows = [r for r in page.tables["Started"] if len(r) == 7]
    assert rows, "the demo's complaint burst shows in its report"
    for _started, _ended, _kind, scope, _observed, _expected, summary in rows:
        alert = alerts[scope]
        topic = scope.removeprefix("topic:")
        posts = [r for r in truth.between(alert.started_at, alert.ended_at) if r.topic == topic and not r.spam]
        assert f": {len(posts)} posts in " in summary, (scope, summary)


# --- the feed files and the CSV export ---------------------------------------------------------


def feed_files(demo: BuiltDemo) -> dict[str, dict]:
    return {
        p.stem: json.loads(p.read_text(encoding="utf-8")) for p in Path(demo.settings.reports.feeds_dir).glob("*.json")
    }


def test_each_feed_counts_the_topics_complaints_and_their_clusters(demo, truth) -> None:
    feeds = feed_files(demo)
    assert set(feeds) == set(demo.settings.topics)
    for key, feed in feeds.items():
        figures = feed["_dangol"]
        since, until = datetime.fromisoformat(figures["since"]), datetime.fromisoformat(figures["until"])
        now = [r for r in truth.between(since, until) if r.topic == key and r.complaint]
        before = [r for r in truth.between(since - (until - since), since) if r.topic == key and r.complaint]
        clusters = Counter(r.cluster for r in now)
        assert (figures["posts"], figures["clusters"], figures["previous_posts"]) == (
            len(now),
            len(clusters),
            len(before),
        ), key
        sizes = sorted(item["_dangol"]["cluster_size"] for item in feed["items"])
        assert sizes == sorted(clusters.values())[-len(sizes) :] if sizes else not clusters, key
        assert f"{len(now)} complaint" in feed["description"], key


def test_feed_items_name_customers_never_the_brands_own_accounts(demo, truth) -> None:
    brand = {f"@{handle} ({platform})" for platform, handle in truth.brand_handles}
    for key, feed in feed_files(demo).items():
        named = {author["name"] for item in feed["items"] for author in item["authors"]}
        assert not named & brand, key
        atom = ET.parse(Path(demo.settings.reports.feeds_dir) / f"{key}.atom").getroot()
        entries = atom.findall(f"{ATOM}entry")
        assert len(entries) == len(feed["items"]), key
        assert {e.findtext(f"{ATOM}author/{ATOM}name") for e in entries} == named, key
        assert atom.findtext(f"{ATOM}subtitle") in feed["description"], key


def test_the_cli_csv_export_lists_each_topics_customer_posts(demo, truth, tmp_path) -> None:
    tz = ZoneInfo(demo.settings.brand.timezone)
    first, last = (truth.newest - timedelta(days=27)).astimezone(tz).date(), truth.newest.astimezone(tz).date()
    since = datetime.combine(first, time(0), tz).astimezone(UTC)
    until = datetime.combine(last + timedelta(days=1), time(0), tz).astimezone(UTC)
    for key in [*demo.settings.topics, "other"]:
        out = tmp_path / f"{key}.csv"
        args = [
            "--config",
            str(demo.config),
            "feeds",
            "csv",
            key,
            "--since",
            str(first),
            "--until",
            str(last + timedelta(days=1)),
        ]
        result = CliRunner().invoke(app, [*args, "--out", str(out)])
        assert result.exit_code == 0, result.output
        rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
        expected = [r for r in truth.between(since, until) if r.topic == key]
        assert sorted(int(r["post_id"]) for r in rows) == sorted(r.id for r in expected), key
        assert {(r["platform"], r["author_handle"]) for r in rows}.isdisjoint(truth.brand_handles), key


# --- the dashboard pages -----------------------------------------------------------------------


def _chart_rows(at: AppTest, title: str | None = None) -> list[dict]:
    """The data rows behind the page's first Altair chart, or the one with this title (none when
    the page shows no such chart)."""
    import pyarrow as pa

    charts = [c for c in at.get("vega_lite_chart") if title is None or json.loads(c.proto.spec).get("title") == title]
    rows: list[dict] = []
    for dataset in charts[0].proto.datasets if charts else []:
        rows += pa.ipc.open_stream(dataset.data.data).read_all().to_pylist()
    return rows


def test_the_topics_page_shows_each_topics_complaints_customers_and_csv(demo, truth, monkeypatch, downloads) -> None:
    from dashboard import aggregates

    ending = (truth.newest - timedelta(days=1)).date()
    since, until = aggregates.window(28, ending)
    for key in [*demo.settings.topics]:
        at = dashboard_page(
            demo, "admin", "Topics", monkeypatch, topic_window="28 days", topic_ending=ending, topic_pick=key
        )
        assert not at.exception, at.exception
        rows = [r for r in truth.between(since, until) if r.topic == key]
        complaints = [r for r in rows if r.complaint]
        chart = [r for r in _chart_rows(at) if r["topic"] == demo.settings.topics[key].name]  # named, as the selector
        assert sum(int(r["complaints"]) for r in chart) == len(complaints), key
        summary = next(c.value for c in at.caption if " complaint" in str(c.value) and "distinct" in str(c.value))
        clusters = {r.cluster for r in complaints}
        assert re.match(rf"{len(complaints)} complaints? \({len(clusters)} distinct\)", summary.replace("\\", "")), (
            key,
            summary,
        )
        customers = Counter(truth.applied[r.author_id].name for r in complaints if r.author_id in truth.applied)
        frames = [d.value for d in at.dataframe if "customer" in d.value.columns]
        shown = dict(zip(frames[0]["customer"], frames[0]["posts"], strict=True)) if frames else {}
        assert shown == dict(customers), key
        next(b for b in at.button if b.label == "Prepare CSV").click().run()
        [download] = [b for b in at.get("download_button") if b.proto.label == "Download CSV"]
        exported = list(csv.DictReader(io.StringIO(_download_text(download))))
        assert sorted(int(r["post_id"]) for r in exported) == sorted(r.id for r in rows), key


class KeptMedia:
    """Stands in for AppTest's in-memory media storage and keeps every file (a download button's
    data), so the test can read what a click would download."""

    stores: list = []

    def __new__(cls, endpoint: str):  # noqa: ANN204 - returns streamlit's storage
        from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

        store = MemoryMediaFileStorage(endpoint)
        store.delete_file = lambda file_id: None  # type: ignore[method-assign]
        cls.stores.append(store)
        return store


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> type[KeptMedia]:
    import streamlit.testing.v1.app_test as app_test

    KeptMedia.stores.clear()
    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", KeptMedia)
    return KeptMedia


def _download_text(button) -> str:  # noqa: ANN001 - streamlit's UnknownElement
    name = button.proto.url.rsplit("/", 1)[-1]
    for store in reversed(KeptMedia.stores):
        try:
            return store.get_file(name).content.decode("utf-8")
        except Exception:  # noqa: BLE001 - an earlier run's storage
            continue
    raise AssertionError(f"no downloadable file {name}")


def test_the_topics_pages_default_window_is_the_same_for_chart_summary_customers_and_csv(
    demo, truth, monkeypatch, downloads
) -> None:
    from dashboard import aggregates
    from dashboard.views import topics

    # "Now" ten minutes past the hour, a week after a complaint made later in its hour: the last
    # 7 days counted up to now hold it; counted up to the next full hour (as the chart is) they do not.
    edge = next(r for r in sorted(truth.voice, key=lambda r: r.id) if r.complaint and r.created_at.minute > 10)
    now = edge.created_at.replace(minute=10, second=0, microsecond=0) + timedelta(days=7)
    monkeypatch.setattr(topics, "utcnow", lambda: now)
    monkeypatch.setattr(aggregates, "utcnow", lambda: now)
    at = dashboard_page(demo, "admin", "Topics", monkeypatch, topic_pick=edge.topic)
    assert not at.exception, at.exception
    since, until = aggregates.window(7)
    rows = [r for r in truth.between(since, until) if r.topic == edge.topic]
    complaints = [r for r in rows if r.complaint]
    assert sum(int(r["complaints"]) for r in _chart_rows(at) if r["topic"] == edge.topic) == len(complaints)
    summary = next(str(c.value) for c in at.caption if "distinct" in str(c.value)).replace("\\", "")
    assert summary.startswith(f"{len(complaints)} complaint"), summary
    customers = Counter(truth.applied[r.author_id].name for r in complaints if r.author_id in truth.applied)
    frames = [d.value for d in at.dataframe if "customer" in d.value.columns]
    assert (dict(zip(frames[0]["customer"], frames[0]["posts"], strict=True)) if frames else {}) == dict(customers)
    next(b for b in at.button if b.label == "Prepare CSV").click().run()
    [download] = [b for b in at.get("download_button") if b.proto.label == "Download CSV"]
    exported = list(csv.DictReader(io.StringIO(_download_text(download))))
    assert sorted(int(r["post_id"]) for r in exported) == sorted(r.id for r in rows)


def test_the_reports_page_shows_the_written_reports_numbers(demo, truth, report, monkeypatch) -> None:
    label, page = report
    at = dashboard_page(demo, "admin", "Reports", monkeypatch, report_week=label)
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Posts"] == page.kpis["Posts"].split(" | ")[0]
    assert metrics["Analyzed"] == page.kpis["Posts"].split(" | ")[1].removesuffix(" analyzed")
    assert metrics["Net sentiment"] == page.kpis["Net sentiment"].split(" | ")[0]
    topics = next(d.value for d in at.dataframe if "this week" in d.value.columns)
    shown = {
        t: (int(n), int(p)) for t, n, p in zip(topics["topic"], topics["this week"], topics["previous"], strict=True)
    }
    assert shown == {row[0]: (int(row[1]), int(row[2])) for row in page.tables["Topic"]}


def test_share_of_voice_in_the_report_and_on_the_page_equal_the_demo_tables(demo, report, monkeypatch) -> None:
    # Each post's brand from the demo's story (expectations.json), not from the stored tags; every
    # post but our accounts' and spam counts; reach = followers + the integer metrics.
    label, _ = report
    timezone = demo.settings.brand.timezone
    monday = date.fromisocalendar(*(int(part) for part in label.split("-W")), 1)
    weeks = [(monday - timedelta(weeks=back)).isocalendar() for back in range(4, -1, -1)]
    labels = [f"{year}-W{number:02d}" for year, number, _ in weeks]
    bounds = {w: local_week(w, timezone) for w in labels}
    story = json.loads(EXPECTATIONS.read_text(encoding="utf-8"))["posts"]
    engine = create_engine(demo.settings.database.url)
    with Session(engine) as session:
        authors = {a.id: a for a in session.exec(select(Author))}
        analyses = {a.post_id: a for a in session.exec(select(Analysis))}
        posts = list(session.exec(select(Post)))
    engine.dispose()
    figures: dict[tuple[str, str], Counter[str]] = {}
    for post in posts:
        author, analysis = authors[post.author_id], analyses.get(post.id or 0)
        if (
            post.deleted_at
            or demo.settings.brand.is_own(post.platform, author.handle)
            or (analysis and analysis.is_spam)
        ):
            continue
        week = next((w for w, (s, e) in bounds.items() if s <= post.created_at < e), None)  # type: ignore[operator]
        if week is None:
            continue
        count = figures.setdefault((week, story[f"{post.platform}:{post.external_id}"]["brand"]), Counter())
        engagement = sum(v for v in post.metrics.values() if isinstance(v, int) and not isinstance(v, bool))
        count.update(mentions=1, reach=(author.followers or 0) + engagement, analyzed=analysis is not None)
        count.update(positive=bool(analysis and analysis.sentiment == "positive"))
        count.update(negative=bool(analysis and analysis.sentiment == "negative"))

    def pct(part: int, whole: int) -> str:
        return "–" if not whole else f"{part / whole * 100:.1f}%"

    expected = []
    for week in labels:
        mentions = sum(c["mentions"] for (w, _), c in figures.items() if w == week)
        reach = sum(c["reach"] for (w, _), c in figures.items() if w == week)
        for brand in demo.settings.brand_catalog.brands:
            c = figures.get((week, brand.key), Counter())
            net = "–" if not c["analyzed"] else f"{(c['positive'] - c['negative']) / c['analyzed']:+.2f}"
            # Counts as the report writes them for people: "19,517".
            expected.append([week, brand.name, f"{c['mentions']:,}", pct(c["mentions"], mentions), f"{c['reach']:,}",
                             pct(c["reach"], reach), net])  # fmt: skip
    assert {row[1] for row in expected if row[2] != "0"} == {"Maru Coffee", "Byeol Coffee"}
    [html_file] = sorted(Path(demo.settings.reports.out_dir).glob("weekly-*.html"))
    written = html_file.read_text(encoding="utf-8")
    table = written[written.index('id="share-of-voice"') : written.index('id="competitor-complaints"')]
    rows = [
        [_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr data-week.*?</tr>", table, re.S)
    ]
    assert rows == expected
    at = dashboard_page(demo, "admin", "Reports", monkeypatch, report_week=label)
    assert not at.exception, at.exception
    [shown] = [d.value for d in at.dataframe if "reach share" in d.value.columns]
    # The page's table holds the numbers themselves (the browser groups their digits).
    assert [
        [f"{v:,}" if isinstance(v, int) else str(v) for v in row] for row in shown.itertuples(index=False)
    ] == expected


def test_the_reports_pages_daily_sentiment_counts_each_utc_day(demo, truth, monkeypatch) -> None:
    from dashboard import aggregates

    now = truth.newest + timedelta(days=1)
    monkeypatch.setattr(aggregates, "utcnow", lambda: now)
    at = dashboard_page(demo, "admin", "Reports", monkeypatch)
    assert not at.exception, at.exception
    since, until = aggregates.window(28)
    shown = {(r["day"], r["sentiment"]): int(r["posts"]) for r in _chart_rows(at, "Sentiment per day")}
    counted = Counter(
        (r.created_at.strftime("%Y-%m-%d"), r.sentiment) for r in truth.between(since, until) if r.sentiment
    )
    assert shown and shown == dict(counted)


def test_the_queue_page_counts_the_open_items(demo, truth, monkeypatch) -> None:
    from responder.statuses import OPEN_STATUSES

    at = dashboard_page(demo, "admin", "Queue", monkeypatch)
    assert not at.exception, at.exception
    described = next(str(c.value) for c in at.caption if " item" in str(c.value) and "page" in str(c.value))
    open_items = sum(i.status in OPEN_STATUSES for i in truth.items)
    assert described.startswith(f"{open_items:,} item"), described


def test_segment_sizes_on_the_customers_page_and_in_the_report_equal_the_segment_tables(
    demo, report, monkeypatch
) -> None:
    label, _ = report
    since, until = local_week(label, demo.settings.brand.timezone)
    engine = create_engine(demo.settings.database.url)
    with Session(engine) as session:
        members = Counter(row.segment for row in session.exec(select(CustomerSegment)))
        erased = {c.id for c in session.exec(select(Customer)) if c.erased_at is not None}
        changes = sorted(session.exec(select(CustomerSegmentChange)), key=lambda c: c.id or 0)
    engine.dispose()
    changes = [c for c in changes if c.customer_id not in erased]

    def joined(segment: str) -> int:
        return len(
            {c.customer_id for c in changes if (c.segment, c.change) == (segment, "joined") and since <= c.at < until}  # type: ignore[operator]
        )

    def members_at_week_end(segment: str) -> int:
        latest = {c.customer_id: c.change for c in changes if c.segment == segment and c.at < until}  # type: ignore[operator]
        return sum(change == "joined" for change in latest.values())

    assert members["won_back"] and members["at_risk"], "the demo's story has both"
    names = {key: segment.name for key, segment in demo.settings.segments.items()}
    at = dashboard_page(demo, "admin", "Customers", monkeypatch)
    assert not at.exception, at.exception
    counts = next(d.value for d in at.dataframe if "members now" in d.value.columns)
    shown = dict(zip(counts["segment"], (int(n) for n in counts["members now"]), strict=True))
    assert shown == {names[key]: members.get(key, 0) for key in names}
    [html_file] = sorted(Path(demo.settings.reports.out_dir).glob("weekly-*.html"))
    written = html_file.read_text(encoding="utf-8")
    section = written[written.index("<h2>Customers</h2>") :]
    section = section[: section.index("</table>")]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>.*?</tr>", section, re.S)]
    rows = {_text(row[0]): int(_text(row[1])) for row in cells if row}
    assert rows["Won back this week"] == joined("won_back")
    assert rows["Newly at risk this week"] == joined("at_risk")
    assert rows["Top advocates (widest reach)"] == members_at_week_end("advocates")
