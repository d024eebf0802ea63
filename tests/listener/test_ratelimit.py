"""Rate-limit signals of each platform become one aware UTC retry time."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from listener import ratelimit

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_x_reset_is_epoch_seconds() -> None:
    assert ratelimit.from_epoch(str(int((NOW + timedelta(minutes=5)).timestamp())), now=NOW) == NOW + timedelta(
        minutes=5
    )


def test_reddit_reset_is_seconds_from_now() -> None:
    assert ratelimit.from_seconds("244", now=NOW) == NOW + timedelta(seconds=244)
    assert ratelimit.from_seconds("53.0", now=NOW) == NOW + timedelta(seconds=53)


def test_mastodon_reset_is_an_iso_time() -> None:
    # The value recorded in Mastodon.py's cassettes.
    reset = ratelimit.from_iso("2026-08-01T14:00:00.070144Z", now=datetime(2026, 8, 1, 13, 55, tzinfo=UTC))
    assert reset == datetime(2026, 8, 1, 14, 0, 0, 70144, tzinfo=UTC)


def test_retry_after_is_seconds_or_an_http_date() -> None:
    assert ratelimit.from_retry_after("4", now=NOW) == NOW + timedelta(seconds=4)
    assert ratelimit.from_retry_after("Sun, 22 Nov 2026 12:10:00 GMT", now=NOW) == NOW + timedelta(minutes=10)


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "nan-ish"])
def test_unreadable_signals_give_none(value: str | None) -> None:
    assert ratelimit.from_epoch(value, now=NOW) is None
    assert ratelimit.from_seconds(value, now=NOW) is None
    assert ratelimit.from_iso(value, now=NOW) is None
    assert ratelimit.from_retry_after(value, now=NOW) is None


def test_a_reset_in_the_past_means_now_and_one_days_away_is_ignored() -> None:
    assert ratelimit.from_epoch(str(int((NOW - timedelta(minutes=1)).timestamp())), now=NOW) == NOW
    assert ratelimit.from_seconds(str(3 * 86400), now=NOW) is None


def test_backoff_has_jitter_and_grows_to_a_cap() -> None:
    rng = random.Random(7)
    waits = [ratelimit.backoff(1, rng=rng) for _ in range(50)]
    assert all(timedelta(seconds=15) <= w <= timedelta(seconds=30) for w in waits)
    assert len(set(waits)) > 40  # spread out, so workers do not retry in lockstep
    assert all(ratelimit.backoff(20, rng=rng) <= timedelta(seconds=900) for _ in range(50))
    assert max(ratelimit.backoff(4, rng=rng) for _ in range(200)) > timedelta(seconds=120)


def test_headers_are_read_case_insensitively() -> None:
    assert ratelimit.header({"X-Rate-Limit-Reset": "1"}, "x-rate-limit-reset") == "1"
    assert ratelimit.header(None, "x") is None
