"""The files Dangol has written, brought in line with the tables when data leaves them.

An erasure or a retention purge removes a person's words from the database; the topic feeds in
`reports.feeds_dir` and the weekly reports in `reports.out_dir` would otherwise keep them (a feed
until its next hourly rewrite, a report forever). Each is written again from the tables as they
are now: a feed over the window it already covers, a report for its week with its figures as of
the same moment (read back from the page). A feed whose topic no longer exists anywhere cannot
be written again and is removed. Files in those folders that Dangol did not write are left alone.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from dangol.core.errors import NotFound
from dangol.core.settings import Settings
from dangol.core.types import utcnow
from reports.feeds import ATOM_NS, JSON_FEED_VERSION, build_topic_feed, feed_id, write_feed
from reports.period import parse_week
from reports.weekly import build_weekly, write_weekly
from storage.authors import mark_brand_accounts

FEED_SUFFIXES = (".json", ".atom")
_REPORT_NAME = re.compile(r"^weekly-(\d{4}-W\d{2})\.(html|pdf)$")
_META = re.compile(r'<meta name="dangol:([a-z-]+)" content="([^"]*)">')


@dataclass(frozen=True, slots=True)
class WrittenReport:
    """A weekly report found in the output folder: its week, page, and what its page says of itself."""

    week: str
    folder: Path
    page: str  # the HTML, "" when only the PDF is there
    as_of: datetime | None

    def shows(self, texts: Iterable[str]) -> bool:
        """True when the page shows one of `texts` (always, for a PDF without its page)."""
        if not self.page:
            return True
        shown = html.unescape(self.page)
        return any(text and text in shown for text in texts)


@dataclass(frozen=True, slots=True)
class WrittenFeed:
    """A topic feed found in the feeds folder, with the window its JSON Feed says it covers."""

    key: str
    folder: Path
    since: datetime | None
    until: datetime | None


def written_reports(out_dir: Path | str) -> list[WrittenReport]:
    """The weekly reports Dangol wrote into `out_dir`, one per week, oldest first."""
    folder = Path(out_dir)
    weeks = sorted({m.group(1) for p in _files(folder) if (m := _REPORT_NAME.match(p.name))})
    found = []
    for week in weeks:
        page_path = folder / f"weekly-{week}.html"
        page = page_path.read_text(encoding="utf-8", errors="replace") if page_path.exists() else ""
        meta = dict(_META.findall(page))
        found.append(WrittenReport(week, folder, page, _moment(meta.get("as-of"))))
    return found


def written_feeds(feeds_dir: Path | str) -> list[WrittenFeed]:
    """The topic feeds Dangol wrote into `feeds_dir` (known by their JSON Feed or Atom id), by topic."""
    folder = Path(feeds_dir)
    found = []
    for key in sorted({p.stem for p in _files(folder) if p.suffix in FEED_SUFFIXES}):
        data = _json_feed(folder / f"{key}.json")
        if data is None and not _is_atom_feed(folder / f"{key}.atom", key):
            continue
        figures = data["_dangol"] if data else {}
        found.append(WrittenFeed(key, folder, _moment(figures.get("since")), _moment(figures.get("until"))))
    return found


def rewrite_feeds(
    feeds: Iterable[WrittenFeed], *, session: Session, settings: Settings, now: datetime | None = None
) -> list[Path]:
    """Write `feeds` again over their windows (a feed with none: the configured days up to `now`);
    remove those whose topic is gone. Returns the paths written."""
    now = now or utcnow()
    mark_brand_accounts(session=session, own=settings.brand.own_accounts())  # as build_feeds does
    paths: list[Path] = []
    for written in feeds:
        days = round((written.until - written.since) / timedelta(days=1)) if written.since and written.until else None
        try:
            feed = build_topic_feed(
                session=session, settings=settings, key=written.key, now=written.until or now, days=days or None
            )
        except NotFound:
            for suffix in FEED_SUFFIXES:
                (written.folder / f"{written.key}{suffix}").unlink(missing_ok=True)
            continue
        paths += write_feed(feed, settings, written.folder)
    return paths


def rewrite_reports(reports: Iterable[WrittenReport], *, session: Session, settings: Settings) -> list[Path]:
    """Write `reports` again from the tables, each as of the moment it was first figured (or the
    end of its week, for a page that does not say). Returns the paths written."""
    paths: list[Path] = []
    for written in reports:
        as_of = written.as_of or parse_week(written.week, settings.brand.timezone).end
        report = build_weekly(session=session, settings=settings, week=written.week, now=as_of)
        paths += write_weekly(report, written.folder)
    return paths


def rewrite_after_erasure(texts: Iterable[str], *, session: Session, settings: Settings) -> list[Path]:
    """After an erasure: write every feed again (they are small), and every report that shows one
    of `texts` (the person's handles, names and words)."""
    texts = [t for t in texts if t]
    reports = [r for r in written_reports(settings.reports.out_dir) if r.shows(texts)]
    feeds = written_feeds(settings.reports.feeds_dir)
    return rewrite_feeds(feeds, session=session, settings=settings) + rewrite_reports(
        reports, session=session, settings=settings
    )


def rewrite_after_purge(
    expired: tuple[datetime, datetime] | None, *, session: Session, settings: Settings, now: datetime | None = None
) -> list[Path]:
    """After a retention purge that cleared the texts of posts created between `expired` (first,
    last): write every feed again, and each report of a week that held some of them."""
    feeds = written_feeds(settings.reports.feeds_dir)
    reports = []
    if expired is not None:
        first, last = expired
        for written in written_reports(settings.reports.out_dir):
            week = parse_week(written.week, settings.brand.timezone)
            if week.start <= last and first < week.end:
                reports.append(written)
    return rewrite_feeds(feeds, session=session, settings=settings, now=now) + rewrite_reports(
        reports, session=session, settings=settings
    )


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []


def _moment(text: str | None) -> datetime | None:
    """A stored ISO time as aware UTC; None when absent or unreadable."""
    try:
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment and moment.tzinfo else None


def _json_feed(path: Path) -> dict | None:
    """The JSON Feed Dangol wrote at `path`, or None (absent, unreadable, or someone else's)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ours = isinstance(data, dict) and data.get("version") == JSON_FEED_VERSION and isinstance(data.get("_dangol"), dict)
    return data if ours else None


def _is_atom_feed(path: Path, key: str) -> bool:
    """True when `path` is the Atom feed Dangol wrote for topic `key`."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return False
    return root.findtext(f"{{{ATOM_NS}}}id") == feed_id(key)
