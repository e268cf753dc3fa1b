"""Clock times of a route: each stop's arrival, start and end, the lunch break, the return.

Times are worked out on the solver's working-time axis, each visit as early as its window
allows, and then put back on the clock: everything after the lunch start moves on by the
lunch's length (day.py has the rule). A stop that cannot be served in order (the solver's
answer may carry time warp) is reported, so that the caller can drop it and time again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fleet.visits.solver import Problem


@dataclass
class TimedStop:
    stop: int
    arrival: int  # clock seconds after midnight
    start: int
    end: int
    travel_s: int  # from the previous stop (or the start)
    travel_m: int


@dataclass
class RouteTimes:
    vehicle: int
    depart: int
    back: int
    stops: list[TimedStop] = field(default_factory=list)
    lunch: tuple[int, int] | None = None
    back_travel_s: int = 0
    back_travel_m: int = 0

    @property
    def distance_m(self) -> int:
        return sum(s.travel_m for s in self.stops) + self.back_travel_m

    @property
    def working_s(self) -> int:
        """From departure to return, less lunch."""
        lunch = self.lunch[1] - self.lunch[0] if self.lunch else 0
        return self.back - self.depart - lunch


def time_route(problem: Problem, vehicle: int, order: list[int]) -> RouteTimes | int:
    """The route's clock times, or the position in `order` of the first stop that does not fit."""
    day = problem.day
    d, m = problem.durations, problem.distances
    v = problem.vehicles[vehicle]
    earliest = problem.earliest_work(vehicle)
    t, prev = earliest, v.start
    legs: list[tuple[int, int, int, int, int]] = []  # stop, arrival, start (work axis), s, m
    for position, s in enumerate(order):
        loc = problem.stops[s].location
        arrival = t + int(d[prev, loc])
        start = next(
            (max(arrival, lo) for lo, hi in problem.windows(s) if max(arrival, lo) <= hi), None
        )
        if start is None:
            return position
        legs.append((s, arrival, start, int(d[prev, loc]), int(m[prev, loc])))
        t, prev = start + day.service_s, loc
    back = t + int(d[prev, v.end])
    if back > day.work_end:
        return max(0, len(order) - 1)
    # Leave as late as the first visit allows: no waiting outside the first shop.
    depart = max(earliest, legs[0][2] - legs[0][3]) if legs else earliest
    if legs:
        s0, _, start0, travel0, metres0 = legs[0]
        legs[0] = (s0, depart + travel0, start0, travel0, metres0)
    lunch_at = day.lunch_start_on_axis([leg[2] for leg in legs], day.service_s)
    shift = day.lunch_s

    def clock(w: int, after: bool) -> int:
        # An instant at the lunch start itself is before lunch for arrivals and ends, and after
        # it for departures from the depot and service starts.
        return w + shift if w > lunch_at or (w == lunch_at and after) else w

    route = RouteTimes(vehicle=vehicle, depart=clock(depart, True), back=clock(back, False))
    for s, arrival, start, travel_s, travel_m in legs:
        route.stops.append(
            TimedStop(
                stop=s,
                arrival=clock(arrival, False),
                start=clock(start, True),
                end=clock(start + day.service_s, False),
                travel_s=travel_s,
                travel_m=travel_m,
            )
        )
    route.back_travel_s = int(d[prev, v.end])
    route.back_travel_m = int(m[prev, v.end])
    if depart < lunch_at < back:
        route.lunch = (clock(lunch_at, False), clock(lunch_at, False) + shift)
    return route


def time_routes(problem: Problem, routes: list[list[int]]) -> tuple[list[RouteTimes], list[int]]:
    """Every vehicle's clock times; stops that did not fit are dropped and returned."""
    timed: list[RouteTimes] = []
    dropped: list[int] = []
    for vehicle, order in enumerate(routes):
        order = list(order)
        while True:
            result = time_route(problem, vehicle, order)
            if isinstance(result, RouteTimes):
                timed.append(result)
                break
            dropped.append(order.pop(result))
    return timed, dropped
