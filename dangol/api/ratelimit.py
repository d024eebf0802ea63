"""Requests per token in fixed one-minute windows, counted in this process.

In-process on purpose: a shared counter would need a shared store. The API runs as one process
unless `dangol api --workers N` asks for more; those count alone, together allowing N times the
limit (README)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

WINDOW_SECONDS = 60.0
# Windows are kept per token; past this many, the ended ones are dropped (a bound, not a cache policy).
PRUNE_ABOVE = 10_000


class RateLimiter:
    """At most `per_minute` requests per key in each window; the window starts at a key's first request."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._windows: dict[object, tuple[float, int]] = {}
        # uvicorn runs sync endpoints and dependencies in a thread pool.
        self._lock = threading.Lock()

    def hit(self, key: object) -> int | None:
        """Count one request for `key`: None when allowed, else the whole seconds until the window ends."""
        now = self._clock()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= WINDOW_SECONDS:
                start, count = now, 0
            if count >= self.per_minute:
                return max(1, math.ceil(start + WINDOW_SECONDS - now))
            self._windows[key] = (start, count + 1)
            if len(self._windows) > PRUNE_ABOVE:
                self._windows = {k: w for k, w in self._windows.items() if now - w[0] < WINDOW_SECONDS}
            return None
