"""The real servers for the end-to-end timings (`bench.browser`, `bench.http_api`): a staff login on
a benchmark database, and `dangol dashboard` / `dangol api` started against it on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import func
from sqlmodel import Session, col, select

from responder.statuses import OPEN_STATUSES
from storage.engine import make_engine, session_scope
from storage.models import QueueItem

REPO = Path(__file__).resolve().parents[1]
USERNAME = "bench-agent"
PASSWORD = "bench-agent-password"  # a throwaway account on a generated database, never a real one
# `dangol api` counts requests per token in-process; the throughput run sends far more than a person
# would, so its token gets a limit it never reaches (the counting itself still runs on every request).
UNLIMITED_PER_MINUTE = 10**9


@dataclass(frozen=True)
class BenchDatabase:
    url: str
    staff_id: int
    open_items: int


def prepare(url: str) -> BenchDatabase:
    """The agent the benchmarks log in as (created once, as `dangol staff add` does), and a check
    that the queue page will have rows to show."""
    from responder.accounts.staff import create_staff
    from storage.staff import staff_by_username

    engine = make_engine(url)
    with session_scope(engine) as session:
        staff = staff_by_username(session=session, username=USERNAME)
        if staff is None:
            staff = create_staff(session=session, username=USERNAME, password=PASSWORD, role="agent",
                                 team="support", languages=["en", "ko"])  # fmt: skip
        staff_id = staff.id or 0
    with Session(engine) as session:
        open_items = session.exec(
            select(func.count()).select_from(QueueItem).where(col(QueueItem.status).in_(OPEN_STATUSES))
        ).one()
    engine.dispose()
    if open_items == 0:
        raise RuntimeError(f"no open queue items in {url}: the queue page would be empty")
    return BenchDatabase(url, staff_id, open_items)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dangol_command(config: Path, *args: str) -> list[str]:
    """`dangol --config CONFIG ARGS…` as this interpreter runs it (the checkout's code, not an install)."""
    return [sys.executable, "-m", "dangol", "--config", str(config), *args]


@dataclass(frozen=True)
class Served:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time the server has used so far, its worker processes included."""
        return process_tree_cpu_seconds(self.pid)


def process_tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process and its live descendants, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return own + sum(process_tree_cpu_seconds(child) for child in children)


@contextmanager
def serving(command: list[str], url: str, ready_path: str, env: dict[str, str], log: Path) -> Iterator[Served]:
    """Run `command` (a server) until the block ends; yields it once GET `url` + `ready_path` answers 200."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_until_ready(url + ready_path, process, log)
            yield Served(url, process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)


def _wait_until_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}; see {log}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s; see {log}")
