"""Times as the dashboard shows them: in UTC, as the data is counted, written one way everywhere.

Why: a day counted in UTC ("2026-12-04") is read by the browser's chart library as midnight UTC
and drawn in the viewer's own time zone unless told otherwise, so in Los Angeles each day's point
sat at 4 PM of the day before, between ticks that said "12 PM" (seen in Chromium with the time
zone set to America/Los_Angeles); and a table cell showed "2026-12-07 04:04:39+00:00" where the
rest of the pages write "2026-12-07 04:04 UTC".
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import altair as alt
from altair.utils.schemapi import UndefinedType


def utc_minute(moment: datetime | None) -> str:
    """ "2026-12-07 04:04 UTC"; "–" for none."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if moment is not None else "–"


def utc_days(field: str = "day", title: str = "day (UTC)", span: tuple[datetime, datetime] | None = None) -> alt.X:
    """A chart's x axis of UTC calendar days: one label per day, "Dec 04", wherever the viewer is.

    With `span`, the axis covers the whole days of that window whatever the data holds, so charts
    of one period line up (one day with data would otherwise fill the width, labelled "Dec 07,
    Dec 07, Dec 08")."""
    return alt.X(
        f"{field}:T", timeUnit="utcyearmonthdate", title=title, axis=alt.Axis(format="%b %d"), scale=_domain(span, True)
    )


def utc_minutes(field: str, title: str, span: tuple[datetime, datetime] | None = None) -> alt.X:
    """A chart's x axis of UTC times to the minute ("Dec 04 13:05"), wherever the viewer is; over
    `span` when given (see utc_days)."""
    return alt.X(
        f"{field}:T",
        timeUnit="utcyearmonthdatehoursminutes",
        title=title,
        axis=alt.Axis(format="%b %d %H:%M"),
        scale=_domain(span, False),
    )


def _domain(span: tuple[datetime, datetime] | None, whole_days: bool) -> alt.Scale | UndefinedType:
    if span is None:
        return alt.Undefined
    start, end = (moment.astimezone(UTC) for moment in span)
    if whole_days:  # from the first day's midnight to the end of the last day
        start = start.replace(hour=0, minute=0, second=0, microsecond=0)
        if end.time() != time.min:
            end = end.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    # ISO strings with their offset: the chart library reads them as the same instants everywhere.
    return alt.Scale(domain=[start.isoformat(), end.isoformat()])
