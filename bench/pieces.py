"""The measured pieces of `python -m bench.run`; each returns a JSON-ready dict.

Sizes are parameters so the smoke test can run every piece on tiny inputs in seconds.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col, select

from bench.generate import analyze_tables, customers_for, generate
from bench.machine import load_average
from bench.timing import latency
from dangol.core.settings import Settings, load_settings
from dangol.demo_data import DEMO_DATA, PARSER_OPTIONS
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Customer, Post, QueueItem

OPEN = ("new", "assigned", "in_progress", "pending_approval")
REPLAY_PLATFORM = "mastodon"


# --- encoder ---------------------------------------------------------------------------------


# Each language's texts, from the public validation sets when they are there (real lengths);
# otherwise from the demo's posts of that language.
PUBLIC_SAMPLES = {"en": ("tweeteval", "TweetEval val"), "ko": ("nsmc", "NSMC val")}


def language_samples(per_language: int) -> dict[str, tuple[str, list[str]]]:
    """{language: (where the texts come from, up to `per_language` texts)} for English and Korean."""
    from dangol.core.errors import ConfigError
    from nlp.train import load_public

    try:
        return {
            language: (label, load_public(name, "val").texts[:per_language])
            for language, (name, label) in PUBLIC_SAMPLES.items()
        }
    except ConfigError:  # the public data lives outside the repository
        return demo_samples(per_language)


def demo_samples(per_language: int) -> dict[str, tuple[str, list[str]]]:
    """The demo's English and Korean posts (by language id), up to `per_language` of each."""
    from bench.pipeline import demo_posts
    from nlp.langid import detect_languages

    texts = [p.text for p in demo_posts()]
    languages = detect_languages(texts)
    return {
        language: (
            "demo posts",
            [t for t, lang in zip(texts, languages, strict=True) if lang == language][:per_language],
        )
        for language in PUBLIC_SAMPLES
    }


def encoder_throughput(
    samples: dict[str, tuple[str, list[str]]], *, batch_size: int = 64, max_length: int = 128
) -> dict[str, Any]:
    """Torch fp32 and ONNX int8 e5 on each language's texts apart (a Korean post and an English
    tweet are not the same number of tokens), with the tokens per post the e5 tokenizer makes."""
    from nlp.encoders.base import DEFAULT_ONNX_DIR, PACKAGED_MODEL
    from nlp.encoders.onnx_int8 import OnnxEncoder, export_onnx, is_exported
    from nlp.encoders.sentence_transformer import SentenceTransformerEncoder

    if not is_exported(DEFAULT_ONNX_DIR):
        export_onnx(DEFAULT_ONNX_DIR)
    onnx = OnnxEncoder(DEFAULT_ONNX_DIR, batch_size=batch_size, max_length=max_length)
    torch = SentenceTransformerEncoder(PACKAGED_MODEL, batch_size=batch_size, max_length=max_length)
    encoders = {"torch_fp32": torch, "onnx_int8": onnx}
    out: dict[str, Any] = {"batch_size": batch_size, "max_length": max_length}
    for language, (source, texts) in samples.items():
        row: dict[str, Any] = {"source": source, "texts": len(texts), "tokens": token_stats(onnx.token_counts(texts))}
        for name, encoder in encoders.items():
            row[name] = encode_rate(encoder, texts, batch_size)
        row["onnx_speedup"] = round(row["onnx_int8"]["posts_per_s"] / row["torch_fp32"]["posts_per_s"], 2)
        out[language] = row
    return out


def token_stats(counts: list[int]) -> dict[str, Any]:
    """Mean and 95th percentile of tokens per post, and the share longer than the default max_length."""
    import numpy as np

    return {
        "mean": round(float(np.mean(counts)), 1),
        "p95": int(np.percentile(counts, 95)),
        "over_128": round(float(np.mean(np.array(counts) > 128)), 4),
    }


def encode_rate(encoder: Any, texts: list[str], batch_size: int) -> dict[str, Any]:
    """Posts per second and per CPU-second of this process (after one untimed warm-up batch)."""
    encoder.encode(texts[:batch_size])
    started, cpu_started = time.perf_counter(), time.process_time()
    for i in range(0, len(texts), batch_size):
        encoder.encode(texts[i : i + batch_size])
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "posts_per_s": round(len(texts) / seconds, 1),
        "posts_per_cpu_s": round(len(texts) / max(cpu_seconds, 1e-9), 1),
        "load_average": load_average(),
    }


