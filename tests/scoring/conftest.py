"""A small scored region for the KPI, API and CLI tests, with numbers worked out by hand.

    LY (city) ── A (county) ── A1: market MK1 (hardware), merchant MA1 (五金, staff field_a1)
              │             └─ A2: merchant MA2 (grocery, staff field_a2), in no market
              └─ B (county) ── B1: market MK2 (stone), merchant MB1 (石材, no staff)

Scored twice, as of D-7 ("before") and D (today), with D-7 the comparison date for D:

    unit  where  usage (days before D: count)   before (D-7)          D
    t1    MA1    20: 2, 1: 3                     active, count_30 2    active, 5
    t2    MA1    40: 4                           idle                  idle
    t3    MA1    3: 1                            never_used            active (activation)
    t4    MA2    100: 5, 2: 4                    dormant               active, 4 (activation)
    t5    MA2    100: 2                          dormant               dormant
    t6    MB1    15: 6, 2: 12                    active, 6             active, 18
    t7    MB1    deployed D-10, no use           new                   new
    t8    MB1    50: 3, 1: 2                     idle                  active, 2 (activation)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from fleet.core.access import Role
from fleet.core.db import session_scope
from fleet.scoring import service as scoring
from tests import factories
from tests.scoring.util import add_usage, as_of, deploy
from tests.web.conftest import sign_in

USAGE: dict[str, tuple[str, int, list[tuple[int, int]]]] = {
    # unit: (merchant, deployed days before D, [(days before D, count)])
    "t1": ("MA1", 200, [(20, 2), (1, 3)]),
    "t2": ("MA1", 200, [(40, 4)]),
    "t3": ("MA1", 200, [(3, 1)]),
    "t4": ("MA2", 200, [(100, 5), (2, 4)]),
    "t5": ("MA2", 200, [(100, 2)]),
    "t6": ("MB1", 200, [(15, 6), (2, 12)]),
    "t7": ("MB1", 10, []),
    "t8": ("MB1", 200, [(50, 3), (1, 2)]),
}
OUTLET = {"MA1": "A1", "MA2": "A2", "MB1": "B1"}


@dataclass
class Region:
    today: date
    before: date
    ids: dict[str, int] = field(default_factory=dict)
    branches: dict[str, int] = field(default_factory=dict)
    markets: dict[str, int] = field(default_factory=dict)
    staff: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def region(engine: Engine) -> Region:
    today = as_of()
    world = Region(today=today, before=today - timedelta(days=7))
    with session_scope(engine) as session:
        branches = [
            factories.branch(session, "LY", level="city"),
            factories.branch(session, "A", "LY", level="county"),
            factories.branch(session, "A1", "A"),
            factories.branch(session, "A2", "A"),
            factories.branch(session, "B", "LY", level="county"),
            factories.branch(session, "B1", "B"),
        ]
        world.branches = {b.code: b.id or 0 for b in branches}
        users = [
            factories.user(session, "admin", Role.admin, "LY"),
            factories.user(session, "ops_a", Role.branch_ops, "A"),
            factories.user(session, "ops_b", Role.branch_ops, "B"),
            factories.user(session, "field_a1", Role.field, "A1"),
            factories.user(session, "field_a2", Role.field, "A2"),
        ]
        world.staff = {u.username: u.id or 0 for u in users}
        for code, outlet, trade in (("MK1", "A1", "hardware"), ("MK2", "B1", "stone")):
            world.markets[code] = factories.market(session, code, outlet, category=trade).id or 0
        factories.merchant(
            session, "MA1", "A1", category="五金", market_code="MK1", staff_username="field_a1"
        )
        factories.merchant(
            session, "MA2", "A2", lat=35.3, category="grocery", staff_username="field_a2"
        )
        factories.merchant(session, "MB1", "B1", category="石材", market_code="MK2")
        for name, (merchant, deployed, usage) in USAGE.items():
            unit = deploy(
                session, name.upper(), OUTLET[merchant], merchant, today - timedelta(deployed)
            )
            world.ids[name] = unit.id or 0
            for days, count in usage:
                add_usage(session, unit.id, today - timedelta(days), count)
        scoring.score(session, as_of=world.before)
        scoring.score(session, as_of=today)
    return world


@pytest.fixture
def headers(client: TestClient, region: Region):  # type: ignore[no-untyped-def]
    """headers("ops_a") → the Authorization header of that user of the region."""
    cache: dict[str, dict[str, str]] = {}

    def get(username: str) -> dict[str, str]:
        if username not in cache:
            cache[username] = sign_in(client, username)
        return cache[username]

    return get
