"""The service day (售后日程): a branch's live tickets routed for its service staff.

The tickets that want a visit (open in the branch's pool, or assigned) are routed with the
revisit planner's solver (visits.solver, PyVRP), timed by its schedule and checked by its
independent validator (visits.validate), on the revisit shift and lunch with a visit of
FLEET_SERVICE_VISIT_MINUTES:
- a ticket whose restore deadline falls within the day is a *required* stop with the deadline
  as its time window (the visit ends by then), when someone can reach it in time; one that
  cannot be reached in time, or is late already, is optional with the highest prize (first
  once the required ones are served); one due on a later day is optional, by priority;
- an assigned ticket goes to its assignee only; a pool ticket to any staff member whose
  scope (their branch's subtree; a contractor's technician: the branches it covers) holds it;
- a ticket whose symptom is in FLEET_SERVICE_SWAP_SYMPTOMS is planned as a swap: it takes a
  spare of its own branch (restore refuses any other), so only staff based at that branch can
  serve it, each taking along their share of the branch's in-stock spares (split evenly among
  the branch's staff in the plan): the spares are the vehicles' load.
The plan is stored (ServicePlan, ServiceStop per ticket on a route) only when the validator
finds nothing wrong with any route; re-planning a day replaces its stops.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from fleet.aftersales import contractors
from fleet.aftersales.models import (
    Priority,
    ServicePlan,
    ServiceStop,
    Spare,
    Ticket,
    TicketState,
)
from fleet.auth.models import User
from fleet.core.access import Actor, Permission, Role
from fleet.core.config import Settings, get_settings
from fleet.core.db import attempt, utcnow
from fleet.core.errors import Conflict, NotFound
from fleet.core.names import named
from fleet.core.phrases import Phrase, parts, phrase, word
from fleet.inventory import service as inventory
from fleet.inventory.hours import parse_hours
from fleet.inventory.models import Branch, BranchLevel, Merchant, Terminal, TerminalState
from fleet.inventory.scope import subtree_ids
from fleet.scoring.service import today_local
from fleet.visits import present, routes, schedule, solver, travel
from fleet.visits.day import Day
from fleet.visits.models import VisitKind, VisitStatus
from fleet.visits.plan import Points
from fleet.visits.schemas import PlanPublic, RoutePublic, UnplannedPublic, VisitPublic

ROUTED = (TicketState.open, TicketState.assigned)
PRIZE_M = {Priority.high: 300_000, Priority.normal: 100_000, Priority.low: 50_000}
LATE_FACTOR = 10  # a late ticket (or one that cannot be reached by its deadline) comes first

NO_LOCATION = "no_location"
NO_STAFF = "no_staff"
ASSIGNED_ELSEWHERE = "assigned_elsewhere"
# Why a ticket was left out of the day: each code's words are the phrase "unplanned_<code>"
# (fleet.core.phrases): solver.NO_TIME, OUTSIDE_HOURS, TOO_FAR, NO_GOODS and the three above.


def require_planner(actor: Actor) -> None:
    """Planning a service day is for branch operations and admins (who dispatch tickets)."""
    actor.require(Permission.dispatch_tickets)


def service_day(settings: Settings) -> Day:
    """The revisit shift and lunch, with a visit of FLEET_SERVICE_VISIT_MINUTES."""
    base = Day.from_settings(settings)
    return Day.of(
        (base.shift_start, base.shift_end),
        (base.lunch_start, base.lunch_end),
        base.lunch_latest,
        settings.service_visit_minutes * 60,
    )


@dataclass
class Staffer:
    user: User
    home: Branch
    scope: frozenset[int]  # branches whose pool tickets they may take
    spares: list[str]  # serial numbers of the spares they take along


@dataclass
class Job:
    """A ticket on the way to the solver."""

    ticket: Ticket
    sn: str
    merchant: Merchant
    swap: bool
    due: int | None  # clock seconds on the plan day by which the visit must end
    late: bool


@dataclass
class Prepared:
    plan: ServicePlan
    staff: list[Staffer]
    problem: solver.Problem
    jobs: list[Job]  # per stop of the problem
    hours: list[str]
    dues: list[int | None]
    left: dict[int, tuple[Ticket, str]]  # ticket id -> (ticket, reason) left out before solving
    notes: list[Phrase]
    travel_source: str


def _staff(session: Session, root: Branch, branch_ids: frozenset[int]) -> list[Staffer]:
    """Active service users based in the subtree, and contractors' technicians covering a
    branch of it; each with their scope and their share of their home branch's spares."""
    users = list(
        session.execute(
            select(User)
            .where(col(User.role) == Role.service, col(User.is_active).is_(True))
            .order_by(col(User.username))
        ).scalars()
    )
    homes = {b.id: b for b in session.execute(select(Branch)).scalars()}
    chosen: list[Staffer] = []
    for user in users:
        covered = contractors.covered_for_user(session, user.id)
        own = subtree_ids(session, user.branch_id)
        scope = own if covered is None else covered
        if user.branch_id not in branch_ids and not (covered and covered & branch_ids):
            continue
        home = homes.get(user.branch_id)
        place = home if home is not None and home.lat is not None else root
        chosen.append(Staffer(user, place, scope & branch_ids, []))
    by_branch: dict[int, list[Staffer]] = defaultdict(list)
    for s in chosen:
        by_branch[s.user.branch_id].append(s)
    for branch_id, members in by_branch.items():
        sns = session.execute(
            select(Terminal.sn)
            .join(Spare, col(Spare.terminal_id) == col(Terminal.id))
            .where(col(Spare.branch_id) == branch_id, col(Terminal.state) == TerminalState.in_stock)
            .order_by(col(Terminal.sn))
        ).scalars()
        for n, sn in enumerate(sns):  # split evenly, in turn
            members[n % len(members)].spares.append(sn)
    return chosen


