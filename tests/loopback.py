"""Helpers for tests that start servers on 127.0.0.1: a free port, waiting for Streamlit, and an
SMTP server that keeps what it is sent."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Poll Streamlit's health endpoint until it answers (or the server dies, or time runs out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"streamlit did not become healthy within {timeout}s")


@dataclass
class Received:
    """What a loopback server was sent."""

    bodies: list[Any] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)


@contextmanager
def smtp_server() -> Iterator[tuple[int, Received]]:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it is sent."""
    from aiosmtpd.controller import Controller

    received = Received()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's naming)
            received.messages.append(message_from_bytes(envelope.original_content))
            received.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()
