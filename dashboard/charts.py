"""Time axes of the dashboard's charts, placed and labelled in UTC as their data is counted.

Why: a day counted in UTC ("2026-12-04") is read by the browser's chart library as midnight UTC
and drawn in the viewer's own time zone unless told otherwise, so in Los Angeles each day's point
sat at 4 PM of the day before, between ticks that said "12 PM" (seen in Chromium with the time
zone set to America/Los_Angeles).
"""

from __future__ import annotations

import altair as alt


def utc_days(field: str = "day", title: str = "day (UTC)") -> alt.X:
    """An x axis of UTC calendar days: one label per day, "Dec 04", wherever the viewer is."""
    return alt.X(f"{field}:T", timeUnit="utcyearmonthdate", title=title, axis=alt.Axis(format="%b %d"))


def utc_minutes(field: str, title: str) -> alt.X:
    """An x axis of UTC times to the minute ("Dec 04 13:05"), wherever the viewer is."""
    return alt.X(
        f"{field}:T", timeUnit="utcyearmonthdatehoursminutes", title=title, axis=alt.Axis(format="%b %d %H:%M")
    )
