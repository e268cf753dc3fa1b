"""A small scored region around county A for the revisit tests.

    LY (city, 35.10/118.35) ── A (county, 35.05/118.35) ── A1 outlet: field_a1, field_a2
                            │                          └─ A2 outlet: field_a3
                            └─ B (county, 35.50/118.35) ── B1 outlet: field_b1

Units at merchants a few kilometres around A, deployed 200 days before today (D), scored as
of D from rollups put in directly:

    unit    merchant  usage (days before D: count)      status as of D
    IDLE    M1        60: 5, 45: 3                       idle (45 days)
    DORM    M2        150: 9, 120: 4                     dormant (120 days)
    NEVER   M3        none                               never_used
    DECL    M4        every 3rd day 31..120: 4, 2: 1     declining
    ACTIVE  M5        1: 6                               active (no visit)
    NEW     M6        deployed D-10, none                new (no visit)
    SHUT    M7        45: 2, merchant closed             idle, but the shop has closed
    B1IDLE  MB        45: 2 (in county B)                idle, another subtree
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from fleet.auth import service as auth
from fleet.auth.models import UserCreate
from fleet.core.access import Role
from fleet.core.config import get_settings
from fleet.core.db import session_scope
from fleet.feeds.models import TerminalDay
from fleet.inventory import service as inventory
from fleet.inventory.models import MerchantUpdate, Terminal, TerminalCreate
from fleet.scoring import service as scoring
from tests import factories
from tests.factories import SYSTEM

SHANGHAI = ZoneInfo("Asia/Shanghai")
UNITS: dict[str, tuple[str, int, list[tuple[int, int]]]] = {
    # unit: (merchant, deployed days before D, [(days before D, count)])
    "IDLE": ("M1", 200, [(60, 5), (45, 3)]),
    "DORM": ("M2", 200, [(150, 9), (120, 4)]),
    "NEVER": ("M3", 200, []),
    "DECL": ("M4", 200, [(d, 4) for d in range(31, 121, 3)] + [(2, 1)]),
    "ACTIVE": ("M5", 200, [(1, 6)]),
    "NEW": ("M6", 10, []),
    "SHUT": ("M7", 200, [(45, 2)]),
    "B1IDLE": ("MB", 200, [(45, 2)]),
}
# Merchants: (branch, lat, lng, opening hours)
MERCHANTS = {
    "M1": ("A1", 35.060, 118.360, "08:00-18:00"),
    "M2": ("A1", 35.070, 118.340, "08:00-12:00,13:30-18:00"),
    "M3": ("A1", 35.040, 118.370, "09:00-21:00"),
    "M4": ("A2", 35.030, 118.380, "08:00-18:00"),
    "M5": ("A1", 35.055, 118.355, "08:00-18:00"),
    "M6": ("A1", 35.045, 118.345, "08:00-18:00"),
    "M7": ("A1", 35.065, 118.330, "08:00-18:00"),
    "MB": ("B1", 35.510, 118.360, "08:00-18:00"),
}


@pytest.fixture(autouse=True)
def _fast_solver() -> Iterator[None]:
    """Keep solver budgets small: the suite must stay fast (the benchmark has the real ones)."""
    os.environ["FLEET_REVISIT_SOLVER_SECONDS"] = "0.5"
    get_settings.cache_clear()
    yield
    os.environ.pop("FLEET_REVISIT_SOLVER_SECONDS", None)
    get_settings.cache_clear()


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=SHANGHAI)


def deploy(session: Session, sn: str, branch: str, merchant: str, on: date) -> Terminal:
    return inventory.create_terminal(
        session,
        SYSTEM,
        TerminalCreate(
            sn=sn, model="T100", branch_code=branch, merchant_code=merchant, deployed_at=noon(on)
        ),
    )


def use(session: Session, terminal_id: int | None, day: date, count: int) -> None:
    """A rollup row: `count` successful financial transactions on `day`."""
    session.add(
        TerminalDay(terminal_id=terminal_id or 0, day=day, txn_count=count, amount_fen=count * 100)
    )
    session.flush()


@dataclass
class Region:
    today: date
    units: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    merchants: dict[str, int] = field(default_factory=dict)


def build_region(session: Session, today: date, *, score: bool = True) -> Region:
    region = Region(today=today)
    factories.branch(session, "LY", level="city", lat=35.10, lng=118.35)
    factories.branch(session, "A", "LY", level="county", lat=35.05, lng=118.35)
    factories.branch(session, "A1", "A", lat=35.06, lng=118.36)
    factories.branch(session, "A2", "A", lat=35.03, lng=118.37)
    factories.branch(session, "B", "LY", level="county", lat=35.50, lng=118.35)
    factories.branch(session, "B1", "B", lat=35.50, lng=118.36)
    for name, role, home in (
        ("admin", Role.admin, "LY"),
        ("ops_a", Role.branch_ops, "A"),
        ("ops_b", Role.branch_ops, "B"),
        ("field_a1", Role.field, "A1"),
        ("field_a2", Role.field, "A1"),
        ("field_a3", Role.field, "A2"),
        ("field_b1", Role.field, "B1"),
        ("marketing_a", Role.marketing, "A"),
    ):
        # No password: hashing eight of them would double the fixture's time. The API tests
        # sign in with tokens made for the user ids (see headers()).
        user = auth.create_user(
            session,
            SYSTEM,
            UserCreate(username=name, full_name=name.title(), role=role, branch_code=home),
        )
        region.users[name] = user.id or 0
    for code, (branch, lat, lng, hours) in MERCHANTS.items():
        merchant = factories.merchant(
            session,
            code,
            branch,
            lat=lat,
            lng=lng,
            opening_hours=hours,
            address=f"临沂市{code}路1号",
            contact_name="王老板",
            phone="0539-1234567",
        )
        region.merchants[code] = merchant.id or 0
    for sn, (merchant, deployed, usage) in UNITS.items():
        branch = MERCHANTS[merchant][0]
        unit = deploy(session, sn, branch, merchant, today - timedelta(days=deployed))
        region.units[sn] = unit.id or 0
        for days, count in usage:
            use(session, unit.id, today - timedelta(days=days), count)
    shut = inventory.merchant_by_code(session, SYSTEM, "M7")
    inventory.update_merchant(session, SYSTEM, shut, MerchantUpdate(status="closed"))  # type: ignore[arg-type]
    if score:
        scoring.score(session, as_of=today)
    return region


@pytest.fixture
def region(engine: Engine) -> Region:
    with session_scope(engine) as session:
        return build_region(session, scoring.today_local())
