"""ISO weeks in the brand's time zone, turned into UTC windows for the queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dangol.core.errors import ConfigError

WEEK_PATTERN = re.compile(r"^(\d{4})-?W(\d{2})$")


@dataclass(frozen=True, slots=True)
class Week:
    """One ISO week: Monday 00:00 to the next Monday 00:00 in `timezone`."""

    year: int
    number: int
    timezone: str

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def start(self) -> datetime:
        """Monday 00:00 local time, as UTC (the zone's offset that day, DST included)."""
        return datetime.combine(self.monday, time(0), ZoneInfo(self.timezone)).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return self.next().start

    def shift(self, weeks: int) -> Week:
        """The week `weeks` later (negative: earlier)."""
        year, number, _ = (self.monday + timedelta(weeks=weeks)).isocalendar()
        return Week(year, number, self.timezone)

    def previous(self) -> Week:
        return self.shift(-1)

    def next(self) -> Week:
        return self.shift(1)


def parse_week(text: str, timezone: str) -> Week:
    """`2026-W47` (or `2026W47`) as a Week in `timezone`; ConfigError says what is accepted."""
    match = WEEK_PATTERN.match(text.strip())
    if match:
        year, number = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            pass
        else:
            return Week(year, number, timezone)
    raise ConfigError(f"not an ISO week: {text!r}; use YEAR-Wnn such as 2026-W47 (weeks 01 to 52 or 53)")


def week_containing(moment: datetime, timezone: str) -> Week:
    """The ISO week, in `timezone`, that contains `moment`."""
    year, number, _ = moment.astimezone(ZoneInfo(timezone)).isocalendar()
    return Week(year, number, timezone)


def last_complete_week(now: datetime, timezone: str) -> Week:
    """The most recent week that has fully ended by `now` in `timezone`."""
    return week_containing(now, timezone).previous()
