"""The benchmark harness on tiny sizes, so it cannot rot: structure of the results, never timings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from bench import markdown, pieces, run
from bench.generate import generate
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Analysis, ApiToken, Author, Post, QueueItem
from tests.conftest import REPO

CONFIG = REPO / "config.toml"
LATENCY_KEYS = {"p50_ms", "p95_ms", "max_ms", "repeats", "load_average"}


def test_generator_fills_every_table_as_its_docstring_says(database_url: str) -> None:
    # 300 posts, one author per five, every post analyzed; 8 weeks of posts on six platforms ending
    # 2026-11-22; complaints queued now and then (about one post in six), nothing else queued.
    rows = generated_rows(database_url, seed=3)
    posts, analyses, queued = rows["posts"], rows["analyses"], rows["queued"]
    assert (len(posts), rows["authors"]) == (300, 60)
    assert sorted(a[0] for a in analyses) == sorted(p[0] for p in posts)
    assert {p[1] for p in posts} == {"x", "reddit", "mastodon", "bluesky", "rss", "naver"}
    end = datetime(2026, 11, 22, tzinfo=UTC)
    assert all(end - timedelta(weeks=8) <= p[3] <= end for p in posts)
    complaints = {a[0] for a in analyses if a[2] == "negative"}
    assert {q[0] for q in queued} <= complaints
    assert 300 / 12 <= len(queued) <= 300 / 3


def test_generator_makes_linked_customers_with_orders_and_answered_complaints(database_url: str) -> None:
    # One customer per ten posts, each linked to its own author (three in ten to a second one too),
    # and a sent reply for every replied or closed queue item: what customer scoring reads.
    from storage.models import Customer, CustomerOrder, IdentityLink, Reply

    engine = make_engine(database_url)
    upgrade(engine)
    made = generate(engine, 600, seed=3, progress=False)
    with Session(engine) as session:
        customers = session.exec(select(func.count()).select_from(Customer)).one()
        links = session.exec(select(IdentityLink.customer_id, IdentityLink.author_id, IdentityLink.status)).all()
        orders = session.exec(select(func.count()).select_from(CustomerOrder)).one()
        answered = session.exec(select(QueueItem.id).where(col(QueueItem.status).in_(("replied", "closed")))).all()
        replies = session.exec(select(Reply.queue_item_id, Reply.status)).all()
    engine.dispose()
    assert made["customers"] == customers == 60
    assert {c for c, _, _ in links} == set(range(1, 61)) and {s for _, _, s in links} == {"applied"}
    assert 60 < len(links) < 120 and all(a in (c, c + 60) for c, a, _ in links)
    assert orders > 0
    assert sorted(r[0] for r in replies) == sorted(answered) and {r[1] for r in replies} == {"sent"}


def test_score_time_scores_every_generated_customer(database_url: str) -> None:
    from bench.run import NOW
    from dangol.core.settings import load_settings

    engine = make_engine(database_url)
    upgrade(engine)
    generate(engine, 500, progress=False)
    result = pieces.score_time(engine, load_settings(CONFIG), NOW)
    engine.dispose()
    assert result["customers"] == 50 and sum(result["joined"].values()) > 0
    assert {"seconds", "cpu_s", "load_average"} <= set(result)


def test_the_same_seed_gives_the_same_rows_and_another_seed_others(database_url: str, tmp_path: Path) -> None:
    first = generated_rows(database_url, seed=3)
    assert generated_rows(f"sqlite:///{tmp_path}/again.db", seed=3) == first
    assert generated_rows(f"sqlite:///{tmp_path}/other.db", seed=4) != first


def generated_rows(url: str, *, seed: int) -> dict[str, Any]:
    """What `generate(300 posts, seed)` stored: posts, analyses and queue items as plain tuples."""
    engine = make_engine(url)
    upgrade(engine)
    made = generate(engine, 300, seed=seed, progress=False)
    with Session(engine) as session:
        rows = {
            "posts": session.exec(select(Post.id, Post.platform, Post.text, Post.created_at).order_by(Post.id)).all(),
            "analyses": session.exec(
                select(
                    Analysis.post_id, Analysis.language, Analysis.sentiment, Analysis.primary_topic, Analysis.risk
                ).order_by(Analysis.post_id)
            ).all(),
            "queued": session.exec(
                select(QueueItem.post_id, QueueItem.status, QueueItem.team).order_by(QueueItem.post_id)
            ).all(),
            "authors": session.exec(select(func.count()).select_from(Author)).one(),
        }
    engine.dispose()
    assert made["posts"] == 300 and made["authors"] == rows["authors"]
    return {name: [tuple(r) for r in value] if isinstance(value, list) else value for name, value in rows.items()}


def test_generated_postgresql_ids_continue_after_the_loaded_rows(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    generate(engine, 50, progress=False)
    with Session(engine) as session:
        author = Author(platform="x", platform_id="new", handle="new", display_name="New")
        session.add(author)
        session.commit()
        assert author.id == 11
    engine.dispose()


def test_queue_latency_times_every_query_of_the_queue_page(database_url: str) -> None:
    engine = make_engine(database_url)
    generate(engine, 400, progress=False)
    result = pieces.queue_latency(engine, repeats=3)
    engine.dispose()
    assert result["open_items"] > 0
    for query in markdown.QUEUE_CASES:
        assert set(result[query]) == LATENCY_KEYS
        assert result[query]["repeats"] == 3


def test_existing_database_of_the_right_size_is_reused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bench.db"
    assert pieces.ensure_database(url, 120)["reused"] is False
    assert pieces.ensure_database(url, 120)["reused"] is True
    assert pieces.ensure_database(url, 130)["reused"] is False


def test_a_reused_database_gets_the_tables_added_since_it_was_generated(tmp_path: Path) -> None:
    from sqlalchemy import inspect, text

    url = f"sqlite:///{tmp_path}/bench.db"
    pieces.ensure_database(url, 60)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alert"))
    reused = pieces.ensure_database(url, 60)
    assert reused["reused"] is True and "alert" in reused["indexes_added"]
    assert "alert" in inspect(engine).get_table_names()
    engine.dispose()


def test_replay_pages_are_collected_and_stored_once_each(database_url: str, tmp_path: Path) -> None:
    made = pieces.write_replay_pages(tmp_path / "pages", pages=3, per_page=7)
    result = pieces.collect_throughput(CONFIG, database_url, tmp_path / "pages")
    assert made == 21
    assert result["pages"] == 3 and result["posts"] == 21
    assert result["posts_per_s"] > 0 and result["posts_per_cpu_s"] > 0


@pytest.mark.parametrize("platform", ["appstore", "googleplay", "youtube"])
def test_store_and_youtube_replay_pages_go_through_their_own_parser_and_store(
    platform: str, database_url: str, tmp_path: Path
) -> None:
    # Every cloned record is a new post of that platform (a YouTube thread's embedded replies and a
    # Google Play review's answer are posts too).
    made = pieces.write_replay_pages(tmp_path / "pages", pages=3, per_page=7, platform=platform)
    result = pieces.collect_throughput(CONFIG, database_url, tmp_path / "pages", platform)
    assert made == 21 and result["platform"] == platform
    assert result["pages"] == 3 and result["posts"] >= 21
    engine = make_engine(database_url)
    with Session(engine) as session:
        stored = session.exec(select(Post.platform, func.count()).group_by(Post.platform)).all()
    engine.dispose()
    assert [tuple(row) for row in stored] == [(platform, result["posts"])]


@pytest.mark.parametrize("threads", [False, True], ids=["processes", "threads"])
def test_parallel_workers_store_every_post_of_their_own_sources_once(
    threads: bool, database_url: str, tmp_path: Path
) -> None:
    # Three sources at once (worker processes, or threads of one worker), their authors overlapping:
    # every post is stored once, and the rate is counted over all of them.
    result = pieces.collect_parallel(CONFIG, database_url, tmp_path, workers=3, pages=2, threads=threads)
    assert result["workers"] == 3 and result["pages"] == 6 and result["posts"] == 3 * 2 * 40
    assert result["how"] == ("threads of one process" if threads else "processes")
    assert result["posts_per_s"] > 0 and result["cpu_s"] > 0
    engine = make_engine(database_url)
    with Session(engine) as session:
        per_source = session.exec(select(Post.source_id, func.count()).group_by(Post.source_id)).all()
    engine.dispose()
    assert sorted(count for _source, count in per_source) == [80, 80, 80]


def test_collect_piece_reports_every_platform_and_its_ratio_to_mastodon() -> None:
    args = run.parse_args(["--only", "collect", "--markdown", ""])
    args.postgres, args.collect_pages, args.collect_rounds = None, 2, 3
    result = run._collect(args)
    assert list(result) == ["sqlite"] and list(result["sqlite"]) == list(pieces.REPLAY_PLATFORMS)
    assert result["sqlite"]["mastodon"]["ratio_to_mastodon"] == 1.0
    for platform, rate in result["sqlite"].items():
        assert rate["platform"] == platform and rate["pages"] == 2 and rate["ratio_to_mastodon"] > 0
        # The median of three runs is the one reported, the others beside it.
        runs = rate["runs_posts_per_s"]
        assert len(runs) == 3 and runs == sorted(runs) and rate["posts_per_s"] == runs[1]


def test_median_run_is_the_middle_one_of_odd_and_the_lower_middle_of_even_counts() -> None:
    runs = [{"posts_per_s": rate, "seconds": 1 / rate} for rate in (300.0, 100.0, 200.0)]
    assert run._median_run(runs)["posts_per_s"] == 200.0
    assert run._median_run(runs)["runs_posts_per_s"] == [100.0, 200.0, 300.0]
    assert run._median_run([*runs, {"posts_per_s": 400.0}])["posts_per_s"] == 200.0
    assert run._median_run(runs[:1])["runs_posts_per_s"] == [300.0]


def test_weekly_time_reports_build_and_write_seconds(tmp_path: Path) -> None:
    from bench.run import NOW, WEEK
    from dangol.core.settings import load_settings

    engine = make_engine(f"sqlite:///{tmp_path}/weekly.db")
    upgrade(engine)
    generate(engine, 500, progress=False)
    result = pieces.weekly_time(engine, load_settings(CONFIG), WEEK, NOW)
    engine.dispose()
    assert result["posts_in_week"] > 0
    assert {"build_s", "write_s", "total_s", "load_average"} <= set(result)


def test_report_jobs_timing_reports_each_step_of_the_report_jobs(tmp_path: Path) -> None:
    from bench.report_jobs import measure
    from bench.run import NOW, WEEK

    url = f"sqlite:///{tmp_path}/reports.db"
    engine = make_engine(url)
    upgrade(engine)
    generate(engine, 500, progress=False)
    engine.dispose()
    result = measure(url, WEEK, NOW, str(CONFIG))
    steps = ("build_weekly_s", "write_weekly_s", "detect_spikes_48h_s", "write_feeds_s")
    assert set(result) == {"url", "week", "posts_in_week", "alerts", *steps}
    assert result["url"] == url and result["week"] == WEEK and result["posts_in_week"] > 0
    assert all(isinstance(result[step], float) and result[step] >= 0 for step in steps)  # rounded to 0.01 s


def test_markdown_update_rewrites_only_the_generated_blocks(tmp_path: Path) -> None:
    document = tmp_path / "BENCHMARKS.md"
    document.write_text("## Reports\n\nkept\n\n<!-- bench:storage -->\nold\n<!-- /bench:storage -->\nprose\n")
    results = {
        "machine": {"date": "d", "nproc": 2, "cpu": "c", "ram_gib": 1, "python": "3.11", "load_average": 1},
        "command": "python -m bench.run",
        "collect": {"sqlite": {"youtube": {"pages": 1, "posts": 2, "seconds": 1, "posts_per_s": 2,
                                           "ratio_to_mastodon": 1.5, "load_average": 1}}},
        "collect_parallel": {"postgresql": [{"workers": 2, "pages": 4, "posts": 160, "seconds": 0.1,
                                             "posts_per_s": 1600.0, "cpu_s": 0.2, "load_average": 1}]},
        "score": {"sqlite/300": {"customers": 30, "seconds": 0.5, "cpu_s": 0.4, "load_average": 1}},
    }  # fmt: skip
    markdown.update(document, results)
    text = document.read_text()
    assert "kept" in text and "prose" in text and "old" not in text
    assert "| sqlite | youtube | 1 | 2 | 1 | 2 |  | 0 | 1.5 | 1 |" in text
    results["collect"]["sqlite"]["youtube"]["runs_posts_per_s"] = [1.5, 2, 2500.5]
    markdown.update(document, results)
    assert "| sqlite | youtube | 1 | 2 | 1 | 2 | 1.5–2,500.5 (3 runs) | 0 | 1.5 | 1 |" in document.read_text()
    assert "| postgresql | 2 | processes | 4 | 160 | 0.1 | 1,600.0 | 0.2 | 1 |" in text
    assert "| sqlite/300 | 30 | 0.5 | 0.4 | 1 |" in text
    assert text.count("<!-- bench:machine -->") == 1


def test_encoder_samples_hold_english_and_korean_texts_apart() -> None:
    # The public validation sets when present, else the demo's posts of each language.
    for samples in (pieces.language_samples(5), pieces.demo_samples(5)):
        assert list(samples) == ["en", "ko"]
        assert all(len(texts) == 5 for _source, texts in samples.values())
    korean = pieces.demo_samples(5)["ko"][1]
    assert all(any("\uac00" <= ch <= "\ud7a3" for ch in text) for text in korean)


def test_encoder_table_has_a_row_per_language_with_its_tokens(tmp_path: Path) -> None:
    rate = {"posts_per_s": 100.0, "posts_per_cpu_s": 60.0, "load_average": 1}
    row = {"texts": 8, "tokens": {"mean": 30.5, "p95": 61, "over_128": 0.0}, "torch_fp32": rate,
           "onnx_int8": rate, "onnx_speedup": 1.0}  # fmt: skip
    encoder = {"batch_size": 64, "en": {"source": "TweetEval val", **row}, "ko": {"source": "NSMC val", **row}}
    table = markdown.encoder(encoder)
    assert "| English (TweetEval val) | 8 | 30.5 | 61 | 100.0 | 100.0 | 60.0 | 1.0× | 1 |" in table
    assert "| Korean (NSMC val) |" in table


@pytest.mark.slow
def test_quick_run_writes_every_piece_to_json_and_markdown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "RESULTS", tmp_path / "results")
    args = run.parse_args(["--quick", "--sizes", "300", "--var", str(tmp_path), "--markdown", str(tmp_path / "B.md")])
    args.postgres = None
    args.posts, args.collect_pages, args.repeats, args.memory_posts = 64, 2, 2, 80
    run.run(args, lambda _line: None)
    results = json.loads((tmp_path / "results" / "quick.json").read_text())
    assert set(run.PIECES) <= set(results)
    for language in ("en", "ko"):
        assert {"source", "texts", "tokens", "torch_fp32", "onnx_int8", "onnx_speedup"} <= set(
            results["encoder"][language]
        )
        assert {"posts_per_s", "posts_per_cpu_s", "load_average"} == set(results["encoder"][language]["onnx_int8"])
    assert "tokens p95" in (tmp_path / "B.md").read_text()
    assert {"posts_per_s", "encoder_posts_per_s", "ratio", "encoder"} <= set(results["pipeline"])
    # The raw encoder timed before and after `analyze`; the ratio reads their mean.
    before, after = results["pipeline"]["encoder_before_after"]
    mean = 64 / ((64 / before + 64 / after) / 2)
    assert before > 0 and after > 0 and abs(results["pipeline"]["encoder_posts_per_s"] - mean) <= 0.1
    assert f"mean of {before:,} before and {after:,} after `analyze`" in (tmp_path / "B.md").read_text()
    assert results["pipeline"]["with_30pct_duplicates"]["posts"] == 64 and results["pipeline"]["duplicates_speedup"] > 0
    assert "30 % of the texts repeated" in (tmp_path / "B.md").read_text()
    # The fast profile beside the configured one, in the same run and the same table.
    assert results["pipeline_fast"]["encoder"].startswith("static:") and results["pipeline_fast"]["posts"] == 64
    assert "fast profile: `analyze` end to end" in (tmp_path / "B.md").read_text()
    assert results["queue"]["sqlite/300"]["first_page"]["repeats"] == 2
    assert results["weekly"]["sqlite/300"]["total_s"] > 0
    assert results["score"]["sqlite/300"]["customers"] == 30
    assert list(results["collect"]["sqlite"]) == list(pieces.REPLAY_PLATFORMS)
    runs = results["collect_parallel"]["sqlite"]
    assert [(r["workers"], r["how"] != "processes") for r in runs] == list(run.PARALLEL_RUNS)
    assert results["memory"]["analyzed"] == 80 and results["memory"]["peak_rss_mib"] > 0
    assert results["memory"]["profile"] == "default" and results["memory_fast"]["profile"] == "fast"
    assert results["memory_fast"]["analyzed"] == 80
    assert "<!-- bench:queue -->" in (tmp_path / "B.md").read_text()


def test_http_api_bench_times_reads_through_a_served_api_with_a_real_token(tmp_path: Path) -> None:
    from bench import http_api

    url = f"sqlite:///{tmp_path}/api.db"
    pieces.ensure_database(url, 300)
    argv = ["--url", url, "--requests", "3", "--clients", "2", "--seconds", "0.5", "--workers", "1", "2"]
    result = http_api.measure(url, CONFIG, http_api.parse_args(argv), tmp_path)
    assert result["open_items"] > 0
    for served in ("workers=1", "workers=2"):  # `dangol api --workers 2` serves too
        for path in ("queue_page", "item", "me"):
            latency = result[served]["latency"][path]
            assert set(latency) == LATENCY_KEYS and latency["repeats"] == 3
        for run_ in result[served]["throughput"].values():
            assert run_["clients"] == 2 and run_["requests"] > 0 and run_["per_s"] > 0
            assert run_["server_cpu_ms_per_request"] > 0
    engine = make_engine(url)
    with Session(engine) as session:  # the bench's token does not outlive the run
        assert all(t.revoked_at is not None for t in session.exec(select(ApiToken)).all())
    engine.dispose()


@pytest.mark.browser
def test_browser_bench_times_the_queue_page_and_items_in_chromium(tmp_path: Path) -> None:
    from bench import browser

    url = f"sqlite:///{tmp_path}/browser.db"
    pieces.ensure_database(url, 300)
    result = browser.measure(url, CONFIG, 2, tmp_path)
    assert result["open_items"] > 0
    for timing in ("queue_first_row", "queue_complete", "item_content", "item_complete"):
        assert set(result[timing]) == LATENCY_KEYS and result[timing]["repeats"] == 2
    # A page's run ends after what is waited for in it is drawn.
    assert result["queue_complete"]["p50_ms"] >= result["queue_first_row"]["p50_ms"]
    assert result["item_complete"]["p50_ms"] >= result["item_content"]["p50_ms"]


def test_the_bench_finds_a_postgresql_server_that_answers_and_none_where_nothing_listens(postgres_server: str) -> None:
    # `make bench` measures both backends without a variable set when the local server is up.
    url = make_url(postgres_server).set(drivername="postgresql").render_as_string(hide_password=False)
    assert run.local_postgres(url) == url
    assert run.local_postgres("postgresql://postgres@127.0.0.1:1/postgres") is None
