"""Chart data cached for a few minutes: day-by-day aggregates read hundreds of thousands of rows
on a large database (about 10 s for 28 days of a million posts on SQLite), and charts need not
be fresher than that. The window is rounded to the hour so every viewer shares the cache."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import streamlit as st
from sqlmodel import Session

from dangol.core.types import utcnow
from storage.read_models import sentiment_daily_counts, sla_attainment_daily, topic_daily_counts

TTL_SECONDS = 300


def window(days: int, ending: date | None = None) -> tuple[datetime, datetime]:
    """[until - days, until): until is now rounded up to the next hour, or the end of the day
    `ending` (UTC) when that day is over (to look back at a past period)."""
    until = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if ending is not None:
        until = min(until, datetime.combine(ending + timedelta(days=1), time.min, tzinfo=UTC))
    return until - timedelta(days=days), until


def _session(url: str, echo: bool) -> Session:
    from dashboard.context import _engine

    return Session(_engine(url, echo))


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Counting…")
def topic_days(url: str, echo: bool, since: datetime, until: datetime) -> list[tuple[str, str, int]]:
    """Complaints per day and topic."""
    with _session(url, echo) as session:
        return topic_daily_counts(session=session, since=since, until=until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Counting…")
def sentiment_days(url: str, echo: bool, since: datetime, until: datetime) -> list[tuple[str, str, int]]:
    """Analyzed posts per day and sentiment."""
    with _session(url, echo) as session:
        return sentiment_daily_counts(session=session, since=since, until=until)


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Counting…")
def sla_days(url: str, echo: bool, since: datetime, until: datetime) -> list[tuple[str, int, int]]:
    """First responses in time and late, per day."""
    with _session(url, echo) as session:
        return sla_attainment_daily(session=session, since=since, until=until)