def _centres(session: Session) -> list[tuple[float, float]]:
    rows = list(session.execute(select(Branch).where(col(Branch.lat).is_not(None))).scalars())
    towns = [b for b in rows if b.level in (BranchLevel.city, BranchLevel.county)] or rows
    return [(b.lat, b.lng) for b in towns if b.lat is not None and b.lng is not None]


def _due(ticket: Ticket, plan_date: date, day: Day, settings: Settings) -> tuple[int | None, bool]:
    """The clock time on `plan_date` the visit must end by (None: due on a later day), and
    whether the ticket is late already (its deadline passed before the day's shift starts)."""
    if ticket.restore_by is None:
        return None, False
    when = present.local(ticket.restore_by, settings)
    if when.date() > plan_date:
        return None, False
    if when.date() < plan_date:
        return None, True
    clock = present.clock_of(ticket.restore_by, settings)
    if clock <= day.shift_start + day.service_s:
        return None, True
    return min(clock, day.shift_end), False


def _spans(merchant: Merchant, due: int | None) -> tuple[tuple[int, int], ...]:
    spans = [(a * 60, b * 60) for a, b in parse_hours(merchant.opening_hours)]
    if due is not None:
        spans = [(a, min(b, due)) for a, b in spans if a < min(b, due)]
    return tuple(spans)


def _stop(job: Job, row: int, vehicles: frozenset[int], settings: Settings) -> solver.Stop:
    prize = PRIZE_M[job.ticket.priority] * (LATE_FACTOR if job.late else 1)
    return solver.Stop(
        location=row,
        spans=_spans(job.merchant, job.due),
        prize=prize,
        required=job.due is not None,
        goods=f"spare:{job.ticket.branch_id}" if job.swap else None,
        vehicles=vehicles,
    )


