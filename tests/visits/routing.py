"""Hand-built routing instances for the solver tests, and the independent check of a solution."""

from __future__ import annotations

import math
from itertools import permutations

import numpy as np

from fleet.core.config import get_settings
from fleet.visits import schedule, solver, travel
from fleet.visits.day import Day
from fleet.visits.validate import Call, Rules, check_route

H = 3600
DAY = Day.of((8 * H + 1800, 17 * H + 1800), (12 * H, 13 * H), 12 * H + 1800, 20 * 60)
ALL_DAY = ((8 * H, 18 * H),)


def hours_text(spans: tuple[tuple[int, int], ...]) -> str:
    return ",".join(
        f"{a // H:02d}:{a % H // 60:02d}-{b // H:02d}:{b % H // 60:02d}" for a, b in spans
    )


def line_matrix(positions_km: list[float], kmh: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    """Points on a straight road at these kilometres: exact distances and durations."""
    km = np.asarray(positions_km, dtype=float)
    metres = np.abs(km[:, None] - km[None, :]) * 1000
    return np.rint(metres * 3.6 / kmh).astype(np.int64), np.rint(metres).astype(np.int64)


def random_problem(
    n: int, vehicles: int, seed: int = 7, radius_km: float = 15.0, day: Day = DAY
) -> tuple[solver.Problem, list[str]]:
    """`n` shops around a branch with mixed opening hours, the estimate's travel times."""
    rng = np.random.default_rng(seed)
    lat0, lng0 = 35.05, 118.35
    r = radius_km * 1000 * np.sqrt(rng.random(n))
    th = rng.random(n) * 2 * math.pi
    points = [(lat0, lng0)] + [
        (lat0 + a * math.cos(b) / 111_320, lng0 + a * math.sin(b) / 91_200)
        for a, b in zip(r, th, strict=True)
    ]
    matrix = travel.estimate(points, [(lat0, lng0)], get_settings())
    choices = [
        ((8 * H, 18 * H),),
        ((8 * H, 12 * H), (13 * H + 1800, 18 * H)),
        ((9 * H, 21 * H),),
        ((14 * H, 22 * H),),
        ((11 * H + 3000, 12 * H + 2400),),  # 11:50-12:40: only a visit running into lunch
    ]
    picks = rng.choice(len(choices), n, p=[0.5, 0.2, 0.1, 0.1, 0.1])
    stops = [
        solver.Stop(location=i + 1, spans=choices[k], prize=int(rng.integers(5, 100)) * 200)
        for i, k in enumerate(picks)
    ]
    problem = solver.Problem(
        day=day,
        stops=stops,
        vehicles=[solver.Vehicle(0, 0, day.shift_start) for _ in range(vehicles)],
        durations=matrix.durations,
        distances=matrix.distances,
        points=points,
    )
    return problem, [hours_text(s.spans) for s in stops]


def violations(
    problem: solver.Problem, hours: list[str], routes: list[schedule.RouteTimes]
) -> list[str]:
    """What the independent validator finds wrong with every route (empty when nothing)."""
    day = problem.day
    rules = Rules(
        shift=(day.shift_start, day.shift_end),
        lunch=(day.lunch_start, day.lunch_end),
        lunch_latest=day.lunch_latest,
        service_s=day.service_s,
    )
    found = []
    for route in routes:
        v = problem.vehicles[route.vehicle]
        calls = [
            Call(problem.stops[t.stop].location, hours[t.stop], t.arrival, t.start, t.end)
            for t in route.stops
        ]
        found += check_route(
            rules,
            problem.durations,
            start=v.start,
            end=v.end,
            earliest=v.earliest,
            depart=route.depart,
            back=route.back,
            calls=calls,
            lunch=route.lunch,
        )
    return found


def objective(problem: solver.Problem, routes: list[schedule.RouteTimes]) -> int:
    """Metres driven plus the prizes of the stops not visited."""
    visited = {t.stop for r in routes for t in r.stops}
    missed = sum(s.prize for i, s in enumerate(problem.stops) if i not in visited)
    return sum(r.distance_m for r in routes) + missed


def brute_force(problem: solver.Problem) -> int:
    """The best objective of a one-vehicle instance, by trying every subset in every order."""
    best = sum(s.prize for s in problem.stops)
    n = len(problem.stops)
    for size in range(1, n + 1):
        for order in permutations(range(n), size):
            timed = schedule.time_route(problem, 0, list(order))
            if isinstance(timed, schedule.RouteTimes):
                best = min(best, objective(problem, [timed]))
    return best
