"""Soak run: N synthetic posts through the whole pipeline on PostgreSQL with several real workers.

    python -m bench.soak --posts 100000 --workers 2 \
        --url postgresql://postgres@127.0.0.1:5432/dangol_soak
    python -m bench.soak --posts 10000 --workers 1,2,4 --sources 3 --budget 2000   # issue #15's run

Writes X-shaped replay pages (synthetic texts, made up here), starts `dangol run` worker
processes (APScheduler: collect, analyze with the configured model, route) on one fresh
database, samples each worker's resident memory, and stops them once every post is stored,
analyzed and routed. Prints one JSON line per run: posts generated/stored/analyzed, lost (readable
but not stored), duplicates, queue items per post, the capped source's budget use and overspend,
scheduled-job slots run more than once, error lines in the workers' logs, posts/s, and per worker
the peak RSS and the second- and last-quarter means (flat memory: the last-quarter mean within
~10 % of the second-quarter one).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine, make_url

from bench.machine import load_average

PRODUCTS = ("latte", "cold brew", "oat flat white", "croissant", "stamp card", "mobile order", "gift card", "bagel")
PROBLEMS = ("arrived cold", "never came", "was charged twice", "keeps crashing", "tasted burnt", "was missing")
PRAISE = ("was lovely", "made my morning", "is the best in town", "was ready in two minutes")
QUESTIONS = ("Is the {p} back this week?", "Do you still take the {p} at the station store?")
KOREAN = ("{p} 주문했는데 {n}분째 안 와요", "{p} 정말 맛있어요 {n}번째 방문", "{p} 환불 가능한가요? 주문 {n}")
START = datetime(2026, 11, 1, tzinfo=UTC)
# Posts per replayed page: also the replay source's `max_page_posts` default, its worst page.
PER_PAGE = 100


def synthetic_text(rng: random.Random, n: int) -> str:
    """One made-up post about the brand: a complaint, praise, a question or Korean chatter."""
    product, number = rng.choice(PRODUCTS), rng.randint(2, 9999)
    kind = rng.random()
    if kind < 0.35:
        return f"@marucoffee my {product} {rng.choice(PROBLEMS)} (order M-{number}), post {n}"
    if kind < 0.65:
        return f"The {product} at Maru Coffee {rng.choice(PRAISE)} #{number}"
    if kind < 0.8:
        return rng.choice(QUESTIONS).format(p=product) + f" ({number})"
    return rng.choice(KOREAN).format(p=product, n=number)


def x_page(rng: random.Random, first: int, count: int, *, authors: int = 5000) -> dict[str, Any]:
    """An X API v2 search response body with `count` posts numbered from `first`."""
    tweets, users = [], {}
    for n in range(first, first + count):
        author = rng.randrange(authors)
        users[author] = {"id": f"u{author}", "username": f"soaker{author}", "name": f"Soaker {author}"}
        created = START + timedelta(seconds=30 * n)
        tweets.append(
            {
                "id": str(10**12 + n),
                "author_id": f"u{author}",
                "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "lang": "en",
                "text": synthetic_text(rng, n),
                "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": rng.randint(0, 9)},
            }
        )
    return {"data": tweets, "includes": {"users": list(users.values())}, "meta": {"result_count": count}}


def write_x_pages(folder: Path, *, posts: int, per_page: int = PER_PAGE, first: int = 0, seed: int = 7) -> list[str]:
    """Write `posts` posts as replay pages page-000001.json…; returns the external ids written."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    ids: list[str] = []
    for page, start in enumerate(range(first, first + posts, per_page), start=1):
        count = min(per_page, first + posts - start)
        body = x_page(rng, start, count)
        ids.extend(t["id"] for t in body["data"])
        (folder / f"page-{page:06d}.json").write_text(json.dumps(body, ensure_ascii=False))
    return ids


def soak_config(
    path: Path, url: str, sources: dict[str, Path], *, analyze_every: int = 2, budgets: dict[str, int] | None = None
) -> Path:
    """A config.toml with replay sources over `sources` (name → folder) on database `url`; a
    source named in `budgets` is billed as X bills (posts read) and capped at that many a month."""
    lines = ["[database]", f'url = "{url}"', "", "[worker]", f"analyze_every_seconds = {analyze_every}"]
    # Alerts and feeds every minute, so a run of a few minutes has schedule slots to check.
    lines += [f"route_every_seconds = {analyze_every}", "alerts_every_minutes = 1", "feeds_every_minutes = 1", ""]
    for name, folder in sources.items():
        lines += [f"[sources.{name}]", 'use = "replay"', 'platform = "x"', f'path = "{folder}"']
        lines += ["every_minutes = 1"]
        if budgets and name in budgets:
            lines += [f"monthly_post_reads = {budgets[name]}"]
        lines += [""]
    path.write_text("\n".join(lines))
    return path


