"""The generated tables of BENCHMARKS.md, between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`.

Only the text between the markers is rewritten, so prose written around them (and the
sections other people own) stays as it is. A marker pair that is missing is appended.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine(results: dict[str, Any]) -> str:
    """The machine and command line of the run."""
    m = results["machine"]
    return (
        f"{m['date']}: `nproc` {m['nproc']}, {m['cpu']}, {m['ram_gib']} GiB RAM, Python {m['python']}; "
        f"load average {m['load_average']} at the start (shared machine).\n\n    {results['command']}"
    )


LANGUAGES = {"en": "English", "ko": "Korean"}


def pipeline(results: dict[str, Any]) -> str:
    """Encoder and analyze throughput, the configured profile and the fast one (same run)."""
    rows = []
    for key, profile in (("pipeline", ""), ("pipeline_fast", "fast profile: ")):
        if p := results.get(key):
            rows += _pipeline_rows(p, profile)
    out = _table(["what", "posts/s", "ratio to encoder", "load avg"], rows)
    if enc := results.get("encoder"):
        cut = enc.get("max_length", 128)  # runs before it was recorded used 128
        out += f"\n\nThe raw encoder (e5, max_length {cut}) per language, same texts for torch and ONNX:\n\n"
        out += encoder(enc)
    return out


def _pipeline_rows(p: dict[str, Any], profile: str) -> list[list[Any]]:
    # Runs before 2026-12-06 18:30 UTC timed the raw encoder once, before `analyze`.
    before_after = p.get("encoder_before_after")
    timed = f"; mean of {before_after[0]:,} before and {before_after[1]:,} after `analyze`" if before_after else ""
    rows = [
        [f"{profile}raw encoder in the same run ({p['encoder']}{timed})", f"{p['encoder_posts_per_s']:,}", "", ""],
        [f"{profile}`analyze` end to end, {p['posts']} posts", f"{p['posts_per_s']:,}", p["ratio"], p["load_average"]],
    ]
    if d := p.get("with_30pct_duplicates"):
        rows.append(
            [f"{profile}`analyze`, 30 % of the texts repeated ({p['duplicates_speedup']}× the rate above)",
             f"{d['posts_per_s']:,}", d["ratio"], p["load_average"]]
        )  # fmt: skip
    return rows


def encoder(enc: dict[str, Any]) -> str:
    """Raw encoder posts/s and tokens per post, one row per language."""
    rows = [
        [f"{LANGUAGES[language]} ({r['source']})", f"{r['texts']:,}", r["tokens"]["mean"],
         r["tokens"]["p95"], f"{r['torch_fp32']['posts_per_s']:,}", f"{r['onnx_int8']['posts_per_s']:,}",
         f"{r['onnx_int8']['posts_per_cpu_s']:,}", f"{r['onnx_speedup']}×", r["onnx_int8"]["load_average"]]
        for language, r in enc.items()
        if language in LANGUAGES
    ]  # fmt: skip
    header = ["texts", "n", "tokens mean", "tokens p95", "torch fp32 posts/s", "ONNX int8 posts/s",
              "ONNX int8 posts per CPU-second", "ONNX speed-up", "load avg"]  # fmt: skip
    return _table(header, rows)


def storage(results: dict[str, Any]) -> str:
    """Collect-and-store throughput from replay, per backend and replayed platform."""
    rows = [
        [backend, platform, r["pages"], f"{r['posts']:,}", r["seconds"], f"{r['posts_per_s']:,}",
         _spread(r.get("runs_posts_per_s", [])), f"{r.get('posts_per_cpu_s', 0):,}", r.get("ratio_to_mastodon", ""),
         r["load_average"]]
        for backend, rates in results.get("collect", {}).items()
        for platform, r in rates.items()
    ]  # fmt: skip
    header = ["backend", "source", "pages", "posts", "seconds", "posts/s (median run)", "all runs, posts/s",
              "posts per CPU-second", "ratio to mastodon"]  # fmt: skip
    out = _table([*header, "load avg"], rows)
    parallel = [
        [backend, r["workers"], r.get("how", "processes"), r["pages"], f"{r['posts']:,}", r["seconds"],
         f"{r['posts_per_s']:,}", r["cpu_s"], r["load_average"]]
        for backend, runs in results.get("collect_parallel", {}).items()
        for r in runs
    ]  # fmt: skip
    if parallel:
        header = ["backend", "sources at once", "collected by", "pages", "posts", "seconds", "posts/s together",
                  "CPU s", "load avg"]  # fmt: skip
        out += "\n\nSeveral sources at once, a Mastodon source each, into one database:\n\n" + _table(header, parallel)
    return out


def _spread(values: list[float]) -> str:
    """The lowest and highest of several runs' figures, "a–b (n runs)"; "" for one run or none."""
    if len(values) < 2:
        return ""
    return f"{min(values):,}–{max(values):,} ({len(values)} runs)"


