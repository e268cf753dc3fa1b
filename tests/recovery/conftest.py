"""A small region with hand-built histories for the recovery rules, and signed-in users.

    LY (city) ── A (county) ── A1: market MKA (hardware), merchants MA1..MA6 (MA5 closed later)
              └─ B (county) ── B1: merchant MB1

Units (deployed days before D, usage as (days before D, count)); D is today:

    U1 at MA1  200  used 120 days ago; revisit done 40 days ago     → dormant_revisited
    U2 at MA2  200  used 120 days ago; revisit done 10 days ago     → nothing (too soon)
    U3 at MA3  70   never used                                      → never_used
    U4 at MA4  45   never used                                      → nothing (45 < 60)
    U5 at MA5  200  used daily until 20 days ago; visit 3 days ago said no_need → no_need
    U6 at MA6  200  used yesterday, merchant later marked closed    → merchant_gone
    U7 at MA1  200  used daily, active                              → nothing
    UB at MB1  70   never used (branch B)                           → never_used
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from fleet.core.access import Role
from fleet.core.db import session_scope
from fleet.inventory import service as inventory
from fleet.inventory.models import MerchantStatus, MerchantUpdate, Terminal
from fleet.scoring import service as scoring
from fleet.visits.models import Outcome, Visit, VisitKind, VisitPlan, VisitStatus
from tests import factories
from tests.scoring.util import SHANGHAI, add_daily, add_usage, as_of, deploy
from tests.web.conftest import sign_in

UNITS: dict[str, tuple[str, int, list[tuple[int, int]]]] = {
    "U1": ("MA1", 200, [(120, 2)]),
    "U2": ("MA2", 200, [(120, 2)]),
    "U3": ("MA3", 70, []),
    "U4": ("MA4", 45, []),
    "U5": ("MA5", 200, []),
    "U6": ("MA6", 200, [(1, 3)]),
    "U7": ("MA1", 200, []),
    "UB": ("MB1", 70, []),
}


@dataclass
class Region:
    today: date
    ids: dict[str, int] = field(default_factory=dict)
    branches: dict[str, int] = field(default_factory=dict)


def visit(
    session: Session, sn: str, days_ago: int, kind: VisitKind, outcome: Outcome | None
) -> Visit:
    """A done visit to the unit `days_ago` days before today, with its outcome."""
    terminal = session.execute(select(Terminal).where(Terminal.sn == sn)).scalar_one()
    day = as_of() - timedelta(days=days_ago)
    staff = inventory.staff_by_username(session, factories.SYSTEM, "field_a")
    plan = session.execute(
        select(VisitPlan).where(
            VisitPlan.branch_id == terminal.branch_id, VisitPlan.plan_date == day
        )
    ).scalar_one_or_none()
    if plan is None:
        plan = VisitPlan(branch_id=terminal.branch_id, plan_date=day)
        session.add(plan)
        session.flush()
    at = datetime.combine(day, time(10), tzinfo=SHANGHAI)
    row = Visit(
        plan_id=plan.id or 0,
        plan_date=day,
        staff_id=staff.id or 0,
        seq=1,
        kind=kind,
        status=VisitStatus.done,
        terminal_id=terminal.id,
        merchant_id=terminal.merchant_id or 0,
        branch_id=terminal.branch_id,
        planned_arrival=at,
        planned_start=at,
        planned_departure=at,
        outcome=outcome,
        recorded_at=at,
    )
    session.add(row)
    session.flush()
    return row


def build(session: Session) -> Region:
    today = as_of()
    region = Region(today=today)
    branches = [
        factories.branch(session, "LY", level="city", lat=35.05),
        factories.branch(session, "A", "LY", level="county", lat=35.05),
        factories.branch(session, "A1", "A", lat=35.05),
        factories.branch(session, "B", "LY", level="county", lat=35.5),
        factories.branch(session, "B1", "B", lat=35.5),
    ]
    region.branches = {b.code: b.id or 0 for b in branches}
    factories.user(session, "admin", Role.admin, "LY")
    factories.user(session, "ops_a", Role.branch_ops, "A")
    factories.user(session, "ops_b", Role.branch_ops, "B")
    factories.user(session, "field_a", Role.field, "A1")
    factories.user(session, "marketing_a", Role.marketing, "A")
    factories.market(session, "MKA", "A1", lat=35.06, lng=118.36, radius_m=2000)
    for n in range(1, 10):  # MA7..MA9: in the market, without a unit (prospects)
        factories.merchant(
            session, f"MA{n}", "A1", lat=35.06, lng=118.36, category="五金", market_code="MKA"
        )
    factories.merchant(session, "MB1", "B1", lat=35.5, lng=118.36)
    for sn, (merchant, deployed, usage) in UNITS.items():
        branch = "B1" if merchant == "MB1" else "A1"
        unit = deploy(session, sn, branch, merchant, today - timedelta(days=deployed))
        region.ids[sn] = unit.id or 0
        for days, count in usage:
            add_usage(session, unit.id, today - timedelta(days=days), count)
    add_daily(session, region.ids["U5"], today - timedelta(150), today - timedelta(20))
    add_daily(session, region.ids["U7"], today - timedelta(150), today - timedelta(1), count=3)
    visit(session, "U1", 40, VisitKind.revisit, Outcome.reached_promised)
    visit(session, "U2", 10, VisitKind.revisit, Outcome.reached_promised)
    visit(session, "U5", 3, VisitKind.revisit, Outcome.no_need)
    merchant = inventory.merchant_by_code(session, factories.SYSTEM, "MA6")
    inventory.update_merchant(
        session, factories.SYSTEM, merchant, MerchantUpdate(status=MerchantStatus.closed)
    )
    scoring.score(session, as_of=today)
    return region


@pytest.fixture
def region(engine: Engine) -> Region:
    with session_scope(engine) as session:
        return build(session)


@pytest.fixture
def headers(client: TestClient, region: Region):  # type: ignore[no-untyped-def]
    """headers("ops_a") → the Authorization header of that user of the region."""
    cache: dict[str, dict[str, str]] = {}

    def get(username: str) -> dict[str, str]:
        if username not in cache:
            cache[username] = sign_in(client, username)
        return cache[username]

    return get
