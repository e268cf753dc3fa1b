"""Stored plans and visits in their public shape, with navigation links, for API and exports."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlmodel import Session, SQLModel, col, select

from fleet.auth.models import User
from fleet.core.config import Settings, get_settings
from fleet.core.geo import Datum, from_wgs84
from fleet.core.i18n import texts_for
from fleet.core.phrases import Phrase, say
from fleet.inventory.models import Branch, Merchant, Terminal
from fleet.visits.models import Visit, VisitPlan, VisitStatus
from fleet.visits.schemas import (
    PlanPublic,
    ProofPublic,
    RoutePublic,
    UnplannedPublic,
    VisitPublic,
)

M = TypeVar("M", bound=SQLModel)
# Why a candidate was left out of the day: each code's words are the phrase "unplanned_<code>".
UNPLANNED = ("no_time", "outside_hours", "too_far", "no_location", "no_staff", "over_capacity")


def zone(settings: Settings | None = None) -> ZoneInfo:
    """The bank's time zone (FLEET_FEED_TIMEZONE)."""
    return ZoneInfo((settings or get_settings()).feed_timezone)


def at(day: date, seconds: int, settings: Settings | None = None) -> datetime:
    """The UTC instant of `seconds` after local midnight on `day`."""
    local = datetime.combine(day, time(0), tzinfo=zone(settings)) + timedelta(seconds=seconds)
    return local.astimezone(UTC)


def local(instant: datetime, settings: Settings | None = None) -> datetime:
    """An instant in the bank's time zone."""
    return instant.astimezone(zone(settings))


def clock_of(instant: datetime, settings: Settings | None = None) -> int:
    """Seconds after local midnight of `instant`."""
    moment = local(instant, settings)
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def amap_link(lat: float, lng: float, name: str) -> str:
    """An AMap/Gaode navigation link to the place, by car from where the phone is (the AMap
    app opens at the route, not at a marker). AMap reads GCJ-02, so the stored WGS-84 point is
    shifted; the name is encoded, commas and all, since `to` is comma-separated."""
    glat, glng = from_wgs84(lat, lng, Datum.gcj02)
    return (
        f"https://uri.amap.com/navigation?to={glng:.6f},{glat:.6f},{quote(name, safe='')}"
        "&mode=car&src=fleet&coordinate=gaode&callnative=1"
    )


def amap_marker(lat: float, lng: float, name: str) -> str:
    """An AMap/Gaode link that shows a place (not a route to it), shifted to GCJ-02."""
    glat, glng = from_wgs84(lat, lng, Datum.gcj02)
    return (
        f"https://uri.amap.com/marker?position={glng:.6f},{glat:.6f}"
        f"&name={quote(name)}&coordinate=gaode&callnative=1"
    )


def geo_link(lat: float, lng: float, name: str) -> str:
    """An RFC 5870 geo: URI (WGS-84), which Android hands to any map app."""
    return f"geo:{lat:.6f},{lng:.6f}?q={lat:.6f},{lng:.6f}({quote(name)})"


def visits_public(session: Session, visits: list[Visit]) -> list[VisitPublic]:
    """Visits with their terminal, merchant, staff and navigation links, in one query each."""
    merchants = _by_id(session, Merchant, {v.merchant_id for v in visits})
    terminals = _by_id(session, Terminal, {v.terminal_id for v in visits})
    staff = _by_id(session, User, {v.staff_id for v in visits})
    shown: list[VisitPublic] = []
    for v in visits:
        m = merchants[v.merchant_id]
        t = terminals.get(v.terminal_id or 0)
        here = (m.lat, m.lng) if m.lat is not None and m.lng is not None else None
        shown.append(
            VisitPublic(
                visit_id=v.id or 0,
                plan_date=v.plan_date,
                staff_id=v.staff_id,
                staff_username=staff[v.staff_id].username if v.staff_id in staff else None,
                seq=v.seq,
                kind=v.kind,
                status=v.status,
                terminal_id=v.terminal_id,
                sn=t.sn if t else None,
                merchant_id=m.id or 0,
                merchant_code=m.code,
                merchant_name=m.name,
                address=m.address,
                contact_name=m.contact_name,
                phone=m.phone,
                lat=m.lat,
                lng=m.lng,
                arrival=local(v.planned_arrival),
                start=local(v.planned_start),
                departure=local(v.planned_departure),
                window=v.time_window,
                travel_km=round(v.travel_m / 1000, 2),
                priority=v.priority,
                reason=v.reason,
                why=v.why,
                nav_amap=amap_link(*here, m.name) if here else None,
                nav_geo=geo_link(*here, m.name) if here else None,
                outcome=v.outcome,
                note=v.note,
                follow_up_on=v.follow_up_on,
                next_steps=v.next_steps,
                opening_hours=m.opening_hours,
                recorded_at=local(v.recorded_at) if v.recorded_at else None,
                proof=proof_public(v),
            )
        )
    return shown


