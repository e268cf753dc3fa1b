"""Planning a branch's field day: candidates, travel times, routes, checks, and the stored plan.

Re-planning a day keeps the visits already done (with their staff and times): each person
with done visits resumes after the last of them, from that shop; the old plan's other visits
are cancelled, never deleted or renumbered, so a form opened before the re-plan is refused with
the reason instead of recording on another visit.

Planning reads and solves first, and writes last in one short step (`_store`): on SQLite the
write lock is held for milliseconds instead of the solver's seconds, so requests and jobs do
not wait on it. What the write builds on is checked again under the lock; when the day changed
meanwhile (an outcome recorded, someone else's plan of the same day) it is refused with
Conflict and planned again.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from fleet.auth.models import User
from fleet.core.access import Actor, Permission, Role
from fleet.core.config import Settings, get_settings
from fleet.core.db import attempt, utcnow
from fleet.core.errors import Conflict, Invalid, NotFound
from fleet.core.phrases import Phrase, phrase
from fleet.inventory import service as inventory
from fleet.inventory.hours import parse_hours
from fleet.inventory.models import Branch, BranchLevel, Merchant
from fleet.inventory.scope import subtree_ids
from fleet.visits import present, routes, schedule, solver, travel
from fleet.visits.candidates import Candidate, Selection, select_candidates
from fleet.visits.day import Day, hhmm
from fleet.visits.models import Visit, VisitPlan, VisitStatus

# Why units were held back from the candidates (Selection.left_out) -> the note's phrase code.
LEFT_OUT = {
    "visited_recently": "note_left_visited_recently",
    "recovery_requested": "note_left_recovery_requested",
    "planned_elsewhere": "note_left_planned_elsewhere",
    # held off by after-sales (fleet.wiring.HOLDS): an open ticket, or restored lately
    "under_repair": "note_left_under_repair",
}
NO_LOCATION = "no_location"
NO_STAFF = "no_staff"
OVER_CAPACITY = "over_capacity"


def not_planned(counts: Counter[str]) -> Phrase:
    """The note counting the candidates left out, by why (its reason code's words)."""
    return phrase(
        "note_not_planned",
        counts=[
            phrase("note_count", what=phrase(f"unplanned_{code}"), n=n)
            for code, n in sorted(counts.items())
        ],
    )


def require_planner(actor: Actor) -> None:
    """Planning is for branch operations and admins."""
    actor.require(Permission.plan_visits)


@dataclass
class Person:
    user: User
    home: int  # row of the travel matrix
    vehicle: solver.Vehicle
    done: list[Visit]


def _scoped_branch(session: Session, actor: Actor, code: str) -> tuple[Branch, frozenset[int]]:
    branch = inventory.branch_by_code(session, actor, code)
    ids = subtree_ids(session, branch.id or 0)
    return branch, ids if actor.branch_ids is None else ids & actor.branch_ids


# The unplanned list of a big branch holds thousands of candidates: read only when shown
# (a field user's own route never shows it).
_UNPLANNED_LATER = defer(VisitPlan.unplanned)  # type: ignore[arg-type]


def get_plan(session: Session, actor: Actor, *, branch_code: str, plan_date: date) -> VisitPlan:
    """The stored plan of a branch's day; 404 when there is none (or it is out of scope).
    Field staff may also read a plan that routes them when it was drawn up for a branch above
    their own (a county plans its outlets' staff); callers show them their own route only."""
    if actor.role is Role.field:
        routing_me = (
            select(VisitPlan)
            .options(_UNPLANNED_LATER)
            .join(Branch, col(Branch.id) == col(VisitPlan.branch_id))
            .join(Visit, col(Visit.plan_id) == col(VisitPlan.id))
            .where(
                col(Branch.code) == branch_code,
                col(VisitPlan.plan_date) == plan_date,
                col(Visit.staff_id) == actor.user_id,
                col(Visit.status) != VisitStatus.cancelled,
            )
            .limit(1)
        )
        mine = session.execute(routing_me).scalars().first()
        if mine is not None:
            return mine
    branch, _ = _scoped_branch(session, actor, branch_code)
    stmt = (
        select(VisitPlan)
        .options(_UNPLANNED_LATER)
        .where(col(VisitPlan.branch_id) == branch.id, col(VisitPlan.plan_date) == plan_date)
    )
    plan = session.execute(stmt).scalar_one_or_none()
    if plan is None:
        raise NotFound("no visit plan for branch {code} on {day}", code=branch_code, day=plan_date)
    return plan


def _centres(session: Session) -> list[tuple[float, float]]:
    """City and county branches: the urban proxy of the travel estimate (all, if none)."""
    rows = list(session.execute(select(Branch).where(col(Branch.lat).is_not(None))).scalars())
    towns = [b for b in rows if b.level in (BranchLevel.city, BranchLevel.county)] or rows
    return [(b.lat, b.lng) for b in towns if b.lat is not None and b.lng is not None]


def _staff(
    session: Session,
    branch_ids: frozenset[int],
    plan: VisitPlan,
    done: list[Visit],
    limit: int | None,
) -> tuple[list[User], list[Phrase]]:
    """Active field users of the subtree, by username, less those routed by another plan."""
    stmt = (
        select(User)
        .where(
            col(User.role) == Role.field,
            col(User.is_active).is_(True),
            col(User.branch_id).in_(branch_ids),
        )
        .order_by(col(User.username))
    )
    users = list(session.execute(stmt).scalars())
    elsewhere = _busy_staff(session, plan)
    notes: list[Phrase] = []
    if busy := [u.username for u in users if u.id in elsewhere]:
        notes.append(phrase("note_staff_busy", staff=busy))
    free = [u for u in users if u.id not in elsewhere]
    # Whoever has visits done today stays on the plan, whatever the limit.
    done_by = {v.staff_id for v in done}
    first = [u for u in free if u.id in done_by]
    rest = [u for u in free if u.id not in done_by]
    return first + (rest if limit is None else rest[: max(0, limit - len(first))]), notes


def _busy_staff(session: Session, plan: VisitPlan) -> set[int]:
    """Staff routed by another plan of the day."""
    stmt = select(col(Visit.staff_id)).where(
        col(Visit.plan_date) == plan.plan_date,
        col(Visit.plan_id) != (plan.id or 0),
        col(Visit.status) != VisitStatus.cancelled,
    )
    return set(session.execute(stmt).scalars())


def _live_visits(session: Session, plan: VisitPlan) -> frozenset[tuple[int, VisitStatus]]:
    """The plan's visits that are not cancelled, with their status: what a re-plan builds on."""
    if plan.id is None:
        return frozenset()
    stmt = select(col(Visit.id), col(Visit.status)).where(
        col(Visit.plan_id) == plan.id, col(Visit.status) != VisitStatus.cancelled
    )
    return frozenset((visit_id or 0, status) for visit_id, status in session.execute(stmt))


def _busy_terminals(session: Session, plan: VisitPlan) -> set[int]:
    stmt = select(col(Visit.terminal_id)).where(
        col(Visit.plan_date) == plan.plan_date,
        col(Visit.plan_id) != (plan.id or 0),
        col(Visit.status) != VisitStatus.cancelled,
        col(Visit.terminal_id).is_not(None),
    )
    return {t for t in session.execute(stmt).scalars() if t is not None}


class _Points:
    """The travel matrix's rows: each distinct place once."""

    def __init__(self) -> None:
        self.points: list[tuple[float, float]] = []
        self._rows: dict[tuple[float, float], int] = {}

    def row(self, lat: float, lng: float) -> int:
        key = (round(lat, 7), round(lng, 7))
        if key not in self._rows:
            self._rows[key] = len(self.points)
            self.points.append(key)
        return self._rows[key]


def _people(
    session: Session, users: list[User], done: list[Visit], root: Branch, day: Day, pts: _Points
) -> list[Person]:
    """Each person's vehicle: from home, or resuming after their last visit done today."""
    homes = {b.id: b for b in session.execute(select(Branch)).scalars()}
    merchants = {v.merchant_id: session.get(Merchant, v.merchant_id) for v in done}
    people = []
    for user in users:
        home = homes.get(user.branch_id)
        place = home if home and home.lat is not None else root
        if place.lat is None or place.lng is None:
            raise Invalid("branch {code} has no coordinates; routes start there", code=place.code)
        home_row = pts.row(place.lat, place.lng)
        mine = sorted((v for v in done if v.staff_id == user.id), key=lambda v: v.planned_departure)
        start, earliest = home_row, day.shift_start
        if mine:
            last = merchants[mine[-1].merchant_id]
            if last is not None and last.lat is not None and last.lng is not None:
                start = pts.row(last.lat, last.lng)
            resume = present.clock_of(mine[-1].planned_departure)
            # Resuming after midday: lunch is taken before the rest of the day.
            earliest = max(resume, day.lunch_end) if resume > day.lunch_start else resume
            earliest = max(earliest, day.shift_start)
        people.append(Person(user, home_row, solver.Vehicle(start, home_row, earliest), mine))
    return people


class Share(NamedTuple):
    limit: int | None  # candidates offered to the solver; None: all
    capacity: int  # the most visits the people could make


def solver_share(day: Day, people: list[Person], settings: Settings) -> Share:
    """How many candidates, best first, the solver is offered: a few times the most visits the
    people could make (FLEET_REVISIT_CAP_FACTOR; 0: all), never fewer than
    FLEET_REVISIT_CAP_MIN. The travel matrix and the search grow with the candidates (the
    matrix with their square), while a day routes only about a dozen and a half a person."""
    capacity = sum(day.most_visits(p.vehicle.earliest) for p in people)
    factor = settings.revisit_cap_factor
    if factor <= 0:
        return Share(None, capacity)
    return Share(max(settings.revisit_cap_min, math.ceil(factor * capacity)), capacity)


@dataclass
class Prepared:
    """A day ready to route: the plan row, its candidates, people, and the routing problem."""

    plan: VisitPlan
    selection: Selection
    people: list[Person]
    problem: solver.Problem
    placed: list[Candidate]  # per stop of the problem
    picked: list[int]  # per stop: its index in selection.candidates
    reasons: dict[int, str]  # candidate index -> why it is not routed (so far)
    notes: list[Phrase]
    travel_source: str
    # The plan's visits as read (id, status): the store checks under the lock that they are
    # still so, else the day changed while it was being planned.
    seen: frozenset[tuple[int, VisitStatus]] = frozenset()

    @property
    def hours(self) -> list[str]:
        return [c.merchant.opening_hours for c in self.placed]


def prepare(
    session: Session,
    actor: Actor,
    *,
    branch_code: str,
    plan_date: date,
    staff_limit: int | None = None,
    settings: Settings | None = None,
) -> Prepared:
    """Everything up to the solver, reading only: the day's done visits (kept), the candidates
    and staff, and the routing problem of the best of the candidates (solver_share: the rest are
    over capacity). A day planned for the first time gets a plan row that is not stored yet."""
    settings = settings or get_settings()
    require_planner(actor)
    if staff_limit is not None and staff_limit < 1:
        raise Invalid("staff must be at least 1")
    root, branch_ids = _scoped_branch(session, actor, branch_code)
    day = Day.from_settings(settings)
    stmt = select(VisitPlan).where(
        col(VisitPlan.branch_id) == root.id, col(VisitPlan.plan_date) == plan_date
    )
    plan = session.execute(stmt).scalar_one_or_none()
    if plan is None:
        plan = VisitPlan(branch_id=root.id or 0, plan_date=plan_date)
    seen = _live_visits(session, plan)
    done = (
        [v for v in present.plan_visits(session, plan) if v.status is VisitStatus.done]
        if plan.id is not None
        else []
    )
    users, notes = _staff(session, branch_ids, plan, done, staff_limit)
    busy = _busy_terminals(session, plan) | {v.terminal_id for v in done if v.terminal_id}
    selection = select_candidates(
        session, branch_ids=branch_ids, plan_date=plan_date, settings=settings, busy=busy
    )
    notes = selection.notes + notes
    for key, count in sorted(selection.left_out.items()):
        notes.append(phrase(LEFT_OUT[key], count=count, days=settings.revisit_cooldown_days))

    pts = _Points()
    people = _people(session, users, done, root, day, pts)
    share = solver_share(day, people, settings)
    stops: list[solver.Stop] = []
    placed: list[Candidate] = []
    picked: list[int] = []
    reasons: dict[int, str] = {}
    # The candidates come best first (select_candidates), so the solver's share is the top.
    for i, c in enumerate(selection.candidates):
        m = c.merchant
        if m.lat is None or m.lng is None:
            reasons[i] = NO_LOCATION
            continue
        if not people:
            reasons[i] = NO_STAFF
            continue
        if share.limit is not None and len(stops) >= share.limit:
            reasons[i] = OVER_CAPACITY
            continue
        spans = tuple((a * 60, b * 60) for a, b in parse_hours(m.opening_hours))
        prize = max(1, round(c.priority * settings.revisit_prize_m_per_point))
        stops.append(solver.Stop(location=pts.row(m.lat, m.lng), spans=spans, prize=prize))
        placed.append(c)
        picked.append(i)
    if over := sum(r == OVER_CAPACITY for r in reasons.values()):
        notes.append(
            phrase(
                "note_capacity",
                over=over,
                limit=share.limit,
                factor=settings.revisit_cap_factor,
                capacity=share.capacity,
                staff=len(people),
                floor=settings.revisit_cap_min,
            )
        )
    matrix = travel.travel_matrix(pts.points, _centres(session), settings)
    notes.extend(matrix.notes)
    problem = solver.Problem(
        day=day,
        stops=stops,
        vehicles=[p.vehicle for p in people],
        durations=matrix.durations,
        distances=matrix.distances,
        points=pts.points,
    )
    return Prepared(
        plan, selection, people, problem, placed, picked, reasons, notes, matrix.source, seen
    )


def plan_day(
    session: Session,
    actor: Actor,
    *,
    branch_code: str,
    plan_date: date,
    staff_limit: int | None = None,
    seconds: float | None = None,
    settings: Settings | None = None,
) -> VisitPlan:
    """Plans (or re-plans) a branch subtree's field day and stores it."""
    settings = settings or get_settings()
    # A change the caller has pending (an API token's last use) is written with the plan, at
    # the end: flushed by the first read, it would take the write lock through the solve.
    with session.no_autoflush:
        ready = prepare(
            session,
            actor,
            branch_code=branch_code,
            plan_date=plan_date,
            staff_limit=staff_limit,
            settings=settings,
        )
    budget = settings.revisit_solver_seconds if seconds is None else seconds
    routed = routes.route(ready.problem, ready.hours, seconds=budget)
    ready.notes.extend(routed.notes)
    for s, code in routed.unplanned.items():
        ready.reasons[ready.picked[s]] = code
    ready.notes.append(
        phrase(
            "note_solved",
            staff=len(ready.people),
            candidates=len(ready.selection.candidates),
            seconds=round(routed.seconds, 2),
            iterations=routed.iterations,
        )
    )
    _store(session, actor, ready, routed, branch_code)
    return ready.plan


def _changed(code: str, day: date) -> Conflict:
    return Conflict(
        "{code} on {day} changed while it was being planned (an outcome recorded, or another "
        "plan of the day); plan it again",
        code=code,
        day=day,
    )


def _claim(session: Session, ready: Prepared, branch_code: str) -> None:
    """Takes the day for writing, and checks that what the plan was built on still holds: the
    plan's visits are as read, and no other plan took its staff or units meanwhile. The first
    statement writes, so that the checks run under the write lock (SQLite) or the plan row's
    lock (PostgreSQL): two re-plans of a day do not both pass them."""
    plan, day = ready.plan, ready.plan.plan_date
    if plan.id is None:
        try:
            with attempt(session):
                session.add(plan)
                session.flush()
        except IntegrityError:  # planned at this moment by someone else
            raise Conflict(
                "{code} on {day} is being planned; try again", code=branch_code, day=day
            ) from None
    else:
        session.execute(
            update(VisitPlan).where(col(VisitPlan.id) == plan.id).values(created_at=utcnow())
        )
        if _live_visits(session, plan) != ready.seen:
            raise _changed(branch_code, day)
    staff = {p.user.id for p in ready.people}
    units = {c.terminal_id for c in ready.placed if c.terminal_id is not None}
    if staff & _busy_staff(session, plan) or units & _busy_terminals(session, plan):
        raise _changed(branch_code, day)


def _store(
    session: Session, actor: Actor, ready: Prepared, routed: routes.Routed, branch_code: str
) -> None:
    """Writes the plan: cancels the old plan's visits that are not done (their ids stay theirs),
    adds the routes' visits, and stores the totals and the unplanned list."""
    _claim(session, ready, branch_code)
    session.execute(
        update(Visit)
        .where(col(Visit.plan_id) == ready.plan.id, col(Visit.status) == VisitStatus.planned)
        .values(status=VisitStatus.cancelled)
    )
    plan, selection, problem, notes = ready.plan, ready.selection, ready.problem, ready.notes
    placed, reasons = ready.placed, ready.reasons
    day_ = plan.plan_date
    entries, distance, prize_planned = [], 0, 0
    for person, route in zip(ready.people, routed.routes, strict=True):
        seq = max((v.seq for v in person.done), default=0)
        for t in route.stops:
            c, stop = placed[t.stop], problem.stops[t.stop]
            seq += 1
            span = next(((a, b) for a, b in stop.spans if a <= t.start and t.end <= b), None)
            session.add(
                Visit(
                    plan_id=plan.id or 0,
                    plan_date=day_,
                    staff_id=person.user.id or 0,
                    seq=seq,
                    kind=c.kind,
                    terminal_id=c.terminal_id,
                    merchant_id=c.merchant.id or 0,
                    branch_id=c.branch_id,
                    campaign_id=c.campaign_id,
                    follow_up_id=c.follow_up_id,
                    planned_arrival=present.at(day_, t.arrival),
                    planned_start=present.at(day_, t.start),
                    planned_departure=present.at(day_, t.end),
                    time_window=f"{hhmm(span[0])}-{hhmm(span[1])}" if span else "",
                    travel_m=t.travel_m,
                    travel_s=t.travel_s,
                    priority=c.priority,
                    usage_status=c.usage_status,
                    reason=c.reason,
                    why=c.why,
                )
            )
            prize_planned += stop.prize
        entries.append(_route_entry(plan, person, route))
        distance += entries[-1]["distance_m"]
    unplanned = []
    for i, c in enumerate(selection.candidates):
        if i not in reasons:
            continue
        unplanned.append(
            {
                "terminal_id": c.terminal_id,
                "sn": c.sn,
                "merchant_id": c.merchant.id,
                "merchant_code": c.merchant.code,
                "merchant_name": c.merchant.name,
                "kind": c.kind.value,
                "priority": c.priority,
                "reason_code": reasons[i],
                "why": c.why,
            }
        )
    prize_total = sum(s.prize for s in problem.stops)
    counts = Counter(str(u["reason_code"]) for u in unplanned)
    if counts:
        notes.append(not_planned(counts))
    plan.created_at = utcnow()
    plan.created_by_id = actor.user_id
    plan.created_by_name = actor.username
    plan.scores_as_of = selection.scores_as_of
    plan.candidates = len(selection.candidates)
    plan.prize_total = prize_total
    plan.prize_planned = prize_planned
    plan.distance_m = distance
    plan.objective = distance + prize_total - prize_planned
    plan.routes = entries
    plan.unplanned = unplanned
    plan.notes = notes
    plan.travel_source = ready.travel_source
    plan.solver_seconds = round(routed.seconds, 2)
    session.add(plan)
    session.flush()


def _route_entry(plan: VisitPlan, person: Person, route: schedule.RouteTimes) -> dict[str, Any]:
    """A person's totals: the part already done today, and the route planned after it."""
    previous = next((r for r in plan.routes if r["staff_id"] == person.user.id), None)
    depart, lunch = route.depart, route.lunch
    done_m = sum(v.travel_m for v in person.done)
    if person.done:
        first = person.done[0]
        started = present.clock_of(first.planned_arrival) - first.travel_s
        depart = previous["depart"] if previous else started
        if lunch is None and previous and previous.get("lunch_start") is not None:
            lunch = (previous["lunch_start"], previous["lunch_end"])
    back = route.back
    lunch_s = lunch[1] - lunch[0] if lunch else 0
    return {
        "staff_id": person.user.id,
        "depart": depart,
        "back": back,
        "lunch_start": lunch[0] if lunch else None,
        "lunch_end": lunch[1] if lunch else None,
        "distance_m": route.distance_m + done_m,
        "working_s": back - depart - lunch_s,
    }


# What moving a stop between routes (visits.move) builds on, the same as planning.
scoped_branch = _scoped_branch
busy_staff = _busy_staff
Points = _Points
people_of = _people
centres = _centres
route_entry = _route_entry
