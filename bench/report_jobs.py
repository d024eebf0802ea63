"""Time the report jobs against an existing database (for BENCHMARKS.md):

    python -m bench.report_jobs --url sqlite:///var/bench/1m.db --week 2026-W47 --now 2026-11-23T03:00:00+00:00

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

from bench.pieces import weekly_time
from dangol.core.settings import load_settings
from reports.alerts import detect_spikes
from reports.feeds import write_feeds
from storage.engine import make_engine


def measure(url: str, week: str, now: datetime, config: str | None) -> dict[str, object]:
    """Seconds for build_weekly, write_weekly, detect_spikes (48 h) and write_feeds, in that order."""
    settings = load_settings(config)
    engine = make_engine(url)
    timings: dict[str, object] = {"url": engine.url.render_as_string(hide_password=True), "week": week}
    # The weekly report is timed as `make bench` times it (bench.pieces.weekly_time).
    weekly = weekly_time(engine, settings, week, now)
    timings["build_weekly_s"] = weekly["build_s"]
    timings["posts_in_week"] = weekly["posts_in_week"]
    timings["write_weekly_s"] = weekly["write_s"]
    with Session(engine) as session, tempfile.TemporaryDirectory(prefix="dangol-timing-") as out:
        start = time.perf_counter()
        timings["alerts"] = len(detect_spikes(session=session, settings=settings, now=now))
        timings["detect_spikes_48h_s"] = round(time.perf_counter() - start, 2)
        session.rollback()
        start = time.perf_counter()
        write_feeds(session=session, settings=settings, out_dir=out, now=now)
        timings["write_feeds_s"] = round(time.perf_counter() - start, 2)
    engine.dispose()
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