def proof_public(visit: Visit) -> ProofPublic | None:
    """The visit's proof of presence; None when no location was shared."""
    if visit.proof_lat is None or visit.proof_lng is None:
        return None
    return ProofPublic(
        lat=visit.proof_lat,
        lng=visit.proof_lng,
        accuracy_m=visit.proof_accuracy_m,
        distance_m=visit.proof_distance_m,
        flagged=visit.proof_flagged,
    )


def _by_id(session: Session, model: type[M], ids: set[int | None]) -> dict[int, M]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    # M is any table: its id column is not part of SQLModel's declared type.
    key = getattr(model, "id")  # noqa: B009
    rows = session.execute(select(model).where(key.in_(wanted))).scalars()
    return {getattr(row, "id"): row for row in rows}  # noqa: B009


def plan_visits(session: Session, plan: VisitPlan) -> list[Visit]:
    """The plan's visits by staff member, in route order (not those re-planned away)."""
    stmt = select(Visit).where(
        col(Visit.plan_id) == plan.id, col(Visit.status) != VisitStatus.cancelled
    )
    return list(session.execute(stmt.order_by(col(Visit.staff_id), col(Visit.seq))).scalars())


def plan_public(session: Session, plan: VisitPlan, *, staff_id: int | None = None) -> PlanPublic:
    """The stored plan: routes in staff order, stops in visiting order, and what was left out.
    With `staff_id`, only that person's route (and nothing of the unplanned)."""
    visits = plan_visits(session, plan)
    if staff_id is not None:  # one person's route: present only their stops
        visits = [v for v in visits if v.staff_id == staff_id]
    stops = visits_public(session, visits)
    by_staff: dict[int, list[VisitPublic]] = defaultdict(list)
    for stop in stops:
        by_staff[stop.staff_id].append(stop)
    entries = [r for r in plan.routes if staff_id is None or r["staff_id"] == staff_id]
    users = _by_id(session, User, {r["staff_id"] for r in entries})
    homes = _by_id(session, Branch, {u.branch_id for u in users.values()})
    routes: list[RoutePublic] = []
    for r in entries:
        user = users[r["staff_id"]]
        home = homes.get(user.branch_id)

        def when(key: str, r: dict[str, Any] = r) -> datetime | None:
            value = r.get(key)
            return None if value is None else local(at(plan.plan_date, int(value)))

        routes.append(
            RoutePublic(
                staff_id=r["staff_id"],
                username=user.username,
                full_name=user.full_name,
                home_branch_code=home.code if home else None,
                home_lat=home.lat if home else None,
                home_lng=home.lng if home else None,
                depart=when("depart"),
                back=when("back"),
                lunch_start=when("lunch_start"),
                lunch_end=when("lunch_end"),
                distance_km=round(r["distance_m"] / 1000, 2),
                working_minutes=int(r["working_s"]) // 60,
                stops=by_staff.get(r["staff_id"], []),
            )
        )
    branch = session.get(Branch, plan.branch_id)
    unplanned = [] if staff_id is not None else [UnplannedPublic(**u) for u in plan.unplanned]
    return PlanPublic(
        id=plan.id or 0,
        branch_code=branch.code if branch else "",
        branch_name=branch.name if branch else "",
        date=plan.plan_date,
        created_at=local(plan.created_at),
        created_by=plan.created_by_name,
        scores_as_of=plan.scores_as_of,
        travel_source=plan.travel_source,
        solver_seconds=plan.solver_seconds,
        candidates=plan.candidates,
        planned=sum(len(r.stops) for r in routes),
        prize_total=plan.prize_total,
        prize_planned=plan.prize_planned,
        distance_km=round(plan.distance_m / 1000, 2),
        objective=plan.objective,
        notes=notes_said(plan.notes),
        note_phrases=plan.notes,
        routes=routes,
        unplanned=unplanned,
    )


def notes_said(notes: list[Phrase], lang: str = "en") -> list[str]:
    """A plan's notes (phrases) in words: English for the API, the reader's language elsewhere."""
    t = texts_for(lang)
    return [say(note, t) for note in notes]
