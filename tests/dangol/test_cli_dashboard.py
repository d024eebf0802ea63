"""`dangol dashboard` serves Streamlit in its own process, so a signal sent to it stops the server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.loopback import free_port, wait_until_healthy


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_dashboard_command_stops_the_streamlit_server(tmp_path: Path, sig: signal.Signals) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[database]\nurl = 'sqlite:///{tmp_path}/d.db'\n")
    port = free_port()
    env = dict(os.environ, DANGOL_CONFIG=str(config))
    env.pop("DANGOL_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "dangol.cli", "dashboard", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Its own session: a non-interactive shell's background jobs would ignore SIGINT otherwise.
        start_new_session=True,
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process)
        process.send_signal(sig)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