DUPLICATE_SHARE = 0.3


def pipeline_throughput(settings: Settings, posts: int) -> dict[str, Any]:
    """`dangol bench pipeline`: analyze end to end against the raw (default) encoder, same run; then
    again with 30 % of the texts repeated (copy-paste waves, retweets), each text encoded once."""
    from bench.pipeline import bench_pipeline
    from nlp.encoders import build_encoder

    with tempfile.TemporaryDirectory(prefix="dangol-bench-") as workdir:
        result = bench_pipeline(settings, posts, Path(workdir)).as_json()
    with tempfile.TemporaryDirectory(prefix="dangol-bench-") as workdir:
        repeated = bench_pipeline(settings, posts, Path(workdir), duplicate_share=DUPLICATE_SHARE).as_json()
    result["with_30pct_duplicates"] = repeated
    result["duplicates_speedup"] = round(repeated["posts_per_s"] / result["posts_per_s"], 2)
    result["encoder"] = build_encoder(settings).version  # type: ignore[attr-defined]
    result["load_average"] = load_average()
    return result


# --- collect and store -----------------------------------------------------------------------


# The platforms replayed, the existing one first: the others' rates are given as a ratio to it.
REPLAY_PLATFORMS = (REPLAY_PLATFORM, "appstore", "googleplay", "youtube")
REPLAY_START = datetime(2026, 11, 1, tzinfo=UTC)
AUTHORS = 997  # distinct authors the cloned records rotate through: authors are upserted, not only inserted


def write_replay_pages(
    folder: Path, pages: int, per_page: int = 40, *, platform: str = REPLAY_PLATFORM, first: int = 0
) -> int:
    """`pages` response bodies of `platform` in its real API shape, each of `per_page` records
    cloned from the demo payloads with every id unique (numbered from `first`: folders for several
    sources take ranges apart); returns the records written (a YouTube thread's embedded replies and
    a Google Play review's answer are posts too, not counted here)."""
    records, body = _DEMO_RECORDS[platform](DEMO_DATA / platform)
    records = [r for r in records if _parses_cleanly(platform, body([r]))]  # the demo's bad records left out
    clone = _CLONERS[platform]
    folder.mkdir(parents=True, exist_ok=True)
    n = first
    for page in range(pages):
        cloned = []
        for _ in range(per_page):
            cloned.append(clone(copy.deepcopy(records[n % len(records)]), n, REPLAY_START + timedelta(seconds=n)))
            n += 1
        (folder / f"page-{page:05d}.json").write_text(json.dumps(body(cloned), ensure_ascii=False))
    return n - first


Body = Callable[[list[dict[str, Any]]], Any]


def _parses_cleanly(platform: str, body: Any) -> bool:
    """The platform's parser takes every record of `body` (the demo holds bad records on purpose)."""
    from listener.base import parser_for

    _posts, dead = parser_for(platform)(json.dumps(body).encode(), **PARSER_OPTIONS.get(platform, {}))
    return not dead


def _pages(folder: Path) -> list[Any]:
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]


def _list_records(folder: Path) -> tuple[list[dict[str, Any]], Body]:
    """Mastodon statuses and Google Play reviews: the body is the list of records itself."""
    records = [r for page in _pages(folder) for r in page if isinstance(r, dict)]
    return records, lambda cloned: cloned


def _appstore_records(folder: Path) -> tuple[list[dict[str, Any]], Body]:
    """Reviews of the customer-reviews feed; each page keeps the feed's app entry and address."""
    feeds = [page["feed"] for page in _pages(folder)]
    reviews = [e for feed in feeds for e in feed["entry"] if isinstance(e, dict) and "im:rating" in e]
    app = [e for e in feeds[0]["entry"] if isinstance(e, dict) and "im:rating" not in e][:1]
    return reviews, lambda cloned: {"feed": {**feeds[0], "entry": app + cloned}}


