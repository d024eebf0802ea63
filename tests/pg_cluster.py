"""A throwaway PostgreSQL cluster for one test session: initdb in a temporary folder, a free port
on 127.0.0.1, trust authentication, stopped and removed at the end.

Used when DANGOL_TEST_POSTGRES_URL is not set, so `make test` on a fresh machine runs every
PostgreSQL case (the Makefile installs Debian's `postgresql` package when initdb is missing).
PostgreSQL refuses to run as root: as root, the cluster runs as the `postgres` system user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.loopback import free_port

START_TIMEOUT_S = 60


def find_binary(name: str) -> str:
    """`name` from PATH or Debian's /usr/lib/postgresql/<version>/bin (newest first)."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name, reverse=True):
        if (folder / name).is_file():
            return str(folder / name)
    raise RuntimeError(
        f"{name} not found: install PostgreSQL (Debian: apt-get install postgresql; `make test` does it) "
        "or set DANGOL_TEST_POSTGRES_URL to a server"
    )


def _as_owner(argv: list[str]) -> list[str]:
    """Run as the `postgres` user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Start a cluster in a new temporary folder and yield its URL; stop and remove it afterwards.

    Its own folder under the system temp dir: pytest's are private to root, where `postgres` cannot go."""
    folder = Path(tempfile.mkdtemp(prefix="dangol-test-pg-"))
    try:
        with _running(folder) as url:
            yield url
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _running(folder: Path) -> Iterator[str]:
    data, sockets = folder / "data", folder / "sock"
    sockets.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for path in (folder, sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    subprocess.run(
        _as_owner([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]),
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(
        _as_owner([pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"]),
        check=True,
        capture_output=True,
        timeout=START_TIMEOUT_S,
    )
    try:
        _wait_ready(port)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_owner([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]), capture_output=True, timeout=60)


def _wait_ready(port: int) -> None:
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
