"""A small scored region for the coverage, campaign, API and CLI tests; numbers worked by hand.

    LY (city, 35.00/118.30) ── A (county) ── A1 (outlet, 35.10/118.41)
                            └─ B (county) ── B1 (outlet, 35.50/118.41)

    MK1 hardware, run by A1, centre 35.11/118.41, radius 500 m, 20 stalls:
        M1 (t1), M2 (t2), M3 (t3, t3b), M4, M5 open and without a unit, M6 closed
    MK2 stone, run by B1, centre 35.51/118.41, radius 500 m: N1 (u1), N2
    G1 in no market, served by A1 (g1)
    In stock: S1, S2, S3 at A1 (back from G0 since D-250), S4 at B1

Usage (days before D: count) and statuses as of D and D-7:

    unit  usage            D: status, count_30      D-7: status, count_30
    t1    20: 5, 1: 10     active, 15               active, 5
    t2    40: 4            idle, 0                  idle, 0
    t3    3: 4             active, 4                never_used
    t3b   -                never_used               never_used
    u1    2: 30            active, 30               never_used
    g1    5: 6             active, 6                never_used

So MK1 on D: 4 scored, 2 active (动户率 0.5), 19 transactions = 4.75 a unit; the fleet: 6
scored, 55 transactions = 9.1667 a unit; MK1 against the fleet 0.52.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from fleet.auth import service as auth
from fleet.auth.models import User, UserCreate
from fleet.core.access import Actor, Role
from fleet.core.db import session_scope
from fleet.inventory import service as inventory
from fleet.inventory.models import MarketUpdate, Merchant, MerchantStatus, MerchantUpdate
from fleet.scoring import service as scoring
from tests import factories
from tests.scoring.util import add_usage, as_of, deploy, recover
from tests.web.conftest import sign_in

MK1 = (35.11, 118.41)
MK2 = (35.51, 118.41)
USAGE: dict[str, tuple[str, str, list[tuple[int, int]]]] = {
    # unit: (merchant, owning branch, [(days before D, count)])
    "T1": ("M1", "A1", [(20, 5), (1, 10)]),
    "T2": ("M2", "A1", [(40, 4)]),
    "T3": ("M3", "A1", [(3, 4)]),
    "T3B": ("M3", "A1", []),
    "U1": ("N1", "B1", [(2, 30)]),
    "G1": ("G1", "A1", [(5, 6)]),
}


@dataclass
class World:
    today: date
    branches: dict[str, int] = field(default_factory=dict)
    markets: dict[str, int] = field(default_factory=dict)
    merchants: dict[str, int] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)

    def actor(self, session: Session, username: str) -> Actor:
        user = session.get(User, self.users[username])
        assert user is not None
        return auth.actor_for(session, user)


def near(point: tuple[float, float], north_m: float, east_m: float = 0.0) -> dict[str, float]:
    """lat/lng a few metres from `point` (close enough to flat for a 500 m market)."""
    return {"lat": point[0] + north_m / 111_320, "lng": point[1] + east_m / 91_200}


def build(session: Session, today: date) -> World:
    world = World(today=today)
    f = factories
    for code, parent, level, lat, lng in (
        ("LY", None, "city", 35.00, 118.30),
        ("A", "LY", "county", 35.10, 118.40),
        ("A1", "A", "outlet", 35.10, 118.41),
        ("B", "LY", "county", 35.50, 118.40),
        ("B1", "B", "outlet", 35.50, 118.41),
    ):
        world.branches[code] = f.branch(session, code, parent, level, lat, lng).id or 0
    # Field staff have names, as at a bank (shown first, the username after it).
    FULL_NAMES = {"field_a1": "邱秀", "field_a2": "王芳"}
    # Only those who sign in to the API get a password: hashing one takes a quarter second.
    for username, role, branch, signs_in in (
        ("admin", Role.admin, "LY", False),
        ("marketing_a", Role.marketing, "A", True),
        ("ops_a", Role.branch_ops, "A", True),
        ("ops_b", Role.branch_ops, "B", True),
        ("field_a1", Role.field, "A1", False),
        ("field_a2", Role.field, "A1", False),
        ("field_b1", Role.field, "B1", False),
    ):
        password = factories.PASSWORD if signs_in else None
        data = UserCreate(
            username=username,
            full_name=FULL_NAMES.get(username, ""),
            role=role,
            branch_code=branch,
            password=password,
        )
        world.users[username] = auth.create_user(session, f.SYSTEM, data).id or 0
    m1 = f.market(session, "MK1", "A1", *MK1, radius_m=500, category="hardware")
    inventory.update_market(session, f.SYSTEM, m1, MarketUpdate(stalls=20))
    world.markets["MK1"] = m1.id or 0
    world.markets["MK2"] = (
        f.market(session, "MK2", "B1", *MK2, radius_m=500, category="stone").id or 0
    )
    for k, code in enumerate(("M1", "M2", "M3", "M4", "M5", "M6"), start=1):
        world.merchants[code] = (
            f.merchant(session, code, "A1", **near(MK1, 40 * k), category="五金").id or 0
        )
    for k, code in enumerate(("N1", "N2"), start=1):
        world.merchants[code] = (
            f.merchant(session, code, "B1", **near(MK2, 40 * k), category="石材").id or 0
        )
    world.merchants["G1"] = (
        f.merchant(session, "G1", "A1", lat=35.2, lng=118.5, category="grocery").id or 0
    )
    world.merchants["G0"] = (
        f.merchant(session, "G0", "A1", lat=35.21, lng=118.5, category="grocery").id or 0
    )
    for sn, (merchant, branch, usage) in USAGE.items():
        unit = deploy(session, sn, branch, merchant, today - timedelta(days=200))
        world.units[sn] = unit.id or 0
        for days, count in usage:
            add_usage(session, unit.id, today - timedelta(days=days), count)
    for sn, branch in (("S1", "A1"), ("S2", "A1"), ("S3", "A1"), ("S4", "B1")):
        unit = deploy(session, sn, branch, "G0", today - timedelta(days=300))
        recover(session, unit, today - timedelta(days=250))
        world.units[sn] = unit.id or 0
    closed = inventory.get_or_none(session, Merchant, code="M6")
    inventory.update_merchant(
        session, f.SYSTEM, closed, MerchantUpdate(status=MerchantStatus.closed)
    )
    scoring.score(session, as_of=today - timedelta(days=7))
    scoring.score(session, as_of=today)
    return world


@pytest.fixture
def world(engine: Engine) -> World:
    with session_scope(engine) as session:
        return build(session, as_of())


@pytest.fixture
def headers(client: TestClient, world: World):  # type: ignore[no-untyped-def]
    """headers("ops_a") → the Authorization header of that user of the world."""
    cache: dict[str, dict[str, str]] = {}

    def get(username: str) -> dict[str, str]:
        if username not in cache:
            cache[username] = sign_in(client, username)
        return cache[username]

    return get
