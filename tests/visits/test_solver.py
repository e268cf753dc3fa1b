"""The routing core without a database: known best routes, time windows, shift and lunch as
an independent validator sees them, and what is left out when the day is too short."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning

from fleet.visits import schedule, solver
from fleet.visits.day import Day
from tests.visits.routing import (
    ALL_DAY,
    DAY,
    H,
    brute_force,
    line_matrix,
    objective,
    random_problem,
    violations,
)


def solve(
    problem: solver.Problem, seconds: float = 0.5
) -> tuple[list[schedule.RouteTimes], dict[int, str]]:
    solution = solver.solve(problem, seconds=seconds)
    routes, dropped = schedule.time_routes(problem, solution.routes)
    assert dropped == []  # the solver's routes keep every window as they come
    return routes, solution.unplanned


def test_a_road_with_a_morning_shop_at_its_far_end() -> None:
    """Branch at km 0; shops at km 2, 4, 6, 8 at 60 km/h. The shop at km 8 is open only
    08:30-09:05, so a visit must start by 08:45: the best route drives straight out to it and
    visits the others on the way back (any stop on the way out arrives too late)."""
    durations, distances = line_matrix([0, 2, 4, 6, 8], kmh=60)
    spans = [ALL_DAY, ALL_DAY, ALL_DAY, ((8 * H + 1800, 9 * H + 300),)]
    problem = solver.Problem(
        day=DAY,
        stops=[solver.Stop(i + 1, spans[i], prize=100_000) for i in range(4)],
        vehicles=[solver.Vehicle(0, 0, DAY.shift_start)],
        durations=durations,
        distances=distances,
    )
    routes, unplanned = solve(problem)
    assert unplanned == {}
    assert [t.stop for t in routes[0].stops] == [3, 2, 1, 0]
    assert routes[0].distance_m == 16_000
    # Leaves at 08:30 and arrives at km 8 eight minutes later.
    assert (routes[0].depart, routes[0].stops[0].arrival) == (8 * H + 1800, 8 * H + 1800 + 480)
    assert violations(problem, ["08:00-18:00"] * 3 + ["08:30-09:05"], routes) == []


def test_small_instances_match_the_brute_force_optimum() -> None:
    """Six shops, one person, a day too short for all: the solver finds the best subset and
    order that trying every one of them finds."""
    for seed in (1, 2, 3):
        # A short day with long visits, so that not everything fits.
        day = Day.of((9 * H, 14 * H), (12 * H, 13 * H), 12 * H + 1800, 40 * 60)
        problem, hours = random_problem(6, 1, seed=seed, radius_km=40, day=day)
        routes, _ = solve(problem, seconds=1.0)
        assert objective(problem, routes) == brute_force(problem)
        assert violations(problem, hours, routes) == []


def test_every_route_keeps_shop_hours_the_shift_and_lunch() -> None:
    problem, hours = random_problem(80, 4, seed=11)
    routes, unplanned = solve(problem, seconds=1.0)
    assert sum(len(r.stops) for r in routes) > 30
    assert violations(problem, hours, routes) == []
    for route in routes:
        assert DAY.shift_start <= route.depart and route.back <= DAY.shift_end
        if route.lunch:
            assert DAY.lunch_start <= route.lunch[0] <= DAY.lunch_latest
            assert route.lunch[1] - route.lunch[0] == 3600
            for t in route.stops:
                assert t.end <= route.lunch[0] or t.start >= route.lunch[1]
    assert set(unplanned.values()) <= {solver.NO_TIME, solver.OUTSIDE_HOURS, solver.TOO_FAR}


def test_the_validator_is_not_fooled() -> None:
    """Routes that break a rule, built by hand, each get the right complaint."""
    problem, _ = random_problem(2, 1, seed=3)
    loc = problem.stops[0].location
    leg = int(problem.durations[0, loc])
    good = schedule.RouteTimes(vehicle=0, depart=9 * H, back=10 * H + 2 * leg + 1200)
    good.stops = [schedule.TimedStop(0, 9 * H + leg, 10 * H, 10 * H + 1200, leg, 0)]
    hours = ["08:00-18:00", "08:00-18:00"]
    assert violations(problem, hours, [good]) == []

    def broken(**change: int) -> list[str]:
        stop = schedule.TimedStop(0, 9 * H + leg, 10 * H, 10 * H + 1200, leg, 0)
        route = schedule.RouteTimes(vehicle=0, depart=9 * H, back=10 * H + 2 * leg + 1200)
        for key, value in change.items():
            setattr(stop if hasattr(stop, key) else route, key, value)
        route.stops = [stop]
        return violations(problem, hours, [route])

    assert any(
        "outside opening hours" in p for p in violations(problem, ["10:10-18:00"] * 2, [good])
    )
    assert any("to travel a leg" in p for p in broken(arrival=9 * H + leg // 2))
    assert any("under the service time" in p for p in broken(end=10 * H + 600))
    assert any("before the shift" in p for p in broken(depart=8 * H))
    assert any("after the shift" in p for p in broken(back=18 * H))
    over_lunch = schedule.RouteTimes(vehicle=0, depart=9 * H, back=15 * H)
    over_lunch.stops = [schedule.TimedStop(0, 11 * H, 12 * H + 600, 12 * H + 1800, leg, 0)]
    found = violations(problem, hours, [over_lunch])
    assert any("takes none" in p for p in found)
    over_lunch.lunch = (12 * H, 13 * H)
    assert any("overlaps lunch" in p for p in violations(problem, hours, [over_lunch]))


def test_when_the_day_is_short_the_most_valuable_visits_are_kept() -> None:
    """Forty shops next door to each other and one person: 8 working hours of 20-minute
    visits hold 23 of them; the 17 left out are the least valuable, for want of time."""
    durations, distances = line_matrix([0] + [0.1] * 40)
    stops = [solver.Stop(i + 1, ALL_DAY, prize=1000 * (i + 1)) for i in range(40)]
    problem = solver.Problem(
        day=DAY,
        stops=stops,
        vehicles=[solver.Vehicle(0, 0, DAY.shift_start)],
        durations=durations,
        distances=distances,
    )
    routes, unplanned = solve(problem, seconds=1.0)
    kept = sorted(t.stop for t in routes[0].stops)
    assert len(kept) == 23
    assert kept == list(range(17, 40))
    assert unplanned == {i: solver.NO_TIME for i in range(17)}
    assert violations(problem, ["08:00-18:00"] * 40, routes) == []


def test_reasons_for_shops_no_one_can_visit() -> None:
    durations, distances = line_matrix([0, 1, 400, 3], kmh=40)
    problem = solver.Problem(
        day=DAY,
        stops=[
            solver.Stop(1, ((19 * H, 22 * H),), prize=5000),  # opens after the shift
            solver.Stop(2, ALL_DAY, prize=5000),  # 10 hours' drive each way
            solver.Stop(3, ((8 * H, 8 * H + 1500),), prize=5000),  # closes before anyone arrives
            solver.Stop(1, ALL_DAY, prize=5000),
        ],
        vehicles=[solver.Vehicle(0, 0, DAY.shift_start)],
        durations=durations,
        distances=distances,
    )
    routes, unplanned = solve(problem)
    assert unplanned == {
        0: solver.OUTSIDE_HOURS,
        1: solver.TOO_FAR,
        2: solver.OUTSIDE_HOURS,
    }
    assert [t.stop for t in routes[0].stops] == [3]
    nobody = solver.Problem(DAY, problem.stops, [], durations, distances)
    assert set(solver.solve(nobody, seconds=0.1).unplanned.values()) == {solver.TOO_FAR}


def test_a_visit_may_run_into_lunch_and_lunch_waits_for_it() -> None:
    """A shop open 11:50-12:40 can only be visited 11:50-12:10 (lunch must start by 12:30 and
    nobody eats in the shop): lunch then starts when the visit ends."""
    durations, distances = line_matrix([0, 0.5])
    problem = solver.Problem(
        day=DAY,
        stops=[solver.Stop(1, ((11 * H + 3000, 12 * H + 2400),), prize=50_000)],
        vehicles=[solver.Vehicle(0, 0, DAY.shift_start)],
        durations=durations,
        distances=distances,
    )
    routes, _ = solve(problem)
    visit = routes[0].stops[0]
    assert visit.start == 11 * H + 3000 and visit.end == 12 * H + 600
    assert routes[0].lunch == (12 * H + 600, 13 * H + 600)
    assert violations(problem, ["11:50-12:40"], routes) == []


@pytest.mark.parametrize("latest", [12 * H, 12 * H + 1800])
def test_with_a_strict_lunch_a_shop_open_all_day_gets_two_windows(latest: int) -> None:
    """Lunch at 12:00 sharp leaves no room to run into it: a visit is either done by 12:00 or
    starts after lunch, two windows the solver picks one of (a client group)."""
    day = Day.of((8 * H + 1800, 17 * H + 1800), (12 * H, 13 * H), latest, 1200)
    windows = day.windows([(8 * H, 18 * H)])
    if latest == 12 * H:
        assert windows == [(8 * H + 1800, 11 * H + 2400), (12 * H, 16 * H + 600)]
    else:
        assert windows == [(8 * H + 1800, 16 * H + 600)]
    problem, hours = random_problem(40, 2, seed=5, day=day)
    routes, _ = solve(problem, seconds=0.5)
    assert violations(problem, hours, routes) == []
    assert np.all(problem.durations >= 0)


def test_pyvrp_warnings_go_to_the_log_not_the_user(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """PyVRP warns (PenaltyBoundWarning, a paragraph of English) when a day's required stops do
    not all fit; `fleet demo` printed it on the terminal. The planner keeps it in the log."""
    real = pyvrp.solve

    def warning_solve(*args: object, **kwargs: object) -> pyvrp.Result:
        warnings.warn(
            "A penalty parameter has reached\n   its maximum value.",
            PenaltyBoundWarning,
            stacklevel=2,
        )
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pyvrp, "solve", warning_solve)
    problem, _ = random_problem(5, 1, seed=2)
    with warnings.catch_warnings(record=True) as shown, caplog.at_level(logging.INFO):
        warnings.simplefilter("always")
        solution = solver.solve(problem, seconds=0.2)
    assert solution.routes[0]
    assert shown == []
    assert "PenaltyBoundWarning: A penalty parameter has reached its maximum value." in caplog.text
