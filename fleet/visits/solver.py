"""Field routes with PyVRP: a prize-collecting VRP with time windows, one vehicle per person.

The model (see day.py for the working-time axis and the lunch rule):
- each person starts at a depot (their home branch, or the last visit already done today)
  and ends at their home branch, within the shift; vehicles alike are one vehicle type;
- each candidate is an optional client with its priority as the prize and the visit's
  service time; its opening spans become start windows on the working-time axis. A
  candidate with more than one window (a shop closed at midday, or a lunch rule that
  forbids running into lunch) is a mutually exclusive client group of one client per
  window, so it is visited at most once, in whichever window suits the route;
- the objective is metres driven plus the prizes of candidates left out, so the most valuable
  visits are kept when the day is too short for all.
Candidates that no one could visit even alone are left out before solving, with the reason.

Three options serve days other than the revisit list's (the after-sales service day):
- a *required* stop must be visited when someone can reach it (PyVRP's required client, or
  a required client group); when the required stops together cannot all be served, the day
  is solved again with them optional at REQUIRED_PRIZE each, so as many as fit are kept;
- *goods*: a stop that takes one unit of goods of a kind (a spare of a branch) can only be
  served by a vehicle carrying that kind, at most as many such stops as it carries units;
- *vehicles*: a stop only certain vehicles may serve (a ticket's assignee).
Goods and vehicle sets are PyVRP load dimensions: one per kind of goods (the vehicle's
capacity is what it carries) and one per distinct vehicle set (capacity: every stop for the
vehicles in the set, none for the others).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyvrp
from pyvrp import (
    Client,
    ClientGroup,
    Depot,
    IteratedLocalSearchParams,
    Location,
    ProblemData,
    SolveParams,
    VehicleType,
)
from pyvrp.search import NeighbourhoodParams
from pyvrp.stop import MaxRuntime, MultipleCriteria, NoImprovement

from fleet.visits.day import Day, Window

log = logging.getLogger(__name__)

# Tuned with tests/benchmarks/bench_routes.py for budgets of a few seconds: a shorter
# late-acceptance history than PyVRP's default (300) converges within them.
HISTORY_LENGTH = 100
NUM_NEIGHBOURS = 50
# Small instances stop once the search has stalled this many iterations per client (at
# least 2,000); a few-second budget on hundreds of stops never stalls that long.
STALL_PER_CLIENT = 100

NO_TIME = "no_time"
OUTSIDE_HOURS = "outside_hours"
TOO_FAR = "too_far"
NO_GOODS = "no_goods"  # no vehicle (allowed to serve it) carries what the stop takes
# A required stop's prize when the required stops cannot all be served: above any day's
# driving (metres), so the solver drops one only when it cannot be fitted at all.
REQUIRED_PRIZE = 100_000_000


@dataclass(frozen=True)
class Stop:
    """A candidate visit: where (a row of the travel matrix), when open (clock), its prize."""

    location: int
    spans: tuple[tuple[int, int], ...]
    prize: int
    required: bool = False  # visited whenever someone can reach it
    goods: str | None = None  # takes one unit of goods of this kind
    vehicles: frozenset[int] | None = None  # only these vehicles may serve it (None: any)


@dataclass(frozen=True)
class Vehicle:
    """A person's day: start and end rows of the travel matrix, earliest departure (clock),
    and the goods carried (kind, units)."""

    start: int
    end: int
    earliest: int
    goods: tuple[tuple[str, int], ...] = ()

    def carries(self, kind: str) -> int:
        return sum(units for k, units in self.goods if k == kind)


@dataclass
class Problem:
    day: Day
    stops: list[Stop]
    vehicles: list[Vehicle]
    durations: np.ndarray
    distances: np.ndarray
    points: list[tuple[float, float]] = field(default_factory=list)

    def windows(self, stop: int) -> list[Window]:
        """The stop's start windows on the working-time axis."""
        return self.day.windows(list(self.stops[stop].spans))

    def earliest_work(self, vehicle: int) -> int:
        """The vehicle's earliest departure on the working-time axis (see day.py)."""
        return self.day.to_work(self.vehicles[vehicle].earliest)


