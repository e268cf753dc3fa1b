"""From a routing problem to checked routes: solve, put on the clock, validate independently.

The validator should never object to a route the solver and the schedule produce; if it
does, the plan says so in its notes and the route loses its last stop until it passes, so a
stored plan never breaks a rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fleet.core.phrases import Phrase, phrase
from fleet.visits import schedule, solver
from fleet.visits.validate import Call, Rules, check_route


@dataclass
class Routed:
    routes: list[schedule.RouteTimes]  # one per vehicle, in vehicle order
    unplanned: dict[int, str]  # stop -> reason code
    seconds: float = 0.0
    iterations: int = 0
    notes: list[Phrase] = field(default_factory=list)

    def objective(self, problem: solver.Problem) -> int:
        """Metres driven plus the prizes of the stops left out: what the solver minimises."""
        visited = {t.stop for r in self.routes for t in r.stops}
        missed = sum(s.prize for i, s in enumerate(problem.stops) if i not in visited)
        return sum(r.distance_m for r in self.routes) + missed


def rules_of(problem: solver.Problem) -> Rules:
    """The validator's rules of the problem's day."""
    day = problem.day
    return Rules(
        shift=(day.shift_start, day.shift_end),
        lunch=(day.lunch_start, day.lunch_end),
        lunch_latest=day.lunch_latest,
        service_s=day.service_s,
    )


def problems_of(
    problem: solver.Problem,
    hours: list[str],
    route: schedule.RouteTimes,
    dues: list[int | None] | None = None,
) -> list[str]:
    """What the independent validator finds wrong with one route (`hours`: per stop, as
    written on the merchant; `dues`: per stop, the clock time its visit must end by)."""
    v = problem.vehicles[route.vehicle]
    calls = [
        Call(
            problem.stops[t.stop].location,
            hours[t.stop],
            t.arrival,
            t.start,
            t.end,
            due=dues[t.stop] if dues else None,
            goods=problem.stops[t.stop].goods,
            only=problem.stops[t.stop].vehicles,
        )
        for t in route.stops
    ]
    return check_route(
        rules_of(problem),
        problem.durations,
        start=v.start,
        end=v.end,
        earliest=v.earliest,
        depart=route.depart,
        back=route.back,
        calls=calls,
        lunch=route.lunch,
        who=route.vehicle,
        carrying=dict(v.goods),
    )


def route(
    problem: solver.Problem,
    hours: list[str],
    *,
    seconds: float,
    seed: int = 1,
    dues: list[int | None] | None = None,
) -> Routed:
    """Solved, timed and validated routes for every vehicle, and the stops left out."""
    solution = solver.solve(problem, seconds=seconds, seed=seed)
    timed, dropped = schedule.time_routes(problem, solution.routes)
    unplanned = dict(solution.unplanned) | {s: solver.NO_TIME for s in dropped}
    routed = Routed([], unplanned, solution.seconds, solution.iterations)
    if solution.relaxed:
        routed.notes.append(phrase("note_relaxed"))
    for timed_route in timed:
        current = timed_route
        while problems := problems_of(problem, hours, current, dues):
            if not current.stops:
                # (the validator's findings are the developers' English: it never objects)
                routed.notes.extend(phrase("note_route_check", problem=p) for p in problems)
                break
            routed.notes.append(phrase("note_route_check_dropped", problem=problems[0]))
            order = [t.stop for t in current.stops]
            unplanned[order.pop()] = solver.NO_TIME
            again = schedule.time_route(problem, current.vehicle, order)
            if not isinstance(again, schedule.RouteTimes):
                unplanned.update({s: solver.NO_TIME for s in order})
                again = schedule.time_route(problem, current.vehicle, [])
                assert isinstance(again, schedule.RouteTimes)
            current = again
        routed.routes.append(current)
    return routed