@dataclass
class MemoryTrace:
    """Resident memory samples (MiB) of one process over time."""

    pid: int
    samples: list[float] = field(default_factory=list)

    def sample(self) -> None:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    self.samples.append(int(line.split()[1]) / 1024)
        except OSError:
            pass  # the process has exited

    def summary(self) -> dict[str, float]:
        """Peak, and the means of the second and last quarters of the samples (MiB)."""
        s, q = self.samples, max(1, len(self.samples) // 4)
        second, last = s[q : 2 * q] or s, s[-q:] or s
        mean2, mean4 = sum(second) / len(second), sum(last) / len(last)
        return {
            "peak_mib": round(max(s), 1),
            "q2_mean_mib": round(mean2, 1),
            "q4_mean_mib": round(mean4, 1),
            "growth_pct": round(100 * (mean4 - mean2) / mean2, 1),
        }


def backlog(engine: Engine) -> dict[str, int]:
    """Counts that say how far the pipeline is: stored, distinct, analyzed, routed, queued."""
    from storage.models import Analysis, Post, QueueItem

    with engine.connect() as conn:
        posts = conn.execute(select(func.count()).select_from(Post)).scalar_one()
        distinct = conn.execute(select(func.count(func.distinct(Post.external_id)))).scalar_one()
        analyses = conn.execute(select(func.count()).select_from(Analysis)).scalar_one()
        analyzed = conn.execute(select(func.count()).where(Post.analyzed.is_(True))).scalar_one()  # type: ignore[attr-defined]
        routed = conn.execute(select(func.count()).where(Analysis.routed.is_(True))).scalar_one()  # type: ignore[attr-defined]
        items = conn.execute(select(func.count()).select_from(QueueItem)).scalar_one()
        item_posts = conn.execute(select(func.count(func.distinct(QueueItem.post_id)))).scalar_one()
    return {
        "posts": posts,
        "distinct_posts": distinct,
        "analyses": analyses,
        "analyzed": analyzed,
        "routed": routed,
        "queue_items": items,
        "queued_posts": item_posts,
    }


def fresh_database(url: str) -> Engine:
    """Drop and create the database named in `url`, migrated to the newest schema."""
    from storage.engine import make_engine
    from storage.migrate import upgrade

    target = make_url(url)
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    with admin.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))  # DDL: names cannot be bound
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    engine = make_engine(url)
    upgrade(engine)
    return engine


def soak(
    url: str, *, posts: int, workers: int, timeout_s: float, work: Path, sources: int = 2, budget: int | None = None
) -> dict[str, Any]:
    """Run the soak and return its figures (see the module docstring). With `budget`, the last
    source is capped at that many posts read: its posts past the cap are expected to stay unread."""
    engine = fresh_database(url)
    names = [f"soak_{chr(ord('a') + k)}" for k in range(sources)]
    folders = {name: work / name for name in names}
    expected: dict[str, list[str]] = {}
    bounds = [posts * k // sources for k in range(sources + 1)]
    for k, name in enumerate(names):
        first, count = bounds[k], bounds[k + 1] - bounds[k]
        expected[name] = write_x_pages(folders[name], posts=count, first=first, seed=k + 1)
    budgets = {names[-1]: budget} if budget is not None else {}
    config = soak_config(work / "config.toml", url, folders, budgets=budgets)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "dangol.cli", "--config", str(config), "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(work / f"worker{i}.log").open("w"),
        )
        for i in range(workers)
    ]
    traces = [MemoryTrace(p.pid) for p in procs]
    counts: dict[str, int] = {}
    try:
        while time.monotonic() - started < timeout_s:
            for trace in traces:
                trace.sample()
            counts = backlog(engine)
            if _drained(engine, counts, expected, budgets):
                break
            if any(p.poll() is not None for p in procs):
                raise RuntimeError(f"a worker exited early; see {work}/worker*.log")
            time.sleep(2)
        elapsed = time.monotonic() - started
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=120)
    counts = backlog(engine)
    spent = _budget_used(engine)
    jobs = _job_runs(engine)
    finished = _drained(engine, counts, expected, budgets)
    engine.dispose()
    readable = sum(len(ids) for name, ids in expected.items() if name not in budgets) + sum(
        spent.get(name, 0) for name in budgets
    )
    errors = [line for i in range(workers) for line in _error_lines(work / f"worker{i}.log")]
    return {
        "workers_started": workers,
        "sources": sources,
        "generated": sum(len(ids) for ids in expected.values()),
        **counts,
        "lost": readable - counts["distinct_posts"],
        "duplicated": counts["posts"] - counts["distinct_posts"],
        "queue_items_without_one_post": counts["queue_items"] - counts["queued_posts"],
        "budget": {name: {"cap": cap, "used": spent.get(name, 0)} for name, cap in budgets.items()},
        "overspent": sum(max(0, spent.get(name, 0) - cap) for name, cap in budgets.items()),
        "job_runs": jobs,
        "worker_error_lines": errors[:20],
        "finished": finished,
        "seconds": round(elapsed, 1),
        "posts_per_s": round(counts["analyzed"] / elapsed, 1),
        "workers": [trace.summary() for trace in traces],
        "load_average_end": load_average(),
    }