@dataclass
class Solution:
    routes: list[list[int]]  # per vehicle, the stops in order
    unplanned: dict[int, str]  # stop -> reason code
    seconds: float = 0.0
    iterations: int = 0
    relaxed: bool = False  # the required stops could not all be served (see REQUIRED_PRIZE)


def reachable(problem: Problem, stop: int) -> str | None:
    """Why no one could visit `stop` even as their only visit (None when someone could)."""
    windows = problem.windows(stop)
    if not windows:
        return OUTSIDE_HOURS
    day, loc = problem.day, problem.stops[stop].location
    d = problem.durations
    allowed = able(problem, stop)
    if not allowed:
        return NO_GOODS
    any_time = False
    for v, vehicle in enumerate(problem.vehicles):
        if v not in allowed:
            continue
        arrive = problem.earliest_work(v) + int(d[vehicle.start, loc])
        back = day.service_s + int(d[loc, vehicle.end])
        if arrive + back <= day.work_end:
            any_time = True
        for lo, hi in windows:
            start = max(arrive, lo)
            if start <= hi and start + back <= day.work_end:
                return None
    return OUTSIDE_HOURS if any_time else TOO_FAR


def able(problem: Problem, stop: int) -> list[int]:
    """The vehicles that may serve `stop`: those allowed, carrying its goods if it takes any."""
    s = problem.stops[stop]
    return [
        v
        for v, vehicle in enumerate(problem.vehicles)
        if (s.vehicles is None or v in s.vehicles)
        and (s.goods is None or vehicle.carries(s.goods) > 0)
    ]


def _dimensions(problem: Problem, stops: list[int]) -> tuple[list[str], list[frozenset[int]]]:
    """The load dimensions: kinds of goods, then distinct vehicle sets, each in first-seen order."""
    kinds = list(dict.fromkeys(g for s in stops if (g := problem.stops[s].goods) is not None))
    sets = list(dict.fromkeys(vs for s in stops if (vs := problem.stops[s].vehicles) is not None))
    return kinds, sets


def _data(
    problem: Problem, stops: list[int], *, relaxed: bool = False
) -> tuple[ProblemData, list[int], list[list[int]]]:
    """PyVRP's data: clients (one per window of each stop), and which vehicles each type holds."""
    day = problem.day
    kinds_of_goods, vehicle_sets = _dimensions(problem, stops)

    def capacity(v: int) -> list[int]:
        vehicle = problem.vehicles[v]
        return [vehicle.carries(k) for k in kinds_of_goods] + [
            len(stops) if v in members else 0 for members in vehicle_sets
        ]

    def delivery(s: int) -> list[int]:
        stop = problem.stops[s]
        return [int(stop.goods == k) for k in kinds_of_goods] + [
            int(stop.vehicles == members) for members in vehicle_sets
        ]

    points = problem.points or [(0.0, 0.0)] * len(problem.durations)
    locations = [Location(x=lng, y=lat) for lat, lng in points]
    depot_rows = sorted({v.start for v in problem.vehicles} | {v.end for v in problem.vehicles})
    depot_of = {row: i for i, row in enumerate(depot_rows)}
    depots = [Depot(location=row) for row in depot_rows]
    kinds: dict[tuple[int, int, int, tuple[int, ...]], list[int]] = {}
    for v, vehicle in enumerate(problem.vehicles):
        key = (vehicle.start, vehicle.end, problem.earliest_work(v), tuple(capacity(v)))
        kinds.setdefault(key, []).append(v)
    vehicle_types = [
        VehicleType(
            num_available=len(members),
            capacity=list(loads),
            start_depot=depot_of[start],
            end_depot=depot_of[end],
            tw_early=earliest,
            tw_late=day.work_end,
            unit_distance_cost=1,
        )
        for (start, end, earliest, loads), members in kinds.items()
    ]
    clients: list[Client] = []
    client_stop: list[int] = []
    groups: list[ClientGroup] = []
    for s in stops:
        windows = problem.windows(s)
        stop = problem.stops[s]
        required = stop.required and not relaxed
        prize = REQUIRED_PRIZE if stop.required and relaxed else stop.prize
        group = None
        if len(windows) > 1:
            group = len(groups)
            groups.append(ClientGroup(required=required))
        for lo, hi in windows:
            if group is not None:
                groups[group].add_client(len(clients))
            clients.append(
                Client(
                    location=stop.location,
                    delivery=delivery(s),
                    service_duration=day.service_s,
                    tw_early=lo,
                    tw_late=hi,
                    prize=prize,
                    required=required and group is None,
                    group=group,
                )
            )
            client_stop.append(s)
    # PyVRP's stubs declare the matrices oddly; they take int64 arrays.
    distances: list[Any] = [np.asarray(problem.distances, dtype=np.int64)]
    durations: list[Any] = [np.asarray(problem.durations, dtype=np.int64)]
    data = ProblemData(locations, clients, depots, vehicle_types, distances, durations, groups)
    return data, client_stop, list(kinds.values())