def prepare(
    session: Session,
    actor: Actor,
    *,
    branch_code: str,
    plan_date: date,
    settings: Settings | None = None,
    from_shift_start: bool = False,
) -> Prepared:
    """Everything up to the solver, reading only. Planning today starts the routes now (or
    after lunch, if now is lunch time), unless `from_shift_start`."""
    settings = settings or get_settings()
    require_planner(actor)
    root = inventory.branch_by_code(session, actor, branch_code)
    ids = subtree_ids(session, root.id or 0)
    branch_ids = ids if actor.branch_ids is None else ids & actor.branch_ids
    day = service_day(settings)
    plan = session.execute(
        select(ServicePlan).where(
            col(ServicePlan.branch_id) == root.id, col(ServicePlan.plan_date) == plan_date
        )
    ).scalar_one_or_none() or ServicePlan(branch_id=root.id or 0, plan_date=plan_date)
    staff = _staff(session, root, branch_ids)
    earliest = day.shift_start
    if plan_date == today_local(settings) and not from_shift_start:
        earliest = max(earliest, present.clock_of(utcnow(), settings))
        if day.lunch_start < earliest < day.lunch_end:
            earliest = day.lunch_end
    pts = Points()
    vehicles = []
    for s in staff:
        if s.home.lat is None or s.home.lng is None:
            raise NotFound("branch {code} has no coordinates; routes start there", code=s.home.code)
        home = pts.row(s.home.lat, s.home.lng)
        goods = ((f"spare:{s.user.branch_id}", len(s.spares)),) if s.spares else ()
        vehicles.append(solver.Vehicle(home, home, earliest, goods))
    tickets = list(
        session.execute(
            select(Ticket)
            .where(col(Ticket.state).in_(ROUTED), col(Ticket.branch_id).in_(branch_ids))
            .order_by(col(Ticket.restore_by), col(Ticket.id))
        ).scalars()
    )
    index = {s.user.id: v for v, s in enumerate(staff)}
    swap_symptoms = set(settings.service_swap_symptoms)
    left: dict[int, tuple[Ticket, str]] = {}
    jobs: list[Job] = []
    stops: list[solver.Stop] = []
    for t in tickets:
        merchant = session.get(Merchant, t.merchant_id) if t.merchant_id else None
        unit = session.get(Terminal, t.terminal_id)
        if merchant is None or merchant.lat is None or merchant.lng is None:
            left[t.id or 0] = (t, NO_LOCATION)
            continue
        if t.assignee_id is not None:
            if t.assignee_id not in index:
                left[t.id or 0] = (t, ASSIGNED_ELSEWHERE)
                continue
            allowed = frozenset({index[t.assignee_id]})
        else:
            allowed = frozenset(v for v, s in enumerate(staff) if t.branch_id in s.scope)
        if not allowed:
            left[t.id or 0] = (t, NO_STAFF)
            continue
        due, late = _due(t, plan_date, day, settings)
        job = Job(t, unit.sn if unit else "", merchant, t.symptom.value in swap_symptoms, due, late)
        jobs.append(job)
        stops.append(_stop(job, pts.row(merchant.lat, merchant.lng), allowed, settings))
    matrix = travel.travel_matrix(pts.points, _centres(session), settings)
    problem = solver.Problem(
        day=day,
        stops=stops,
        vehicles=vehicles,
        durations=matrix.durations,
        distances=matrix.distances,
        points=pts.points,
    )
    notes = list(matrix.notes)
    # A ticket due today that no one can reach by its deadline is late: served as early as
    # the day allows, first among the optional ones.
    behind = 0
    for i, job in enumerate(jobs):
        why = solver.reachable(problem, i) if job.due is not None else None
        if why in (solver.OUTSIDE_HOURS, solver.TOO_FAR):
            job.due, job.late = None, True
            prize = PRIZE_M[job.ticket.priority] * LATE_FACTOR
            spans = _spans(job.merchant, None)
            stops[i] = replace(stops[i], spans=spans, required=False, prize=prize)
            behind += 1
    if behind:
        notes.append(phrase("note_tickets_late", n=behind))
    for s in staff:
        if s.spares:
            # the person by name, the username after (core.names), as every page shows people
            who = named(s.user.full_name, s.user.username)
            notes.append(phrase("note_spares", user=who, n=len(s.spares), spares=s.spares))
    return Prepared(
        plan,
        staff,
        problem,
        jobs,
        [j.merchant.opening_hours for j in jobs],
        [j.due for j in jobs],
        left,
        notes,
        matrix.source,
    )


