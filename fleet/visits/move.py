"""Moving a planned stop from one field officer's route to another's, within a day's plan.

The receiving route takes the stop where it adds the least driving among the places that keep
every rule: each way is timed by the schedule (schedule.time_route) and checked by the
independent validator (routes.problems_of), as the planner's routes are; the giving route is
timed again without it. Both routes' visits get their new order and times, the plan its new
totals, and the move is audited. Visits keep their ids; done visits do not move.

Like planning, it reads and works out the routes first and writes last.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from fleet.auth.models import User
from fleet.core import audit
from fleet.core.access import Actor, Role
from fleet.core.config import Settings, get_settings
from fleet.core.errors import Conflict, Invalid, NotFound
from fleet.inventory.hours import parse_hours
from fleet.inventory.models import Branch, Merchant
from fleet.visits import plan as planning
from fleet.visits import present, routes, schedule, solver, travel
from fleet.visits.day import Day, hhmm
from fleet.visits.models import Visit, VisitPlan, VisitStatus


def officers(session: Session, actor: Actor, plan: VisitPlan) -> list[User]:
    """The field officers a stop of `plan` may move to: active, of the plan's branches."""
    branch = session.get(Branch, plan.branch_id)
    if branch is None:
        raise NotFound("branch {key} not found", key=plan.branch_id)
    _, branch_ids = planning.scoped_branch(session, actor, branch.code)
    stmt = (
        select(User)
        .where(
            col(User.role) == Role.field,
            col(User.is_active).is_(True),
            col(User.branch_id).in_(branch_ids),
        )
        .order_by(col(User.username))
    )
    busy = planning.busy_staff(session, plan)
    return [u for u in session.execute(stmt).scalars() if u.id not in busy]


def move_stop(
    session: Session,
    actor: Actor,
    visit_id: int,
    to_staff_id: int,
    *,
    settings: Settings | None = None,
) -> Visit:
    """Moves a planned visit to another field officer of the same plan's branches."""
    settings = settings or get_settings()
    planning.require_planner(actor)
    visit = session.get(Visit, visit_id)
    plan = session.get(VisitPlan, visit.plan_id) if visit else None
    branch = session.get(Branch, plan.branch_id) if plan else None
    if visit is None or plan is None or branch is None:
        raise NotFound("visit {visit_id} not found", visit_id=visit_id)
    root, _ = planning.scoped_branch(session, actor, branch.code)  # 404 outside the actor's
    if visit.status is not VisitStatus.planned:
        raise Conflict(
            "visit {visit_id} is {status}; only a planned visit moves",
            visit_id=visit_id,
            status=visit.status,
        )
    giver = session.get(User, visit.staff_id)
    taker = next((u for u in officers(session, actor, plan) if u.id == to_staff_id), None)
    if taker is None or giver is None or taker.id == giver.id:
        raise Invalid("choose another field officer of this plan's branches")

    with session.no_autoflush:
        stmt = select(Visit).where(
            col(Visit.plan_id) == plan.id,
            col(Visit.staff_id).in_([giver.id, taker.id]),
            col(Visit.status) != VisitStatus.cancelled,
        )
        visits = sorted(session.execute(stmt).scalars(), key=lambda v: v.seq)
        done = [v for v in visits if v.status is VisitStatus.done]
        day = Day.from_settings(settings)
        points = planning.Points()
        people = planning.people_of(session, [giver, taker], done, root, day, points)
        planned = [v for v in visits if v.status is VisitStatus.planned]
        merchants = {v.merchant_id: session.get(Merchant, v.merchant_id) for v in planned}
        stops, hours = [], []
        for v in planned:
            m = merchants[v.merchant_id]
            if m is None or m.lat is None or m.lng is None:
                raise Conflict("merchant {key} has no coordinates", key=v.merchant_id)
            spans = tuple((a * 60, b * 60) for a, b in parse_hours(m.opening_hours))
            stops.append(solver.Stop(location=points.row(m.lat, m.lng), spans=spans, prize=1))
            hours.append(m.opening_hours)
        matrix = travel.travel_matrix(points.points, planning.centres(session), settings)
        problem = solver.Problem(
            day=day,
            stops=stops,
            vehicles=[p.vehicle for p in people],
            durations=matrix.durations,
            distances=matrix.distances,
            points=points.points,
        )
        moved = next(i for i, v in enumerate(planned) if v.id == visit.id)
        given = [i for i, v in enumerate(planned) if v.staff_id == giver.id and i != moved]
        taken = [i for i, v in enumerate(planned) if v.staff_id == taker.id]
        best: schedule.RouteTimes | None = None
        for place in range(len(taken) + 1):
            timed = schedule.time_route(problem, 1, [*taken[:place], moved, *taken[place:]])
            if not isinstance(timed, schedule.RouteTimes):
                continue
            if routes.problems_of(problem, hours, timed):
                continue
            if best is None or timed.distance_m < best.distance_m:
                best = timed
        if best is None:
            raise Conflict(
                "the visit does not fit into {name}'s day (shop hours, shift or lunch)",
                name=taker.full_name or taker.username,
            )
        rest = schedule.time_route(problem, 0, given)
        if not isinstance(rest, schedule.RouteTimes):  # cannot happen: fewer stops, same times
            raise Conflict("the route of {name} could not be timed again", name=giver.username)

    for person, route in ((people[0], rest), (people[1], best)):
        seq = max((v.seq for v in person.done), default=0)
        for t in route.stops:
            v, stop = planned[t.stop], problem.stops[t.stop]
            seq += 1
            span = next(((a, b) for a, b in stop.spans if a <= t.start and t.end <= b), None)
            v.staff_id = person.user.id or 0
            v.seq = seq
            v.planned_arrival = present.at(plan.plan_date, t.arrival)
            v.planned_start = present.at(plan.plan_date, t.start)
            v.planned_departure = present.at(plan.plan_date, t.end)
            v.time_window = f"{hhmm(span[0])}-{hhmm(span[1])}" if span else ""
            v.travel_m, v.travel_s = t.travel_m, t.travel_s
            session.add(v)
    entries = {e["staff_id"]: e for e in plan.routes}
    for person, route in ((people[0], rest), (people[1], best)):
        entries[person.user.id] = planning.route_entry(plan, person, route)
    plan.routes = list(entries.values())
    plan.distance_m = sum(e["distance_m"] for e in plan.routes)
    session.add(plan)
    audit.record(
        session,
        actor=actor,
        action="move",
        entity="visit",
        entity_id=visit.id,
        branch_id=visit.branch_id,
        changes={"staff": [giver.username, taker.username], "seq": visit.seq},
    )
    session.flush()
    return visit
