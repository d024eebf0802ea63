"""Several workers at once in one test: each a thread with an engine of its own, as separate
worker processes would have, all started together."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy.engine import Engine

from storage.engine import make_engine


def run_workers(
    url: str, count: int, body: Callable[[Engine, int], object], *, timeout: float = 120
) -> list[BaseException]:
    """`body(engine, n)` for workers n = 0 … count-1 at once, each on its own engine of `url`; the
    exceptions they raised (a test asserts there are none, or which)."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def work(number: int) -> None:
        engine = make_engine(url)
        try:
            start.wait(timeout=30)
            body(engine, number)
        except BaseException as exc:  # collected for the test's assertion
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return errors