def plan_service_day(
    session: Session,
    actor: Actor,
    *,
    branch_code: str,
    plan_date: date,
    seconds: float | None = None,
    settings: Settings | None = None,
    from_shift_start: bool = False,
) -> ServicePlan:
    """Plans (or re-plans) a branch subtree's service day and stores it (today's from now,
    unless `from_shift_start`)."""
    settings = settings or get_settings()
    with session.no_autoflush:
        ready = prepare(
            session,
            actor,
            branch_code=branch_code,
            plan_date=plan_date,
            settings=settings,
            from_shift_start=from_shift_start,
        )
    budget = settings.service_solver_seconds if seconds is None else seconds
    routed = routes.route(ready.problem, ready.hours, seconds=budget, dues=ready.dues)
    ready.notes.extend(routed.notes)
    required = sum(s.required for s in ready.problem.stops)
    ready.notes.append(
        phrase(
            "note_service_solved",
            staff=len(ready.staff),
            tickets=len(ready.jobs) + len(ready.left),
            due=required,
            seconds=round(routed.seconds, 2),
            iterations=routed.iterations,
        )
    )
    _store(session, actor, ready, routed)
    return ready.plan


def _claim(session: Session, plan: ServicePlan, branch_code: str) -> None:
    if plan.id is None:
        try:
            with attempt(session):
                session.add(plan)
                session.flush()
        except IntegrityError:
            raise Conflict(
                "{code} on {day} is being planned; try again", code=branch_code, day=plan.plan_date
            ) from None
    else:
        session.execute(
            update(ServicePlan).where(col(ServicePlan.id) == plan.id).values(created_at=utcnow())
        )


def _store(session: Session, actor: Actor, ready: Prepared, routed: routes.Routed) -> None:
    plan = ready.plan
    branch = session.get(Branch, plan.branch_id)
    _claim(session, plan, branch.code if branch else "?")
    session.execute(delete(ServiceStop).where(col(ServiceStop.plan_id) == plan.id))
    day_ = plan.plan_date
    entries: list[dict[str, Any]] = []
    distance = 0
    for staffer, route in zip(ready.staff, routed.routes, strict=True):
        swaps = 0
        for seq, t in enumerate(route.stops, 1):
            job = ready.jobs[t.stop]
            swaps += job.swap
            session.add(
                ServiceStop(
                    plan_id=plan.id or 0,
                    plan_date=day_,
                    staff_id=staffer.user.id or 0,
                    seq=seq,
                    ticket_id=job.ticket.id or 0,
                    planned_arrival=present.at(day_, t.arrival),
                    planned_start=present.at(day_, t.start),
                    planned_departure=present.at(day_, t.end),
                    travel_m=t.travel_m,
                    travel_s=t.travel_s,
                    swap=job.swap,
                    due=job.ticket.restore_by,
                )
            )
        entries.append(_route_entry(staffer, route, swaps))
        distance += route.distance_m
    unplanned = [
        {"ticket_id": ticket.id, "reason_code": reason} for ticket, reason in ready.left.values()
    ]
    unplanned += [
        {"ticket_id": ready.jobs[s].ticket.id, "reason_code": code}
        for s, code in sorted(routed.unplanned.items())
    ]
    plan.created_at = utcnow()
    plan.created_by_id = actor.user_id
    plan.created_by_name = actor.username
    plan.travel_source = ready.travel_source
    plan.solver_seconds = round(routed.seconds, 2)
    plan.tickets = len(ready.jobs) + len(ready.left)
    plan.distance_m = distance
    plan.notes = ready.notes
    plan.routes = entries
    plan.unplanned = unplanned
    session.add(plan)
    session.flush()


def _route_entry(staffer: Staffer, route: schedule.RouteTimes, swaps: int) -> dict[str, Any]:
    lunch = route.lunch
    return {
        "staff_id": staffer.user.id,
        "depart": route.depart,
        "back": route.back,
        "lunch_start": lunch[0] if lunch else None,
        "lunch_end": lunch[1] if lunch else None,
        "distance_m": route.distance_m,
        "working_s": route.working_s,
        "spares": staffer.spares[:swaps],
    }


# --- reading a stored plan --------------------------------------------------------------------


