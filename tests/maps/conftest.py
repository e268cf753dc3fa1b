"""A small region to map: the two-branch world, more merchants and terminals in A1, scores
put in by hand, a market with no terminal and no branch, and helpers to read a map's data."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from fleet.core.db import session_scope
from fleet.inventory import service as inventory
from fleet.inventory.models import MarketCreate, Terminal
from fleet.scoring.models import ScoreRun, TerminalScore, UsageStatus
from tests import factories
from tests.factories import SYSTEM
from tests.web.conftest import as_user  # noqa: F401  (fixtures used by the map tests)

AS_OF = date(2026, 11, 20)


def put_score(
    session: Session,
    terminal: Terminal,
    status: UsageStatus,
    *,
    as_of: date = AS_OF,
    days: int | None = 3,
    count_30: int = 12,
) -> None:
    """A stored score for `terminal` on `as_of`, and that date's scoring run."""
    if session.get(ScoreRun, as_of) is None:
        session.add(ScoreRun(as_of=as_of))
    assert terminal.id is not None and terminal.merchant_id is not None
    session.add(
        TerminalScore(
            as_of=as_of,
            terminal_id=terminal.id,
            status=status,
            deployed_on=as_of - timedelta(days=200),
            last_used_on=None if days is None else as_of - timedelta(days=days),
            days_since_use=days,
            count_30=count_30,
            branch_id=terminal.branch_id,
            merchant_id=terminal.merchant_id,
        )
    )
    session.flush()


@dataclass
class MapWorld:
    world: factories.TwoBranches
    terminals: dict[str, Terminal] = field(default_factory=dict)


def build_map_world(session: Session) -> MapWorld:
    """A1 gets CA2 (in market MKA1, idle unit), CA3 (two units: dormant, declining), CA4 (in
    MKA1, open, no unit: a white spot), CA5 (closed, no unit), CA6 (no coordinates, never
    used unit) and a unit in stock; B1 keeps its one active unit; MKN has no branch, no shops."""
    world = factories.two_branches(session)
    mw = MapWorld(world=world, terminals=dict(world.terminals))
    factories.merchant(session, "CA2", "A1", lat=35.012, lng=118.361)
    factories.merchant(session, "CA3", "A1", lat=35.2, lng=118.5)
    factories.merchant(session, "CA4", "A1", lat=35.011, lng=118.359, phone="13800000004")
    factories.merchant(session, "CA5", "A1", lat=35.3, lng=118.6, status="closed")
    factories.merchant(session, "CA6", "A1", lat=None, lng=None)
    for sn, merchant in (("SNA2", "CA2"), ("SNA3", "CA3"), ("SNA4", "CA3"), ("SNA6", "CA6")):
        mw.terminals[sn] = factories.terminal(session, sn, "A1", merchant)
    mw.terminals["SNA9"] = factories.terminal(session, "SNA9", "A1")
    inventory.create_market(
        session,
        SYSTEM,
        MarketCreate(
            code="MKN",
            name="无主市场",
            category="stone",  # type: ignore[arg-type]
            polygon=[[35.30, 118.30], [35.30, 118.32], [35.32, 118.32]],
        ),
    )
    t = mw.terminals
    # An older run that must not show: the map reads the latest scored date.
    put_score(session, t["A1"], UsageStatus.dormant, as_of=AS_OF - timedelta(days=7))
    put_score(session, t["A1"], UsageStatus.active)
    put_score(session, t["SNA2"], UsageStatus.idle, days=40, count_30=0)
    put_score(session, t["SNA3"], UsageStatus.dormant, days=120, count_30=0)
    put_score(session, t["SNA4"], UsageStatus.declining, days=5, count_30=2)
    put_score(session, t["SNA6"], UsageStatus.never_used, days=None, count_30=0)
    put_score(session, t["B1"], UsageStatus.active, days=1, count_30=30)
    return mw


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every map test builds five users; argon2 at its recommended cost makes that the slowest
    # part of the suite. Maps do not test passwords: hash them cheaply here.
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from fleet.auth import security

    quick = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    monkeypatch.setattr(security, "_hasher", quick)


@pytest.fixture
def map_world(engine: Engine) -> MapWorld:
    with session_scope(engine) as session:
        return build_map_world(session)


@pytest.fixture
def world(map_world: MapWorld) -> factories.TwoBranches:
    """The two-branch world of tests.web.conftest, here with the map additions."""
    return map_world.world


def payload_of(html: str) -> dict[str, Any]:
    """The JSON a map page carries in #fleet-map-data."""
    found = re.search(r'<script type="application/json" id="fleet-map-data">(.*?)</script>', html)
    assert found, "no map data in the page"
    return json.loads(found.group(1))  # type: ignore[no-any-return]


# --- Route and campaign maps -------------------------------------------------------------------
# The visit tests' region with a stored plan for county A, and the market tests' world with a
# campaign in MK1 part run: built through the services, as those tests build them.


def token_for(user_id: int) -> dict[str, str]:
    """A bearer header for a user (those worlds' users mostly have no password)."""
    from fleet.auth.security import create_access_token

    token, _ = create_access_token(user_id)
    return {"Authorization": f"Bearer {token}"}


@dataclass
class PlannedDay:
    region: Any  # tests.visits.conftest.Region
    day: date


@pytest.fixture
def planned_day(engine: Engine) -> PlannedDay:
    """County A's field day planned (three field staff, four stops) with a small solver budget."""
    from fleet.scoring import service as scoring
    from fleet.visits import plan as planning
    from tests.visits.conftest import build_region

    with session_scope(engine) as session:
        region = build_region(session, scoring.today_local())
        planning.plan_day(session, SYSTEM, branch_code="A", plan_date=region.today, seconds=0.3)
    return PlannedDay(region=region, day=region.today)


@dataclass
class RunCampaign:
    world: Any  # tests.markets.conftest.World
    campaign_id: int


@pytest.fixture
def run_campaign(engine: Engine, tmp_path: Any) -> RunCampaign:
    """MK1's campaign (prospects P1, M5, M4; units S1-S3 set aside at A1): S1 placed at P1,
    M4 declined, M5 still pending."""
    from fleet.markets import run
    from fleet.markets.models import ProspectStatus
    from tests.markets import test_campaigns as campaign_tests
    from tests.markets.conftest import build
    from tests.scoring.util import as_of

    with session_scope(engine) as session:
        world = build(session, as_of())
        campaign = campaign_tests.plan(session, world, tmp_path)
        d = world.today
        run.place_unit(
            session,
            world.actor(session, "field_a1"),
            campaign,
            sn="S1",
            merchant_code="P1",
            at=campaign_tests.noon(d - timedelta(days=65)),
        )
        marketing = world.actor(session, "marketing_a")
        run.record_outcome(
            session, marketing, campaign, world.merchants["M4"], ProspectStatus.declined
        )
        return RunCampaign(world=world, campaign_id=campaign.id or 0)