def _within_loads(problem: Problem, vehicle: int, order: list[int]) -> list[int]:
    """The route less the stops its vehicle may not serve, or whose goods it has run out of:
    PyVRP penalises load excess rather than forbidding it, so a solution that is not feasible
    (a short budget) may carry some; the schedule then deals with time alone."""
    carried = Counter(dict(problem.vehicles[vehicle].goods))
    kept = []
    for s in order:
        stop = problem.stops[s]
        if stop.vehicles is not None and vehicle not in stop.vehicles:
            continue
        if stop.goods is not None:
            if carried[stop.goods] <= 0:
                continue
            carried[stop.goods] -= 1
        kept.append(s)
    return kept


def _quietly(
    data: ProblemData, stop: MultipleCriteria, seed: int, params: SolveParams
) -> pyvrp.Result:
    """PyVRP's solve, its warnings (a PenaltyBoundWarning when the required stops do not all
    fit, which `solve` handles by solving again) kept in the log and off the user's terminal
    and pages."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = pyvrp.solve(
            data, stop, seed=seed, collect_stats=False, display=False, params=params
        )
    for warning in caught:
        # INFO: logging's last resort would print a WARNING on a CLI without logging set up.
        log.info("pyvrp %s: %s", warning.category.__name__, " ".join(str(warning.message).split()))
    return result


def solve(problem: Problem, *, seconds: float, seed: int = 1) -> Solution:
    """Routes for the vehicles, and every stop left out with its reason code."""
    started = time.perf_counter()
    unplanned: dict[int, str] = {}
    open_stops: list[int] = []
    for s in range(len(problem.stops)):
        reason = reachable(problem, s) if problem.vehicles else TOO_FAR
        if reason:
            unplanned[s] = reason
        else:
            open_stops.append(s)
    routes: list[list[int]] = [[] for _ in problem.vehicles]
    if not open_stops:
        return Solution(routes, unplanned, time.perf_counter() - started)
    params = SolveParams(
        ils=IteratedLocalSearchParams(history_length=HISTORY_LENGTH),
        neighbourhood=NeighbourhoodParams(num_neighbours=NUM_NEIGHBOURS),
    )
    # With required stops, part of the budget is kept for solving again without them required.
    required = any(problem.stops[s].required for s in open_stops)
    relaxed = False
    while True:
        data, client_stop, members = _data(problem, open_stops, relaxed=relaxed)
        stall = max(2_000, STALL_PER_CLIENT * data.num_clients)
        spent = time.perf_counter() - started
        budget = max(0.1, seconds - spent) if relaxed else seconds * (0.6 if required else 1)
        stop = MultipleCriteria([MaxRuntime(budget), NoImprovement(stall)])
        result = _quietly(data, stop, seed, params)
        if result.best.is_feasible() or relaxed or not required:
            break
        relaxed = True  # the required stops do not all fit: keep as many as fit
    pools = [list(m) for m in members]
    for route in result.best.routes():
        vehicle = pools[route.vehicle_type()].pop(0)
        routes[vehicle] = [client_stop[a.idx] for a in route if a.is_client()]
    if not result.best.is_feasible():
        routes = [_within_loads(problem, v, order) for v, order in enumerate(routes)]
    planned = {s for r in routes for s in r}
    unplanned.update({s: NO_TIME for s in open_stops if s not in planned})
    return Solution(
        routes, unplanned, time.perf_counter() - started, result.num_iterations, relaxed
    )
