"""Time the report jobs against an existing database (for BENCHMARKS.md):

    python -m reports.timing --url sqlite:///var/bench/1m.db --week 2026-W47 --now 2026-11-23T03:00:00+00:00

Prints one JSON object with seconds per step. Nothing is committed: alerts found are rolled back.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime

from sqlmodel import Session

from dangol.core.settings import load_settings
from reports.alerts import detect_spikes
from reports.feeds import write_feeds
from reports.weekly import build_weekly, write_weekly
from storage.engine import make_engine


def measure(url: str, week: str, now: datetime, config: str | None) -> dict[str, object]:
    """Seconds for build_weekly, write_weekly, detect_spikes (48 h) and write_feeds, in that order."""
    settings = load_settings(config)
    out = tempfile.mkdtemp(prefix="dangol-timing-")
    timings: dict[str, object] = {"url": make_engine(url).url.render_as_string(hide_password=True), "week": week}
    with Session(make_engine(url)) as session:
        start = time.perf_counter()
        report = build_weekly(session=session, settings=settings, week=week, now=now)
        timings["build_weekly_s"] = round(time.perf_counter() - start, 2)
        timings["posts_in_week"] = report.total_posts
        start = time.perf_counter()
        write_weekly(report, out)
        timings["write_weekly_s"] = round(time.perf_counter() - start, 2)
        start = time.perf_counter()
        timings["alerts"] = len(detect_spikes(session=session, settings=settings, now=now))
        timings["detect_spikes_48h_s"] = round(time.perf_counter() - start, 2)
        session.rollback()
        start = time.perf_counter()
        write_feeds(session=session, settings=settings, out_dir=out, now=now)
        timings["write_feeds_s"] = round(time.perf_counter() - start, 2)
    return timings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--week", required=True, help="ISO week such as 2026-W47")
    parser.add_argument("--now", required=True, help="ISO time with offset, e.g. 2026-11-23T03:00:00+00:00")
    parser.add_argument("--config", default="config.toml")
    args = parser.parse_args(argv)
    result = measure(args.url, args.week, datetime.fromisoformat(args.now), args.config)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
