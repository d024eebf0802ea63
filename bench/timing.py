"""Repeat a call and summarise its time: p50/p95 in milliseconds with the load average, or the mean."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.machine import load_average


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of `values` (q in 0..100)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def latency(call: Callable[[], Any], repeats: int, *, warmup: int = 1) -> dict[str, Any]:
    """Run `call` `warmup` times unmeasured (cold caches are not steady state), then `repeats` times."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return summarize_ms(samples)


def summarize_ms(samples: list[float], digits: int = 2) -> dict[str, Any]:
    """p50, p95 and max of millisecond `samples`, how many, and the load average now."""
    return {
        "p50_ms": round(statistics.median(samples), digits),
        "p95_ms": round(percentile(samples, 95), digits),
        "max_ms": round(max(samples), digits),
        "repeats": len(samples),
        "load_average": load_average(),
    }


def mean_seconds(call: Callable[[], Any], repeats: int, *, warmup: int = 1) -> float:
    """Mean seconds per call of `call`, run `warmup` times unmeasured, then `repeats` times."""
    for _ in range(warmup):
        call()
    started = time.perf_counter()
    for _ in range(repeats):
        call()
    return (time.perf_counter() - started) / repeats
