"""Budget periods and the requests a run may make (storage.sources), without a database."""

from __future__ import annotations

from datetime import UTC, datetime

from dangol.core.types import Billing
from listener.naver import NaverCollector, NaverOptions
from storage.models import Source
from storage.sources import budget_period, describe_usage, requests_allowed, usage

DEC_3_1530_UTC = datetime(2026, 12, 3, 15, 30, tzinfo=UTC)  # already 4 December in Seoul


def test_naver_counts_calls_per_day_in_seoul_time() -> None:
    billing = NaverCollector.billing(NaverOptions(daily_call_limit=100))
    assert (billing.unit, billing.limit) == ("calls", 100)
    assert budget_period(billing, DEC_3_1530_UTC) == "2026-12-04"
    assert budget_period(Billing(unit="posts"), DEC_3_1530_UTC) == "2026-12"
    source = Source(name="n", use="naver", budget_period="2026-12-04", budget_used=97)
    assert requests_allowed(source, billing, now=DEC_3_1530_UTC) == 3
    # The day before in Seoul is another period: its usage does not count.
    source.budget_period = "2026-12-03"
    assert requests_allowed(source, billing, now=DEC_3_1530_UTC) == 100


def test_both_caps_limit_the_run_by_the_worst_case_page() -> None:
    billing = Billing(
        unit="posts",
        limit=1000,
        spend_limit_micros=5_000_000,
        prices_micros={"posts": 5000, "users": 10000},
        worst_case={"posts": 300, "users": 300},
    )
    fresh = Source(name="x", use="x")
    # Posts: 1000 // 300 = 3 requests; money: $5 // $4.50 worst case = 1 request.
    assert requests_allowed(fresh, billing, now=DEC_3_1530_UTC) == 1
    spent = Source(name="x", use="x", budget_period="2026-12", budget_used=990, budget_spent_micros=4_000_000)
    assert requests_allowed(spent, billing, now=DEC_3_1530_UTC) == 0
    used = usage(spent, billing, now=DEC_3_1530_UTC)
    assert describe_usage(billing, used) == "990/1,000 posts, $4.00/$5.00 in 2026-12"
    assert requests_allowed(fresh, None) is None
