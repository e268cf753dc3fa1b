"""Business hours on China's working calendar: the clock every SLA deadline runs on.

Working days come from the maintained `chinese-calendar` package (public holidays and the
swapped working weekends, 调休, as the State Council announces them each year); days an admin
adds by hand (FLEET_SERVICE_EXTRA_HOLIDAYS / _WORKDAYS) come first. Hours are local
(FLEET_FEED_TIMEZONE).

A year the package does not know yet (its data ends with the last year the State Council has
announced; chinese-calendar 1.11 ends with 2026) follows a weekday rule: Monday to Friday are
working days, except the public holidays fixed by date in law (1 January; 1-2 May; 1-3
October). The lunar holidays (Spring Festival, Qingming, Dragon Boat, Mid-autumn) and the
swapped weekends are not known then: admins add them by hand until the package is upgraded,
and the first use of each such year logs a warning saying so.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

from fleet.core.config import Settings
from fleet.core.errors import Invalid

_MAX_DAYS = 3660  # a deadline further than ten years away is a configuration mistake
# Public holidays fixed by date (全国年节及纪念日放假办法): the weekday rule keeps them.
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})
log = logging.getLogger(__name__)
_warned: set[int] = set()  # years already warned about, once per process


def weekday_rule(day: date) -> bool:
    """A working day by the rule for a year the calendar package does not know."""
    return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS


def _unknown_year(year: int) -> None:
    if year not in _warned:
        _warned.add(year)
        log.warning(
            "chinese-calendar has no data for %s: SLA deadlines in it count Monday to Friday "
            "as working days, less 1 Jan, 1-2 May and 1-3 Oct; add the lunar holidays and "
            "swapped weekends with FLEET_SERVICE_EXTRA_HOLIDAYS / FLEET_SERVICE_EXTRA_WORKDAYS, "
            "or upgrade chinese-calendar",
            year,
        )


def _clock_time(text: str) -> time:
    hours, minutes = text.strip().split(":")
    return time(int(hours), int(minutes))


class Clock:
    """Adds and measures business hours for one settings object."""

    def __init__(self, settings: Settings) -> None:
        self.tz = ZoneInfo(settings.feed_timezone)
        try:
            start, end = (_clock_time(t) for t in settings.service_hours.split("-"))
        except ValueError:
            raise Invalid(
                "service hours must look like 08:30-17:30, not {hours}",
                hours=settings.service_hours,
            ) from None
        if end <= start:
            raise Invalid(
                "service hours must end after they start: {hours}", hours=settings.service_hours
            )
        self.start, self.end = start, end
        self.holidays = frozenset(settings.service_extra_holidays)
        self.workdays = frozenset(settings.service_extra_workdays)

    def is_working_day(self, day: date) -> bool:
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:  # a year the package does not cover yet
            _unknown_year(day.year)
            return weekday_rule(day)

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's business hours in UTC, or None on a day off."""
        if not self.is_working_day(day):
            return None
        opens = datetime.combine(day, self.start, self.tz).astimezone(UTC)
        closes = datetime.combine(day, self.end, self.tz).astimezone(UTC)
        return opens, closes

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def add(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` business hours after `start`."""
        if hours < 0:
            raise Invalid("business hours to add must not be negative")
        left = timedelta(hours=hours)
        moment = start
        day = self.local_day(start)
        for _ in range(_MAX_DAYS):
            window = self.window(day)
            if window is not None:
                opens, closes = window
                moment = max(moment, opens)
                if moment < closes:
                    if left <= closes - moment:
                        return moment + left
                    left -= closes - moment
            day += timedelta(days=1)
        raise Invalid("no deadline within ten years; check the service hours and calendar")

    def between(self, a: datetime, b: datetime) -> float:
        """Business hours from `a` to `b` (negative when `b` is before `a`)."""
        if b < a:
            return -self.between(b, a)
        total = timedelta()
        day, last = self.local_day(a), self.local_day(b)
        while day <= last:
            window = self.window(day)
            if window is not None:
                lo, hi = max(a, window[0]), min(b, window[1])
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds() / 3600