def _youtube_records(folder: Path) -> tuple[list[dict[str, Any]], Body]:
    """Comment threads of a `commentThreads.list` answer, with the replies they embed."""
    answers = _pages(folder)
    threads = [item for answer in answers for item in answer["items"] if isinstance(item, dict)]
    return threads, lambda cloned: {**answers[0], "items": cloned}


_DEMO_RECORDS: dict[str, Callable[[Path], tuple[list[dict[str, Any]], Body]]] = {
    "mastodon": _list_records,
    "googleplay": _list_records,
    "appstore": _appstore_records,
    "youtube": _youtube_records,
}


def _mastodon_status(status: dict[str, Any], n: int, at: datetime) -> dict[str, Any]:
    status["id"] = str(10**17 + n)
    status["url"] = f"https://bench.example/@u/{status['id']}"
    status["uri"] = status["url"]
    status["created_at"] = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    status["reblog"] = None
    status["in_reply_to_id"] = None
    status["account"]["id"] = str(5 * 10**16 + n % AUTHORS)
    status["account"]["username"] = status["account"]["acct"] = f"bench{n % AUTHORS}"
    return status


def _appstore_review(entry: dict[str, Any], n: int, at: datetime) -> dict[str, Any]:
    entry["id"]["label"] = str(10**10 + n)
    entry["updated"]["label"] = at.isoformat()
    entry["author"]["name"]["label"] = f"bench{n % AUTHORS}"
    entry["author"]["uri"]["label"] = f"https://itunes.apple.com/kr/reviews/id{10**9 + n % AUTHORS}"
    return entry


