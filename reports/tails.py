"""Upper-tail probabilities for count data, computed in log space so tiny p-values stay exact enough,
and the percentile the response and resolution times are summed up by.

No SciPy: these two sums are all the spike detector needs, and importing SciPy would cost more
than the detector itself.
"""

from __future__ import annotations

import math

_MAX_TERMS = 100_000


def _log_poisson_pmf(k: int, lam: float) -> float:
    return k * math.log(lam) - lam - math.lgamma(k + 1)


def poisson_sf(count: int, lam: float) -> float:
    """P(X ≥ count) for X ~ Poisson(lam)."""
    if count <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    if count <= lam:
        # Below the mean the tail is large; the complement's finite sum is exact enough.
        return max(0.0, 1.0 - sum(math.exp(_log_poisson_pmf(k, lam)) for k in range(count)))
    total, k = 0.0, count
    while k < count + _MAX_TERMS:
        term = math.exp(_log_poisson_pmf(k, lam))
        total += term
        if term < total * 1e-15:
            break
        k += 1
    return min(1.0, total)


def binomial_sf(successes: int, trials: int, p: float) -> float:
    """P(X ≥ successes) for X ~ Binomial(trials, p)."""
    if successes <= 0:
        return 1.0
    if successes > trials or p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    log_n = math.lgamma(trials + 1)
    return min(
        1.0,
        sum(
            math.exp(log_n - math.lgamma(k + 1) - math.lgamma(trials - k + 1) + k * log_p + (trials - k) * log_q)
            for k in range(successes, trials + 1)
        ),
    )


def percentile(values: list[float], share: float) -> float | None:
    """Linear-interpolated percentile (numpy's default method); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * share
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
