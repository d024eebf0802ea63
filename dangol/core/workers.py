"""Which process does something ("host:pid"), and whether such a process is gone.

A collection lease, a schedule slot and a reply's send attempt name the process that holds them;
another process on the same host can tell that it died and take over at once, where one on another
host must wait for the hold to run out.
"""

from __future__ import annotations

import os
import socket


def this_process() -> str:
    """This process as "host:pid": unique in a cluster."""
    return f"{socket.gethostname()}:{os.getpid()}"


def died_here(worker: str) -> bool:
    """True when `worker` ("host:pid") ran on this host and that process is gone (a process on
    another host cannot be asked: False)."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