def _backend_and_size(item: tuple[str, Any]) -> tuple[str, int]:
    backend, size = item[0].split("/")
    return backend, int(size)


# The queue piece's cases and their column titles, in table order.
QUEUE_CASES = {
    "first_page": "first page",
    "filtered_page": "filtered page",
    "topic_page": "one topic",
    "deep_page": "deep page",
    "due_page": "by due time",
    "count": "count",
}


def queue(results: dict[str, Any]) -> str:
    """Queue page latencies per backend and size, and the weekly report."""
    rows = []
    for key, r in sorted(results.get("queue", {}).items(), key=_backend_and_size):
        backend, size = key.split("/")
        cells = [f"{r[c]['p50_ms']} / {r[c]['p95_ms']}" if c in r else "" for c in QUEUE_CASES]
        rows.append([backend, f"{int(size):,}", f"{r['open_items']:,}", *cells, r["count"]["load_average"]])
    out = _table(["backend", "posts", "open items", *QUEUE_CASES.values(), "load avg"], rows)
    weekly = [
        [key, f"{r['posts_in_week']:,}", r["build_s"], r["write_s"], r["total_s"], r["load_average"]]
        for key, r in results.get("weekly", {}).items()
    ]
    if weekly:
        header = ["database", "posts in week", "build_weekly s", "write_weekly s", "total s", "load avg"]
        out += "\n\nWeekly report (`build_weekly` + `write_weekly`):\n\n" + _table(header, weekly)
    return out


def score(results: dict[str, Any]) -> str:
    """`dangol customers score` on the largest generated databases."""
    rows = [
        [key, f"{r['customers']:,}", r["seconds"], r["cpu_s"], r["load_average"]]
        for key, r in sorted(results.get("score", {}).items(), key=_backend_and_size)
    ]
    return _table(["database", "customers", "seconds", "CPU seconds (this process)", "load avg"], rows)


def memory(results: dict[str, Any]) -> str:
    """Worker peak RSS, the configured profile and the fast one."""
    runs = [m for m in (results.get("memory"), results.get("memory_fast")) if m]
    if not runs:
        return "(not run)"
    rows = [[m.get("profile", ""), f"{m['posts']:,}", m["collected"], m["analyzed"], m["queued"], m["seconds"],
             m["peak_rss_mib"], m["load_average"]] for m in runs]  # fmt: skip
    header = ["profile", "posts replayed", "collected", "analyzed", "queued", "seconds", "peak RSS MiB", "load avg"]
    return _table(header, rows)


RENDERERS = {
    "machine": machine,
    "pipeline": pipeline,
    "storage": storage,
    "queue": queue,
    "score": score,
    "memory": memory,
}


def update(path: Path, results: dict[str, Any]) -> None:
    """Rewrite every generated block of `path` from `results`."""
    document = path.read_text() if path.exists() else ""
    for name, render in RENDERERS.items():
        block = f"<!-- bench:{name} -->\n{render(results)}\n<!-- /bench:{name} -->"
        pattern = re.compile(rf"<!-- bench:{name} -->.*?<!-- /bench:{name} -->", re.S)
        if pattern.search(document):
            document = pattern.sub(lambda _m, block=block: block, document)  # type: ignore[misc]
        else:
            document = document.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(document)
