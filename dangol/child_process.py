"""Run a heavy periodic job in a child process of the worker, and hand its result back.

Why: retraining the sentiment heads peaks at ~2.6 GB (the Korean head's hashed n-gram views) and
topic training loads an encoder of its own. Run as a thread of the worker, either would lift the
worker's resident memory far past the ~0.9 GB analysis needs and keep much of it (freed arenas
are rarely given back), and would take turns with analysis for the interpreter lock. A child
returns all of it when it exits; if the kernel kills it (out of memory), the worker goes on and
logs why. A stopping worker ends its children (`stop_children`); a worker killed outright takes them
with it (each child watches its parent).

The child is started with "spawn", not "fork": the worker has scheduler threads and ONNX Runtime
sessions, which a forked copy would inherit half-way through whatever they were doing. It opens its
own database engine from the settings; a running job's result (a line of text) or its exception
comes back through a pipe.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from dangol.core.settings import Settings
from storage.engine import make_engine

# A job run this way: a module-level function (the child imports it by name) taking the settings
# and an engine, returning what the job reports.
ChildJob = Callable[..., Any]


class ChildJobDied(RuntimeError):
    """The child ended without a result: killed (out of memory, or by an operator) or crashed."""


# The children running now, so a stopping worker can end them instead of waiting out a training.
_running: set[BaseProcess] = set()
_running_lock = threading.Lock()


def stop_children() -> int:
    """Ask every running child to stop (SIGTERM); how many were asked. Their jobs then raise
    ChildJobDied; what they were writing is lost as a whole (heads are renamed into place)."""
    with _running_lock:
        children = [child for child in _running if child.is_alive()]
    for child in children:
        child.terminate()
    return len(children)


def run_in_child(job: ChildJob, settings: Settings, **options: Any) -> str:
    """`job(settings, engine, **options)` in a fresh process; its result as text, or its exception
    raised here (a database error stays one, so `dangol.jobs.guarded` still retries it)."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    name = getattr(job, "__name__", "job")
    # daemon: a worker that exits (or is stopped) takes an unfinished training with it.
    child = context.Process(target=_child, args=(send, job, settings, options), name=f"dangol-{name}", daemon=True)
    with _running_lock:
        child.start()
        _running.add(child)
    send.close()  # only the child writes: when it dies, recv() ends instead of waiting forever
    try:
        kind, value = receive.recv()
    except EOFError:
        child.join()
        raise ChildJobDied(_death(name, child.exitcode)) from None
    finally:
        receive.close()
        with _running_lock:
            _running.discard(child)
    child.join()
    if kind == "error":
        raise value
    return str(value)


def _death(name: str, exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        how = f"was killed by signal {-exitcode}" + (" (out of memory?)" if exitcode == -9 else "")
    else:
        how = f"exited with code {exitcode}"
    return f"{name}: its process {how} before it finished; nothing it was doing was kept"


def _child(send: Connection, job: ChildJob, settings: Settings, options: dict[str, Any]) -> None:
    # A worker killed outright (SIGKILL, out of memory) cannot end its daemon children: each
    # watches its parent and ends with it, rather than training on for nobody.
    threading.Thread(target=_end_with_parent, args=(os.getppid(),), daemon=True).start()
    engine = None
    try:
        engine = make_engine(settings.database.url)
        outcome: tuple[str, Any] = ("result", str(job(settings, engine, **options)))
    except Exception as exc:  # handed to the parent, which raises it there
        outcome = ("error", _portable(exc))
    finally:
        if engine is not None:
            engine.dispose()
    send.send(outcome)
    send.close()


def _end_with_parent(parent: int, every: float = 1.0) -> None:
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)


def _portable(exc: Exception) -> Exception:
    """`exc` if it survives pickling (SQLAlchemy's errors do), else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
