"""The working day of a field visit: shift, lunch, service time, and the solver's time axis.

Times are seconds after local midnight. The solver plans on a *working-time axis* that leaves
the lunch hour out: clock times before lunch stay as they are, clock times after it move back
by its length. Travel that would run into lunch then simply pauses for it (lunch anywhere,
even on the road), and the shift loses exactly the lunch hour.

The lunch rule: lunch starts at the lunch span's start (12:00), or, when a visit is in
progress then, as soon as that visit ends, but never after `lunch_latest` (12:30). So a visit
may run into the lunch hour only if it ends by `lunch_latest`. On the working-time axis this
makes each opening span one window, unless `lunch_latest` leaves less room than a visit takes:
then a span open across lunch becomes two alternative windows, one each side of it (the solver
takes at most one of them, through a PyVRP client group).
"""

from __future__ import annotations

from dataclasses import dataclass

from fleet.core.config import Settings
from fleet.core.errors import Invalid
from fleet.inventory.hours import parse_hours

Window = tuple[int, int]  # earliest and latest *start* of service, working-time axis


def _span(text: str, what: str) -> tuple[int, int]:
    try:
        spans = parse_hours(text)
    except ValueError as exc:
        raise Invalid("{what}: {problem}", what=what, problem=exc) from None
    if len(spans) != 1:
        raise Invalid("{what} must be one span, like 08:30-17:30", what=what)
    return spans[0][0] * 60, spans[0][1] * 60


def _clock(text: str, what: str) -> int:
    start, _ = _span(f"{text}-23:59", what)
    return start


def hhmm(seconds: int) -> str:
    """'08:05' for 8 h 5 min after midnight (seconds are dropped)."""
    minutes = seconds // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Day:
    shift_start: int
    shift_end: int
    lunch_start: int
    lunch_end: int
    lunch_latest: int
    service_s: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Day:
        """The day described by the FLEET_REVISIT_* settings."""
        shift = _span(settings.revisit_shift, "revisit_shift")
        lunch = _span(settings.revisit_lunch, "revisit_lunch")
        latest = _clock(settings.revisit_lunch_latest_start, "revisit_lunch_latest_start")
        return cls.of(shift, lunch, latest, settings.revisit_service_minutes * 60)

    @classmethod
    def of(cls, shift: tuple[int, int], lunch: tuple[int, int], latest: int, service_s: int) -> Day:
        """A day from clock spans in seconds; refuses a lunch outside the shift."""
        if not shift[0] <= lunch[0] < lunch[1] <= shift[1]:
            raise Invalid("the lunch break must lie within the shift")
        if not lunch[0] <= latest < lunch[1]:
            raise Invalid("the latest lunch start must lie within the lunch span")
        if service_s <= 0:
            raise Invalid("a visit must take some time")
        return cls(shift[0], shift[1], lunch[0], lunch[1], latest, service_s)

    @property
    def lunch_s(self) -> int:
        return self.lunch_end - self.lunch_start

    def to_work(self, clock: int) -> int:
        """A clock time on the working-time axis (a time within lunch maps to lunch's start)."""
        if clock <= self.lunch_start:
            return clock
        return max(self.lunch_start, clock - self.lunch_s)

    @property
    def work_end(self) -> int:
        return self.to_work(self.shift_end)

    def most_visits(self, earliest: int | None = None) -> int:
        """The most visits one person could make from `earliest` (clock; the shift's start by
        default) to the shift's end if no travel took time: a day's capacity, from above."""
        start = self.to_work(max(self.shift_start, earliest or 0))
        return max(0, self.work_end - start) // self.service_s

    def windows(self, spans: list[tuple[int, int]], service_s: int | None = None) -> list[Window]:
        """The start windows, on the working-time axis, that opening `spans` (clock) allow."""
        service = self.service_s if service_s is None else service_s
        found: list[Window] = []
        for open_at, close_at in spans:
            a, b = max(open_at, self.shift_start), min(close_at, self.shift_end)
            # Before lunch: a visit may run into it only if it ends by lunch_latest.
            morning = (a, min(b, self.lunch_latest) - service, self.lunch_start - 1)
            before = (morning[0], min(morning[1], morning[2])) if a < self.lunch_start else None
            after_start = max(a, self.lunch_end)
            after = (after_start - self.lunch_s, b - service - self.lunch_s)
            parts = [w for w in (before, after) if w is not None and w[0] <= w[1]]
            if len(parts) == 2 and parts[0][1] + 1 >= parts[1][0]:
                parts = [(parts[0][0], parts[1][1])]  # contiguous across lunch: one window
            found.extend(parts)
        return found

    def lunch_start_on_axis(self, service_starts: list[int], service_s: int) -> int:
        """Where lunch begins on the working-time axis for a route with these service starts."""
        for start in service_starts:
            if start < self.lunch_start < start + service_s:
                return start + service_s  # the visit in progress at lunch time ends first
        return self.lunch_start