def _googleplay_review(review: dict[str, Any], n: int, at: datetime) -> dict[str, Any]:
    review["reviewId"] = f"gp:bench{n}"
    review["userName"] = f"bench{n % AUTHORS}"
    review["at"] = at.strftime("%Y-%m-%d %H:%M:%S")
    if review.get("replyContent"):
        review["repliedAt"] = (at + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    return review


def _youtube_thread(thread: dict[str, Any], n: int, at: datetime) -> dict[str, Any]:
    thread["id"] = f"UgBench{n}"
    top = thread["snippet"]["topLevelComment"]
    top["id"] = thread["id"]
    top["snippet"]["publishedAt"] = top["snippet"]["updatedAt"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    top["snippet"]["authorChannelId"] = {"value": f"UCbench{n % AUTHORS}"}
    top["snippet"]["authorDisplayName"] = f"@bench{n % AUTHORS}"
    top["snippet"]["authorChannelUrl"] = f"http://www.youtube.com/@bench{n % AUTHORS}"
    for k, reply in enumerate(thread.get("replies", {}).get("comments", [])):
        reply["id"] = f"{thread['id']}.{k}"
        reply["snippet"]["parentId"] = thread["id"]
        reply["snippet"]["publishedAt"] = reply["snippet"]["updatedAt"] = (at + timedelta(minutes=k + 1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    return thread


_CLONERS: dict[str, Callable[[dict[str, Any], int, datetime], dict[str, Any]]] = {
    "mastodon": _mastodon_status,
    "appstore": _appstore_review,
    "googleplay": _googleplay_review,
    "youtube": _youtube_thread,
}


def replay_settings(
    config: Path | None, url: str, folder: Path | dict[str, Path], platform: str = REPLAY_PLATFORM
) -> Settings:
    """The configured settings with only replay sources of `platform` into `url`: "bench_replay"
    reading `folder`, or one source per name of a {name: folder} mapping."""
    base = load_settings(config)
    sources: dict[str, Any] = {name: {"enabled": False} for name in base.sources}
    folders = folder if isinstance(folder, dict) else {"bench_replay": folder}
    for name, path in folders.items():
        sources[name] = {"use": "replay", "platform": platform, "path": str(path), "query": "",
                         "parser_options": PARSER_OPTIONS.get(platform, {})}  # fmt: skip
    return load_settings(config, overrides={"database": {"url": url}, "sources": sources})


def collect_throughput(config: Path | None, url: str, folder: Path, platform: str = REPLAY_PLATFORM) -> dict[str, Any]:
    """pipeline.collect_source over the `platform` replay pages in `folder` into an empty database at `url`."""
    from dangol.pipeline import collect_source

    settings = replay_settings(config, url, folder, platform)
    engine = make_engine(url)
    upgrade(engine)
    started, cpu_started = time.perf_counter(), time.process_time()
    run = collect_source(settings, engine, "bench_replay")
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    engine.dispose()
    if run.status != "ok":
        raise RuntimeError(f"replay collection failed: {run.error}")
    return {
        "backend": make_url(url).get_backend_name(),
        "platform": platform,
        "pages": run.pages,
        "posts": run.new_posts,
        "seconds": round(seconds, 2),
        "posts_per_s": round(run.new_posts / seconds, 1),
        # This process's CPU alone (the PostgreSQL server's is not in it): throughput without the
        # other tenants of a shared machine, per core.
        "cpu_s": round(cpu_seconds, 2),
        "posts_per_cpu_s": round(run.new_posts / max(cpu_seconds, 1e-9), 1),
        "load_average": load_average(),
    }


def collect_parallel(
    config: Path | None,
    url: str,
    workdir: Path,
    *,
    workers: int,
    pages: int,
    platform: str = REPLAY_PLATFORM,
    threads: bool = False,
) -> dict[str, Any]:
    """`workers` processes, each collecting its own replay source of `pages` pages into the same
    empty database at `url` at once: what a deployment with several sources and workers stores per
    second together. With `threads`, one process collects the sources in as many threads, as one
    worker's scheduler runs its sources' jobs. The sources' authors overlap (the same rotation of
    AUTHORS), as real sources' do, so concurrent pages upsert the same author rows. Checks that
    every post was stored once."""
    folders = {}
    for i in range(workers):
        folder = workdir / f"parallel-{platform}-{workers}-{i}"
        if not folder.exists():
            write_replay_pages(folder, pages, platform=platform, first=i * 10**7)
        folders[f"bench_replay_{i}"] = str(folder)
    fresh_database(url)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    if threads:
        started, runs = time.time(), _collect_in_threads(config, url, folders, platform)
    else:
        started, runs = _collect_in_processes(config, url, folders, platform)
    failed = [run for run in runs if run["status"] != "ok"]
    if failed:
        raise RuntimeError(f"replay collection failed: {failed}")
    seconds = max(run["finished"] for run in runs) - started
    new_posts = sum(run["new_posts"] for run in runs)
    engine = make_engine(url)
    with Session(engine) as session:
        stored = session.exec(select(func.count()).select_from(Post)).one()
    engine.dispose()
    if stored != new_posts:
        raise RuntimeError(f"{new_posts} posts reported new but {stored} stored")
    return {
        "backend": make_url(url).get_backend_name(),
        "platform": platform,
        "workers": workers,
        "how": "threads of one process" if threads else "processes",
        "pages": sum(run["pages"] for run in runs),
        "posts": new_posts,
        "seconds": round(seconds, 2),
        "posts_per_s": round(new_posts / seconds, 1),
        "cpu_s": round(sum(run["cpu_s"] for run in runs), 2),
        "load_average": load_average(),
    }


def _collect_in_threads(config: Path | None, url: str, folders: dict[str, str], platform: str) -> list[dict[str, Any]]:
    """Each source collected by a thread of this process, on one engine, all started at once."""
    import threading

    from dangol.pipeline import collect_source

    settings = replay_settings(config, url, {name: Path(folder) for name, folder in folders.items()}, platform)
    engine = make_engine(url)
    runs: list[dict[str, Any]] = []

    def collect(name: str) -> None:
        cpu_started = time.thread_time()
        run = collect_source(settings, engine, name)
        runs.append(_source_run(run, time.thread_time() - cpu_started))

    workers = [threading.Thread(target=collect, args=(name,)) for name in folders]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    engine.dispose()
    return runs


def _collect_in_processes(
    config: Path | None, url: str, folders: dict[str, str], platform: str
) -> tuple[float, list[dict[str, Any]]]:
    """Each source collected by a process of its own (`collect_child`); (when they started, their runs)."""
    # Separate interpreters, as separate workers are; each says "ready" once it has imported
    # everything and opened its engine, and starts on "go", so the clock covers collecting only.
    job = {"config": str(config) if config else None, "url": url, "folders": folders, "platform": platform}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", "from bench.pieces import collect_child; collect_child()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent,
        )
        for _ in folders
    ]  # fmt: skip
    try:
        for child, name in zip(children, folders, strict=True):
            assert child.stdin is not None and child.stdout is not None
            child.stdin.write(json.dumps({**job, "name": name}) + "\n")
            child.stdin.flush()
            if child.stdout.readline().strip() != "ready":
                raise RuntimeError(f"a collecting process for {name} did not start")
        started = time.time()
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.close()
        runs = []
        for child in children:
            assert child.stdout is not None
            runs.append(json.loads(child.stdout.read()))
            child.wait(timeout=60)
    finally:
        for child in children:
            child.kill() if child.poll() is None else None
    return started, runs


def collect_child() -> None:
    """One worker of `collect_parallel`: reads its job from stdin, says "ready", collects its source
    on "go" and prints what it did as JSON."""
    from dangol.pipeline import collect_source

    job = json.loads(sys.stdin.readline())
    config = Path(job["config"]) if job["config"] else None
    folders = {name: Path(folder) for name, folder in job["folders"].items()}
    settings = replay_settings(config, job["url"], folders, job["platform"])
    engine = make_engine(job["url"])
    print("ready", flush=True)
    sys.stdin.readline()  # "go"
    cpu_started = time.process_time()
    run = collect_source(settings, engine, job["name"])  # each process is its own worker ("host:pid")
    record = _source_run(run, time.process_time() - cpu_started)
    engine.dispose()
    print(json.dumps(record), flush=True)


def _source_run(run: Any, cpu_seconds: float) -> dict[str, Any]:
    """What `collect_parallel` needs of one source's `SourceRun`, with when it finished and its CPU."""
    return {"status": run.status, "error": run.error, "pages": run.pages, "new_posts": run.new_posts,
            "finished": time.time(), "cpu_s": cpu_seconds}  # fmt: skip


# --- large databases: queue pages and the weekly report ---------------------------------------


def fresh_database(url: str) -> str:
    """Make `url` an empty database (delete the SQLite file, or drop and create the PostgreSQL one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return url
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return url


def ensure_database(url: str, posts: int) -> dict[str, Any]:
    """A generated database of `posts` posts at `url`, reused when one of that size is already there."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            reuse = session.exec(select(func.max(Post.id))).one() == posts and session.exec(
                select(func.count()).select_from(Customer)
            ).one() == customers_for(posts)  # generated before customers were: generate again
    except Exception:  # missing file, missing tables, missing database: generate it
        reuse = False
    if reuse:
        added = add_missing_indexes(engine)
        engine.dispose()
        return {"posts": posts, "reused": True, "indexes_added": added}
    engine.dispose()
    engine = make_engine(fresh_database(url))
    upgrade(engine)
    made = generate(engine, posts, progress=sys.stderr.isatty())
    engine.dispose()
    return {**made, "reused": False}


def add_missing_indexes(engine: Engine) -> list[str]:
    """Create the model's indexes (and empty tables) a reused database lacks: it was generated before them."""
    from sqlalchemy import inspect
    from sqlmodel import SQLModel

    inspector = inspect(engine)
    tables = set(inspector.get_table_names())
    added = []
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in tables:  # none of the measured queries reads it: created empty, with its indexes
            table.create(engine)
            added.append(table.name)
            continue
        present = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in present:
                index.create(engine)
                added.append(str(index.name))
    if added:
        analyze_tables(engine)
    return added


def queue_latency(engine: Engine, repeats: int) -> dict[str, Any]:
    """p50/p95 of the queue list's first page, filtered pages, a deep page, the due sort and the count.

    The deep page is the one after the middle of the open queue, reached as the dashboard reaches
    it: by the cursor of the page before it (finding that page, by OFFSET, is not timed).
    """
    from responder.queue import list_queue
    from storage.queue import QueueFilters

    open_items = QueueFilters(status=OPEN)
    filtered = QueueFilters(status=OPEN, team="support", topic="delivery", language="en")
    one_topic = QueueFilters(status=OPEN, topic="delivery")
    count = select(func.count()).select_from(QueueItem).where(col(QueueItem.status).in_(OPEN))
    with Session(engine) as session:
        total = session.exec(count).one()  # exact: the page's own count stops at COUNT_LIMIT
        deep = max(1, total // 25 // 2)  # the middle of the open queue
        before = list_queue(open_items, session=session, page=deep)
        cases = {
            "first_page": lambda: list_queue(open_items, session=session),
            "filtered_page": lambda: list_queue(filtered, session=session, sort="oldest"),
            "topic_page": lambda: list_queue(one_topic, session=session),
            "deep_page": lambda: list_queue(open_items, session=session, page=deep + 1, cursor=before.next),
            "due_page": lambda: list_queue(open_items, session=session, sort="due"),
            "count": lambda: session.exec(count).one(),
        }
        out: dict[str, Any] = {"open_items": total, "deep_page_number": deep + 1}
        for name, call in cases.items():

            def once(call: Callable[[], object] = call) -> None:
                call()
                session.expire_all()  # the next repeat reads its rows again, not the identity map

            out[name] = latency(once, repeats)
    return out


def weekly_time(engine: Engine, settings: Settings, week: str, now: datetime) -> dict[str, Any]:
    """Seconds for build_weekly and write_weekly (HTML + PDF) on `engine`'s database."""
    from reports.weekly import build_weekly, write_weekly

    out_dir = Path(tempfile.mkdtemp(prefix="dangol-bench-weekly-"))
    try:
        with Session(engine) as session:
            started = time.perf_counter()
            report = build_weekly(session=session, settings=settings, week=week, now=now)
            built = time.perf_counter()
            write_weekly(report, out_dir)
            written = time.perf_counter()
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    return {
        "posts_in_week": report.total_posts,
        "build_s": round(built - started, 2),
        "write_s": round(written - built, 2),
        "total_s": round(written - started, 2),
        "load_average": load_average(),
    }


# --- customer scores ---------------------------------------------------------------------------


def score_time(engine: Engine, settings: Settings, now: datetime) -> dict[str, Any]:
    """Seconds for `dangol customers score` (pipeline.score_customers) on `engine`'s database."""
    from dangol.pipeline import score_customers

    started, cpu_started = time.perf_counter(), time.process_time()
    run = score_customers(settings, engine, now=now)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "customers": run.customers,
        "joined": run.joined,
        "seconds": round(seconds, 2),
        "cpu_s": round(cpu_seconds, 2),
        "load_average": load_average(),
    }


# --- worker memory ---------------------------------------------------------------------------


def worker_memory(
    config: Path | None, posts: int, workdir: Path, *, profile: str | None = None, interval: float = 0.05
) -> dict[str, Any]:
    """Peak RSS of a `dangol run`-style process (collect + analyze + route) over `posts` replayed
    posts; `profile` ("default", "fast") overrides the config's `[nlp] profile` in the child."""
    from bench.machine import peak_rss_mib

    pages = workdir / "pages"
    made = write_replay_pages(pages, max(1, posts // 40))
    command = [sys.executable, "-m", "bench.worker", "--pages", str(pages), "--db", str(workdir / "worker.db")]
    if config:
        command += ["--config", str(config)]
    started = time.perf_counter()
    env = {**os.environ, "DANGOL_NLP__PROFILE": profile} if profile else None
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    peak = 0.0
    samples = 0
    while child.poll() is None:
        try:
            rss, hwm = peak_rss_mib(child.pid)
        except (FileNotFoundError, ProcessLookupError):
            break
        peak = max(peak, rss, hwm)
        samples += 1
        time.sleep(interval)
    stdout, _ = child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"worker failed with exit status {child.returncode}")
    reported = json.loads(stdout.strip().splitlines()[-1])
    return {
        "posts": made,
        "seconds": round(time.perf_counter() - started, 1),
        "sampled_peak_rss_mib": round(peak, 1),
        "peak_rss_mib": round(max(peak, reported["peak_rss_mib"]), 1),
        "samples": samples,
        **{k: v for k, v in reported.items() if k != "peak_rss_mib"},
        "profile": profile or "as configured",
        "load_average": load_average(),
    }
