"""A TCP forwarder on 127.0.0.1 in front of PostgreSQL that a test can cut and restore.

The shared PostgreSQL server must not be stopped (other suites use it); cutting this proxy has
the same effect on a worker pointed at it: open connections die, new ones are refused.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class CuttableProxy:
    """Forwards every connection to `upstream` until `cut()`; refuses new ones until `restore()`."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.refusing = threading.Event()
        self.cuts = 0
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            if self.refusing.is_set():
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open.update((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(source, target)

    def _drop(self, *sockets: socket.socket) -> None:
        for sock in sockets:
            with self._lock:
                self._open.discard(sock)
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def cut(self) -> None:
        """Kill every open connection and refuse new ones (the database "goes away")."""
        self.refusing.set()
        self.cuts += 1
        with self._lock:
            open_now = list(self._open)
        self._drop(*open_now)

    def restore(self) -> None:
        """Accept and forward connections again."""
        self.refusing.clear()

    def close(self) -> None:
        self.listener.close()
        self.cut()


@contextmanager
def cuttable_proxy(host: str, port: int) -> Iterator[CuttableProxy]:
    """A CuttableProxy in front of host:port, closed afterwards."""
    proxy = CuttableProxy((host, port))
    try:
        yield proxy
    finally:
        proxy.close()
