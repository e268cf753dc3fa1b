"""Pay periods as people write them: a month `2026-11`, a quarter `2026-Q4`, a year `2026`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from fleet.core.errors import Invalid

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    """Days [start, end) and the text it was written as."""

    text: str
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last(self) -> date:
        """The period's last day, the end a person reads: 2026-12 is 12-01 – 12-31."""
        return last_day(self.end)

    @property
    def monthly(self) -> bool:
        return len(self.text) == 7 and "Q" not in self.text

    def previous(self) -> Period:
        """The period of the same kind just before: the baseline period a change is against."""
        if len(self.text) == 4:
            return parse(str(self.start.year - 1))
        if "Q" in self.text:
            quarter = (self.start.month - 1) // 3 + 1
            year = self.start.year - (quarter == 1)
            return parse(f"{year}-Q{4 if quarter == 1 else quarter - 1}")
        before = self.start.replace(day=1) - timedelta(days=1)
        return parse(f"{before.year}-{before.month:02d}")


def last_day(end: date) -> date:
    """The last day of days [start, end): what a heading, a sheet or a page shows as the end
    (showing `end` itself would name a day the period does not hold)."""
    return end - timedelta(days=1)


def this_month(today: date) -> Period:
    """The month `today` is in (the caller's today is the bank's: scoring.today_local)."""
    return parse(f"{today.year}-{today.month:02d}")


def _month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def parse(text: str) -> Period:
    """The period `text` names; Invalid when it names none."""
    value = text.strip()
    if found := _MONTH.match(value):
        year, month = int(found[1]), int(found[2])
        if 1 <= month <= 12:
            return Period(value, date(year, month, 1), _month_start(year, month + 1))
    elif found := _QUARTER.match(value):
        year, quarter = int(found[1]), int(found[2])
        first = 3 * quarter - 2
        return Period(value.upper(), date(year, first, 1), _month_start(year, first + 3))
    elif found := _YEAR.match(value):
        year = int(found[1])
        return Period(value, date(year, 1, 1), date(year + 1, 1, 1))
    raise Invalid(
        "{period} is not a period: write a month 2026-11, a quarter 2026-Q4 or a year 2026",
        period=repr(text),
    )