def _budget_used(engine: Engine) -> dict[str, int]:
    from storage.models import Source

    with engine.connect() as conn:
        return {name: int(used) for name, used in conn.execute(select(Source.name, Source.budget_used))}


def _job_runs(engine: Engine) -> dict[str, Any]:
    """Scheduled-job runs recorded per (job, slot): each slot must have run exactly once."""
    from storage.models import JobRun

    with engine.connect() as conn:
        rows = conn.execute(select(JobRun.job, JobRun.slot, func.count()).group_by(JobRun.job, JobRun.slot)).all()
    return {
        "slots": len(rows),
        "slots_run_more_than_once": sum(1 for *_, n in rows if n > 1),
        "jobs": sorted({job for job, *_ in rows}),
    }


def _error_lines(log: Path) -> list[str]:
    """Lines of a worker's log that report an error or a traceback."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return []
    return [line for line in lines if " ERROR " in line or line.startswith("Traceback")]


def _drained(engine: Engine, counts: dict[str, int], expected: dict[str, list[str]], budgets: dict[str, int]) -> bool:
    """Every readable post stored, analyzed and routed: each source's posts all stored, except a
    capped source's, which is done once its next page could pass the cap (its worst page)."""
    if not counts["analyzed"] == counts["posts"] == counts["routed"]:
        return False
    from listener.x import worst_page_objects
    from storage.models import Post, Source

    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                select(Source.name, func.count(Post.id)).join(Post, Post.source_id == Source.id).group_by(Source.name)
            ).all()
        )
        used = dict(conn.execute(select(Source.name, Source.budget_used)).all())
    for name, ids in expected.items():
        if name in budgets:
            if stored.get(name, 0) < len(ids) and used.get(name, 0) + worst_page_objects(PER_PAGE) <= budgets[name]:
                return False
        elif stored.get(name, 0) < len(ids):
            return False
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument(
        "--workers", default="2", help="Workers, or a comma list (1,2,4): one run each, one after the other."
    )
    parser.add_argument("--sources", type=int, default=2, help="Replay sources the posts are spread over.")
    parser.add_argument("--budget", type=int, default=None, help="Cap the last source at this many posts read.")
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/dangol_soak")
    parser.add_argument("--timeout-minutes", type=float, default=60)
    parser.add_argument("--work", type=Path, default=None, help="Folder for pages, config and logs.")
    args = parser.parse_args(argv)
    root = args.work or Path(tempfile.mkdtemp(prefix="dangol-soak-"))
    for workers in (int(w) for w in str(args.workers).split(",")):
        work = root / f"workers-{workers}"
        work.mkdir(parents=True, exist_ok=True)
        result = soak(
            args.url,
            posts=args.posts,
            workers=workers,
            timeout_s=args.timeout_minutes * 60,
            work=work,
            sources=args.sources,
            budget=args.budget,
        )
        print(json.dumps({"date": datetime.now(UTC).isoformat(timespec="seconds"), **result}), flush=True)  # noqa: T201


if __name__ == "__main__":
    main()
