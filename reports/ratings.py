"""Store reviews' star ratings per app, version and week, and complaints per app version.

The database groups (storage.read_models: `review_ratings_by_window`, `complaint_topics_by_version`,
`review_versions`); this module turns the groups into the rows the weekly report, the Reports page,
the topic feeds and the spike alerts show. A review's app and version are what its store said
(`raw["dangol:appstore" | "dangol:googleplay"]`); '' when the payload did not say.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from reports.period import Week
from storage import read_models as q

STARS = (1, 2, 3, 4, 5)
STORES = {"appstore": "App Store", "googleplay": "Google Play"}
# A spike names an app version when at least this share of its store reviews were written on it
# (and there are at least VERSION_MIN_REVIEWS of them: two reviews on one version say little).
VERSION_SHARE = 0.6
VERSION_MIN_REVIEWS = 3


@dataclass(frozen=True, slots=True)
class RatingRow:
    """The star ratings of one app (on one store) in one week: all its versions, or one version."""

    week: str
    platform: str
    app: str
    version: str | None  # None: every version of the app together
    stars: dict[int, int]  # rating → reviews, every rating 1–5 present
    app_name: str = ""  # the app's name where its store said one ('' for Google Play, which names none)

    @property
    def reviews(self) -> int:
        return sum(self.stars.values())

    @property
    def average(self) -> float | None:
        """The mean star rating, or None without reviews."""
        return sum(r * n for r, n in self.stars.items()) / self.reviews if self.reviews else None

    @property
    def store(self) -> str:
        return STORES.get(self.platform, self.platform)

    @property
    def app_label(self) -> str:
        """The app as people know it: its name with the store's number ("마루커피 - Maru Coffee
        (1234567)"), or the id alone (a Google Play package name reads well enough)."""
        if self.app_name:
            return f"{self.app_name} ({self.app})" if self.app else self.app_name
        return self.app or "unknown"

    @property
    def version_label(self) -> str:
        return "all versions" if self.version is None else (self.version or "unknown")


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Versions in release order: "3.10.0" after "3.9.1"; unknown ('') first."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.\-+]", version) if p)


def rating_rows(*, session: Session, weeks: list[Week]) -> list[RatingRow]:
    """Per week (oldest first), store and app: a row for all versions, then one per version in
    release order. Weeks, stores and apps without reviews have no row."""
    counts = q.review_ratings_by_window(session=session, windows=[(w.label, w.start, w.end) for w in weeks])
    return rows_from_counts(counts, [w.label for w in weeks])


def rows_from_counts(counts: Iterable[q.RatingCount], order: list[str]) -> list[RatingRow]:
    """The rows of `rating_rows` from the grouped counts; `order`: the week labels, oldest first."""
    per_version: dict[tuple[str, str, str, str], Counter[int]] = {}
    names: dict[tuple[str, str], str] = {}  # (platform, app) → the name any week's reviews gave it
    for c in counts:
        per_version.setdefault((c.window, c.platform, c.app, c.version), Counter())[c.rating] += c.count
        if c.app_name:
            names[(c.platform, c.app)] = max(c.app_name, names.get((c.platform, c.app), ""))
    per_app: dict[tuple[str, str, str], Counter[int]] = {}
    for (week, platform, app, _version), stars in per_version.items():
        per_app.setdefault((week, platform, app), Counter()).update(stars)
    rank = {label: i for i, label in enumerate(order)}
    rows: list[RatingRow] = []
    for week, platform, app in sorted(per_app, key=lambda k: (rank.get(k[0], len(rank)), k[1], k[2])):
        name = names.get((platform, app), "")
        rows.append(RatingRow(week, platform, app, None, _all_stars(per_app[(week, platform, app)]), name))
        versions = sorted((v for (w, p, a, v) in per_version if (w, p, a) == (week, platform, app)), key=version_key)
        rows += [
            RatingRow(week, platform, app, v, _all_stars(per_version[(week, platform, app, v)]), name) for v in versions
        ]
    return rows


def _all_stars(stars: Counter[int]) -> dict[int, int]:
    return {r: stars.get(r, 0) for r in STARS}


@dataclass(frozen=True, slots=True)
class VersionCount:
    """Complaints about a topic in store reviews of one app version, this window and the one before."""

    platform: str
    app: str
    version: str
    posts: int
    previous: int

    @property
    def label(self) -> str:
        return f"{STORES.get(self.platform, self.platform)} {self.app or '?'} {self.version or 'unknown version'}"


def topic_versions(
    *, session: Session, topic: str, since: datetime, until: datetime, before: datetime
) -> list[VersionCount]:
    """The topic's store-review complaints per app version in `[since, until)` and `[before, since)`,
    most complaints first, then newest version first."""
    now = Counter(
        {
            (p, a, v): n
            for _, p, a, v, n in q.complaint_topics_by_version(session=session, since=since, until=until, topic=topic)
        }
    )
    then = Counter(
        {
            (p, a, v): n
            for _, p, a, v, n in q.complaint_topics_by_version(session=session, since=before, until=since, topic=topic)
        }
    )
    rows = [VersionCount(p, a, v, now[(p, a, v)], then[(p, a, v)]) for p, a, v in set(now) | set(then)]
    rows.sort(key=lambda r: (r.platform, r.app, version_key(r.version)), reverse=True)
    return sorted(rows, key=lambda r: -r.posts)


@dataclass(frozen=True, slots=True)
class VersionShare:
    """The app version most of a set of store reviews were written on."""

    version: str
    reviews: int  # on this version
    of: int  # store reviews in the set whose version is known
    apps: tuple[str, ...]  # "App Store 123", "Google Play com.example": where those reviews were

    @property
    def share(self) -> float:
        return self.reviews / self.of


def concentrated_version(*, session: Session, post_ids: list[int]) -> VersionShare | None:
    """The app version that at least VERSION_SHARE of these posts' store reviews were written on (at
    least VERSION_MIN_REVIEWS reviews with a known version), or None. Counted by version number
    across both stores: one release ships to the App Store and Google Play under one number."""
    known = [found for found in q.review_versions(session=session, post_ids=post_ids).values() if found[2]]
    if len(known) < VERSION_MIN_REVIEWS:
        return None
    by_version = Counter(version for _, _, version in known)
    version, reviews = sorted(by_version.items(), key=lambda kv: (-kv[1], version_key(kv[0])))[0]
    if reviews / len(known) < VERSION_SHARE:
        return None
    apps = sorted({f"{STORES.get(p, p)} {a or '?'}" for p, a, v in known if v == version})
    return VersionShare(version, reviews, len(known), tuple(apps))
