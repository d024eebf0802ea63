"""The HTTP API under load (issue #18: p95 < 50 ms for a queue page at 1M posts; 200 reads/s).

    python -m bench.http_api --url postgresql://postgres@127.0.0.1:5432/bench_1000000 --posts 1000000

The database is generated when it is not there yet (`bench.pieces.ensure_database`), an agent is
added (`bench.served.prepare`) with a personal token (`create_token`, as `dangol api token
create` makes it; revoked at the end), and `dangol api` serves it on a free port, as configured
except the per-token rate limit (raised out of reach: one token sends the whole load here).

Each count of `--workers` is served and measured in turn, in the same run.
- latency: one client, one request at a time over a kept-alive connection, after a warm-up:
  the first page of open items (`GET /api/v1/queue`), one item, and `/me` (authentication alone);
- throughput: `--clients` threads, each with its own connection, sending requests back to back for
  `--seconds`: the queue page alone, then a mix of the three reads. The client runs on the same
  machine, so its CPU is taken from the server's: the figure is a lower bound.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench import pieces
from bench.browser import items_to_open
from bench.machine import describe, load_average
from bench.served import UNLIMITED_PER_MINUTE, Served, dangol_command, free_port, prepare, serving
from bench.timing import summarize_ms
from responder.statuses import OPEN_STATUSES
from storage.engine import make_engine, session_scope
from storage.models import Staff

RESULTS = Path(__file__).parent / "results"
QUEUE_PAGE = "/api/v1/queue?status=" + ",".join(OPEN_STATUSES)


@contextmanager
def personal_token(url: str, staff_id: int) -> Iterator[str]:
    """A token for the staff member, as `dangol api token create` makes one; revoked afterwards."""
    from responder.accounts.api_tokens import create_token, revoke_token

    engine = make_engine(url)
    with session_scope(engine) as session:
        owner = session.get(Staff, staff_id)
        assert owner is not None
        row, token = create_token(session=session, actor=None, owner=owner, name="bench.http_api")
        token_id = row.id or 0
    try:
        yield token
    finally:
        with session_scope(engine) as session:
            revoke_token(session=session, actor=None, token_id=token_id)
        engine.dispose()


def timed_get(client: httpx.Client, path: str) -> float:
    """Milliseconds for one GET; any answer but 200 stops the benchmark (a refusal is not a read)."""
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:200]}")
    return elapsed


def client(base: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def sequential(base: str, token: str, paths: dict[str, str], requests: int, warmup: int = 10) -> dict[str, Any]:
    """p50/p95 of each path, one request at a time, after `warmup` unmeasured requests of it."""
    out = {}
    with client(base, token) as http:
        for name, path in paths.items():
            for _ in range(warmup):
                timed_get(http, path)
            out[name] = summarize_ms([timed_get(http, path) for _ in range(requests)])
    return out


def concurrent(served: Served, token: str, paths: list[str], clients: int, seconds: float) -> dict[str, Any]:
    """Requests per second with `clients` threads sending `paths` in turn, back to back, for `seconds`,
    and the CPU per request of the server and of these clients (figures the shared machine's other
    tenants inflate far less than the rate; PostgreSQL's own CPU is in neither)."""
    base = served.url
    samples: list[list[float]] = [[] for _ in range(clients)]
    failures: list[BaseException] = []
    deadline = time.perf_counter() + seconds

    def work(mine: list[float], offset: int) -> None:
        try:
            with client(base, token) as http:
                n = offset
                while time.perf_counter() < deadline:
                    mine.append(timed_get(http, paths[n % len(paths)]))
                    n += 1
        except BaseException as exc:  # reported after the run: a thread's error would otherwise vanish
            failures.append(exc)

    started, cpu_started, client_started = time.perf_counter(), served.cpu_seconds(), time.process_time()
    threads = [threading.Thread(target=work, args=(samples[i], i)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, cpu = time.perf_counter() - started, served.cpu_seconds() - cpu_started
    client_cpu = time.process_time() - client_started
    if failures:
        raise RuntimeError(f"{len(failures)} client(s) failed: {failures[0]!r}")
    flat = [s for mine in samples for s in mine]
    return {"clients": clients, "seconds": round(elapsed, 1), "requests": len(flat),
            "per_s": round(len(flat) / elapsed, 1), "server_cpu_ms_per_request": round(cpu * 1000 / len(flat), 2),
            "client_cpu_ms_per_request": round(client_cpu * 1000 / len(flat), 2),
            **summarize_ms(flat)}  # fmt: skip


def measure(url: str, config: Path, args: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    """Serve `url` with `dangol api` once per worker count in `args.workers` and time its reads;
    the database must hold open items."""
    database = prepare(url)
    [(item_id, _)] = items_to_open(url, 1)
    paths = {"queue_page": QUEUE_PAGE, "item": f"/api/v1/items/{item_id}", "me": "/api/v1/me"}
    env = {"DANGOL_DATABASE_URL": url, "DANGOL_API__RATE_LIMIT_PER_MINUTE": str(UNLIMITED_PER_MINUTE)}
    out: dict[str, Any] = {"open_items": database.open_items}
    with personal_token(url, database.staff_id) as token:
        for workers in args.workers:
            port = free_port()
            command = dangol_command(
                config, "api", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)
            )
            with serving(command, f"http://127.0.0.1:{port}", "/openapi.json", env, log_dir / "api.log") as served:
                out[f"workers={workers}"] = {
                    "latency": sequential(served.url, token, paths, args.requests),
                    "throughput": {
                        "queue_page": concurrent(served, token, [QUEUE_PAGE], args.clients, args.seconds),
                        "mixed_reads": concurrent(served, token, list(paths.values()), args.clients, args.seconds),
                    },
                }
    return out


def profile_queue_page(url: str, config: Path, requests: int, profiler: Any) -> dict[str, Any]:
    """The API's queue page `requests` times under `profiler`, in this thread: the bearer check and
    the endpoint called as FastAPI calls them (uvicorn would run them in its thread pool, out of
    the profiler's sight), after ten unprofiled."""
    from fastapi.security import HTTPAuthorizationCredentials

    from dangol.api import create_app
    from dangol.api.context import caller_id
    from dangol.api.reads import queue
    from dangol.core.settings import load_settings

    database = prepare(url)
    limit = {"rate_limit_per_minute": UNLIMITED_PER_MINUTE}
    settings = load_settings(config, overrides={"database": {"url": url}, "api": limit})
    ctx = create_app(settings).state.api
    filters: dict[str, Any] = dict.fromkeys(("team", "topic", "assignee", "priority", "platform", "sentiment",
                                             "language", "tag", "customer_id", "segment", "sla", "q"))  # fmt: skip
    with personal_token(url, database.staff_id) as token:
        credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)

        def page() -> None:
            staff_id = caller_id(ctx, credentials)
            queue(ctx, staff_id, status=",".join(OPEN_STATUSES), sort="priority", page=1, limit=25, **filters)

        for _ in range(10):
            page()
        started, cpu_started = time.perf_counter(), time.process_time()
        with profiler:
            for _ in range(requests):
                page()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {"requests": requests, "ms_per_request": round(elapsed * 1000 / requests, 2),
            "cpu_ms_per_request": round(cpu * 1000 / requests, 2), "load_average": load_average()}  # fmt: skip


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the database (generated there when it is not the right size)")
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="measured sequential requests per path")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients for the throughput runs")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each throughput run")
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2],
                        help="`dangol api --workers` counts to measure, one after the other")  # fmt: skip
    parser.add_argument("--config", type=Path, default=Path("config.toml"))
    parser.add_argument("--name", default="http_api", help="results file: bench/results/<name>.json")
    parser.add_argument("--logs", type=Path, default=Path("var/bench"), help="where the server's log goes")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    result: dict[str, Any] = {"machine": describe(), "command": "python -m bench.http_api " + shlex.join(argv)}
    result["database"] = pieces.ensure_database(args.url, args.posts)
    args.logs.mkdir(parents=True, exist_ok=True)
    result.update(measure(args.url, args.config, args, args.logs))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