def get_plan(session: Session, actor: Actor, *, branch_code: str, plan_date: date) -> ServicePlan:
    """The stored service day of a branch; 404 when there is none (or it is out of scope)."""
    actor.require(Permission.read_tickets)
    branch = inventory.branch_by_code(session, actor, branch_code)
    plan = session.execute(
        select(ServicePlan).where(
            col(ServicePlan.branch_id) == branch.id, col(ServicePlan.plan_date) == plan_date
        )
    ).scalar_one_or_none()
    if plan is None:
        raise NotFound(
            "no service plan for branch {code} on {day}", code=branch_code, day=plan_date
        )
    return plan


def service_day_order(session: Session, staff_id: int, day: date) -> list[int]:
    """The ticket ids of `staff_id`'s route on `day`, in route order, from the latest stored
    plan that routes them (empty when none does). Reads only; who may see it is the caller's
    check (the service phone page shows a staff member their own day)."""
    latest = session.execute(
        select(ServiceStop.plan_id)
        .join(ServicePlan, col(ServicePlan.id) == col(ServiceStop.plan_id))
        .where(col(ServiceStop.plan_date) == day, col(ServiceStop.staff_id) == staff_id)
        .order_by(col(ServicePlan.created_at).desc(), col(ServicePlan.id).desc())
        .limit(1)
    ).scalar()
    if latest is None:
        return []
    return list(
        session.execute(
            select(ServiceStop.ticket_id)
            .where(col(ServiceStop.plan_id) == latest, col(ServiceStop.staff_id) == staff_id)
            .order_by(col(ServiceStop.seq))
        ).scalars()
    )


def plan_stops(session: Session, plan: ServicePlan) -> list[ServiceStop]:
    return list(
        session.execute(
            select(ServiceStop)
            .where(col(ServiceStop.plan_id) == plan.id)
            .order_by(col(ServiceStop.staff_id), col(ServiceStop.seq))
        ).scalars()
    )


def _reason(ticket: Ticket) -> Phrase:
    """The ticket and its symptom, in words where shown."""
    return phrase("service_ticket", ticket=ticket.id, symptom=word("symptom", ticket.symptom))


