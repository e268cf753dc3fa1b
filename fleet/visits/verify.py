"""Re-checks a stored plan from the database alone: every person's whole day (visits done
and planned), against the shops' hours as written, the shift and lunch, with travel times
worked out afresh. For tests, benchmarks and anyone who doubts a plan."""

from __future__ import annotations

from sqlmodel import Session, col, select

from fleet.auth.models import User
from fleet.core.config import Settings, get_settings
from fleet.inventory.models import Branch, BranchLevel, Merchant
from fleet.visits import present, travel
from fleet.visits.day import Day
from fleet.visits.models import Visit, VisitPlan, VisitStatus
from fleet.visits.validate import Call, Rules, check_route


def stored_plan_problems(
    session: Session, plan: VisitPlan, settings: Settings | None = None
) -> list[str]:
    """Every rule a stored plan's routes break, prefixed with the username (empty: none)."""
    settings = settings or get_settings()
    day = Day.from_settings(settings)
    rules = Rules(
        (day.shift_start, day.shift_end),
        (day.lunch_start, day.lunch_end),
        day.lunch_latest,
        day.service_s,
    )
    branches = list(session.execute(select(Branch)).scalars())
    towns = [b for b in branches if b.level in (BranchLevel.city, BranchLevel.county)]
    centres = [(b.lat, b.lng) for b in towns or branches if b.lat is not None and b.lng is not None]
    found: list[str] = []
    for route in plan.routes:
        user = session.get(User, route["staff_id"])
        home = session.get(Branch, user.branch_id) if user else None
        if user is None or home is None or home.lat is None or home.lng is None:
            found.append(f"route of user {route['staff_id']}: no home branch with coordinates")
            continue
        stmt = select(Visit).where(
            col(Visit.plan_id) == plan.id,
            col(Visit.staff_id) == user.id,
            col(Visit.status) != VisitStatus.cancelled,
        )
        visits = list(session.execute(stmt.order_by(col(Visit.seq))).scalars())
        shops = [session.get(Merchant, v.merchant_id) for v in visits]
        points = [(home.lat, home.lng)]
        calls = []
        for v, shop in zip(visits, shops, strict=True):
            if shop is None or shop.lat is None or shop.lng is None:
                found.append(f"{user.username}: visit {v.id} has no place")
                continue
            points.append((shop.lat, shop.lng))
            calls.append(
                Call(
                    len(points) - 1,
                    shop.opening_hours,
                    present.clock_of(v.planned_arrival),
                    present.clock_of(v.planned_start),
                    present.clock_of(v.planned_departure),
                )
            )
        durations = travel.travel_matrix(points, centres, settings).durations
        lunch = (route["lunch_start"], route["lunch_end"]) if route["lunch_start"] else None
        problems = check_route(
            rules,
            durations,
            start=0,
            end=0,
            earliest=day.shift_start,
            depart=route["depart"],
            back=route["back"],
            calls=calls,
            lunch=lunch,
        )
        found.extend(f"{user.username}: {p}" for p in problems)
    return found
