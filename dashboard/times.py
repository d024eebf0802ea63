"""Times as the dashboard shows them: in UTC, as the data is counted, written one way everywhere.

Why: a day counted in UTC ("2026-12-04") is read by the browser's chart library as midnight UTC
and drawn in the viewer's own time zone unless told otherwise, so in Los Angeles each day's point
sat at 4 PM of the day before, between ticks that said "12 PM" (seen in Chromium with the time
zone set to America/Los_Angeles); and a table cell showed "2026-12-07 04:04:39+00:00" where the
rest of the pages write "2026-12-07 04:04 UTC".
"""

from __future__ import annotations

from datetime import UTC, datetime

import altair as alt


def utc_minute(moment: datetime | None) -> str:
    """ "2026-12-07 04:04 UTC"; "–" for none."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if moment is not None else "–"


def utc_days(field: str = "day", title: str = "day (UTC)") -> alt.X:
    """A chart's x axis of UTC calendar days: one label per day, "Dec 04", wherever the viewer is."""
    return alt.X(f"{field}:T", timeUnit="utcyearmonthdate", title=title, axis=alt.Axis(format="%b %d"))


def utc_minutes(field: str, title: str) -> alt.X:
    """A chart's x axis of UTC times to the minute ("Dec 04 13:05"), wherever the viewer is."""
    return alt.X(
        f"{field}:T", timeUnit="utcyearmonthdatehoursminutes", title=title, axis=alt.Axis(format="%b %d %H:%M")
    )