def plan_public(session: Session, plan: ServicePlan, *, staff_id: int | None = None) -> PlanPublic:
    """The plan in the revisit plan's shape, so that its outputs (XLSX, CSV, JSON, the
    printable page, the route map) serve the service day too. `staff_id`: that route only."""
    settings = get_settings()
    branch = session.get(Branch, plan.branch_id)
    stops = [s for s in plan_stops(session, plan) if staff_id is None or s.staff_id == staff_id]
    ticket_ids = {s.ticket_id for s in stops} | {u["ticket_id"] for u in plan.unplanned}
    tickets = {
        t.id: t
        for t in session.execute(select(Ticket).where(col(Ticket.id).in_(ticket_ids))).scalars()
    }
    merchant_ids = {t.merchant_id for t in tickets.values()}
    merchants = {
        m.id: m
        for m in session.execute(
            select(Merchant).where(col(Merchant.id).in_(merchant_ids))
        ).scalars()
    }
    units = {
        u.id: u
        for u in session.execute(
            select(Terminal).where(col(Terminal.id).in_({t.terminal_id for t in tickets.values()}))
        ).scalars()
    }
    users = {u.id: u for u in session.execute(select(User)).scalars()}
    homes = {b.id: b for b in session.execute(select(Branch)).scalars()}
    by_staff: dict[int, list[VisitPublic]] = defaultdict(list)
    for s in stops:
        t = tickets[s.ticket_id]
        m = merchants.get(t.merchant_id)
        unit = units.get(t.terminal_id)
        due = present.local(s.due, settings).strftime("%m-%d %H:%M") if s.due else ""
        by_staff[s.staff_id].append(
            VisitPublic(
                visit_id=t.id or 0,
                plan_date=plan.plan_date,
                staff_id=s.staff_id,
                staff_username=users[s.staff_id].username if s.staff_id in users else None,
                seq=s.seq,
                kind=VisitKind.service,
                status=VisitStatus.planned,
                terminal_id=t.terminal_id,
                sn=unit.sn if unit else None,
                merchant_id=t.merchant_id or 0,
                merchant_code=m.code if m else "",
                merchant_name=m.name if m else "",
                address=m.address if m else None,
                contact_name=m.contact_name if m else None,
                phone=m.phone if m else None,
                lat=m.lat if m else None,
                lng=m.lng if m else None,
                arrival=present.local(s.planned_arrival, settings),
                start=present.local(s.planned_start, settings),
                departure=present.local(s.planned_departure, settings),
                window=m.opening_hours if m else "",
                travel_km=round(s.travel_m / 1000, 2),
                priority=float(PRIZE_M[t.priority] // 1000),
                reason={"ticket_id": t.id, "symptom": t.symptom.value, "swap": s.swap},
                why=parts(
                    _reason(t),
                    phrase("service_swap") if s.swap else None,
                    phrase("service_due", due=due) if due else None,
                ),
                nav_amap=present.amap_link(m.lat, m.lng, m.name)
                if m and m.lat is not None and m.lng is not None
                else None,
                nav_geo=present.geo_link(m.lat, m.lng, m.name)
                if m and m.lat is not None and m.lng is not None
                else None,
                opening_hours=m.opening_hours if m else None,
            )
        )

    def when(seconds: int | None) -> datetime | None:
        return None if seconds is None else present.local(present.at(plan.plan_date, seconds))

    shown_routes = []
    for r in plan.routes:
        if staff_id is not None and r["staff_id"] != staff_id:
            continue
        user = users.get(r["staff_id"])
        home = homes.get(user.branch_id) if user else None
        shown_routes.append(
            RoutePublic(
                staff_id=r["staff_id"],
                username=user.username if user else "?",
                full_name=user.full_name if user else "",
                home_branch_code=home.code if home else None,
                home_lat=home.lat if home else None,
                home_lng=home.lng if home else None,
                depart=when(r["depart"]),
                back=when(r["back"]),
                lunch_start=when(r["lunch_start"]),
                lunch_end=when(r["lunch_end"]),
                distance_km=round(r["distance_m"] / 1000, 2),
                working_minutes=r["working_s"] // 60,
                stops=by_staff.get(r["staff_id"], []),
            )
        )
    unplanned = []
    for u in plan.unplanned if staff_id is None else []:
        t = tickets.get(u["ticket_id"])
        if t is None:
            continue
        m = merchants.get(t.merchant_id)
        unit = units.get(t.terminal_id)
        unplanned.append(
            UnplannedPublic(
                terminal_id=t.terminal_id,
                sn=unit.sn if unit else None,
                merchant_id=t.merchant_id or 0,
                merchant_code=m.code if m else "",
                merchant_name=m.name if m else "",
                kind=VisitKind.service,
                priority=float(PRIZE_M[t.priority] // 1000),
                reason_code=u["reason_code"],
                why=parts(_reason(t)),
            )
        )
    planned = sum(len(r.stops) for r in shown_routes)
    return PlanPublic(
        id=plan.id or 0,
        branch_code=branch.code if branch else "",
        branch_name=branch.name if branch else "",
        date=plan.plan_date,
        created_at=plan.created_at,
        created_by=plan.created_by_name,
        scores_as_of=None,
        travel_source=plan.travel_source,
        solver_seconds=plan.solver_seconds,
        candidates=plan.tickets,
        planned=planned,
        prize_total=0,
        prize_planned=0,
        distance_km=round(sum(r.distance_km for r in shown_routes), 2),
        objective=plan.distance_m,
        notes=present.notes_said(plan.notes),
        note_phrases=plan.notes,
        routes=shown_routes,
        unplanned=unplanned,
    )


def my_day(session: Session, actor: Actor, day: date) -> PlanPublic | None:
    """The caller's own route of `day` from the latest plan that routes them (None: none)."""
    actor.require(Permission.read_tickets)
    if actor.user_id is None:
        return None
    latest = session.execute(
        select(ServicePlan)
        .join(ServiceStop, col(ServiceStop.plan_id) == col(ServicePlan.id))
        .where(col(ServiceStop.plan_date) == day, col(ServiceStop.staff_id) == actor.user_id)
        .order_by(col(ServicePlan.created_at).desc(), col(ServicePlan.id).desc())
        .limit(1)
    ).scalar()
    if latest is None:
        return None
    return plan_public(session, latest, staff_id=actor.user_id)
