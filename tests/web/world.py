"""Twin branches for the route security tests: everything that has an id, once in each.

    LY (city): admin
    ├── A (county): ops_a, field_a, marketing_a, service_a ── A1 (outlet): staff_a1 (field)
    └── B (county): ops_b, field_b, marketing_b, service_b ── B1 (outlet): staff_b1 (field)

In each outlet S1: market MKS1; merchant CS1 (phone and contact name) with deployed unit SNS1
under a pending recovery request; prospect merchant PS1 in the market without a unit; in-stock
units STS1 (set aside for campaign "Camp S") and SUS1; deployed at CS1 also SFS1, with an
open fault ticket, and SGS1; SRS1 away at the vendor; contractor CTS1 covering S1; a visit
plan for today with one visit of staff_s1 to SNS1; an ingest run started by ops_s; an API
token of ops_s.
B is A's sibling; users of county B are B1's parent branch. Users have no password (hashing is
slow): tests sign in with tokens made for their ids, like the real sign-in makes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from fleet.aftersales import contractors, qr, spares
from fleet.aftersales import service as tickets
from fleet.aftersales.models import ServicePlan, Symptom, TicketSource
from fleet.auth import service as auth
from fleet.auth.models import ApiTokenCreate, UserCreate
from fleet.auth.security import create_access_token
from fleet.core import phrases
from fleet.core.access import Role
from fleet.core.db import session_scope
from fleet.feeds import sources
from fleet.feeds.models import IngestRun, RejectedRow, RejectReason, RunStatus
from fleet.inventory import lifecycle
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalState
from fleet.markets import campaigns
from fleet.markets.models import CampaignCreate
from fleet.pay import contracts
from fleet.pay.contract_models import ContractCreate, PortfolioKind
from fleet.recovery import service as recovery
from fleet.scoring.service import today_local
from fleet.visits.models import Visit, VisitKind, VisitPlan
from tests import factories
from tests.factories import SYSTEM

SIDES = ("A", "B")
PHONE = "13812345678"
CONTACT = "张三丰"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class World:
    today: date
    # ids[side][name]: the id (or code) of that side's object of each kind
    ids: dict[str, dict[str, int | str]] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    source_id: int = 0  # a feed source: bank-wide, admins' only

    def token(self, username: str) -> dict[str, str]:
        token, _ = create_access_token(self.user_ids[username])
        return {"Authorization": f"Bearer {token}"}


def _user(session: Session, world: World, username: str, role: Role, branch: str) -> None:
    user = auth.create_user(
        session,
        SYSTEM,
        UserCreate(username=username, full_name=username.title(), role=role, branch_code=branch),
    )
    world.user_ids[username] = user.id or 0


def _side(session: Session, world: World, side: str) -> None:
    outlet, ids = f"{side}1", world.ids.setdefault(side, {})
    lat = 35.0 if side == "A" else 35.5
    world.ids[side]["branch_code"] = outlet
    county = factories.branch(session, side, "LY", level="county", lat=lat)
    branch = factories.branch(session, outlet, side, lat=lat)
    ids["county_id"], ids["branch_id"] = county.id or 0, branch.id or 0
    for role in (Role.branch_ops, Role.field, Role.marketing, Role.service):
        name = "ops" if role is Role.branch_ops else role.value
        _user(session, world, f"{name}_{side.lower()}", role, side)
    _user(session, world, f"staff_{side.lower()}1", Role.field, outlet)
    ids["user_id"] = world.user_ids[f"staff_{side.lower()}1"]
    market = factories.market(session, f"MK{outlet}", outlet, lat=lat + 0.01, radius_m=2000)
    ids["market_id"], ids["market_code"] = market.id or 0, market.code
    merchant = factories.merchant(
        session, f"C{outlet}", outlet, lat=lat + 0.01, lng=118.36, phone=PHONE, contact_name=CONTACT
    )
    prospect = factories.merchant(session, f"P{outlet}", outlet, lat=lat + 0.01, lng=118.36)
    ids["merchant_id"], ids["prospect_id"] = merchant.id or 0, prospect.id or 0
    ids["prospect_code"] = prospect.code
    deployed = factories.terminal(session, f"SN{outlet}", outlet, merchant.code)
    ids["terminal_id"] = deployed.id or 0
    for prefix in ("ST", "SU"):
        unit = factories.terminal(session, f"{prefix}{outlet}", outlet)
        ids[f"{prefix.lower()}_id"], ids[f"{prefix.lower()}_sn"] = unit.id or 0, unit.sn
    campaign = campaigns.create_campaign(
        session,
        SYSTEM,
        CampaignCreate(
            name=f"Camp {side}",
            market_code=market.code,
            starts_on=world.today,
            ends_on=world.today + timedelta(days=30),
            staff_usernames=[f"staff_{side.lower()}1"],
            unit_sns=[f"ST{outlet}"],
        ),
    )
    ids["campaign_id"] = campaign.id or 0
    # A unit with an open fault ticket, and one without (to open one for).
    faulty = factories.terminal(session, f"SF{outlet}", outlet, merchant.code)
    ids["ticket_id"] = (
        tickets.open_ticket(session, SYSTEM, faulty, Symptom.power, source=TicketSource.phone).id
        or 0
    )
    spare_free = factories.terminal(session, f"SG{outlet}", outlet, merchant.code)
    ids["sg_sn"] = spare_free.sn
    ids["qr_token"] = qr.issue(session, SYSTEM, spare_free).token  # the merchant's QR sticker
    ids["sf_sn"] = f"SF{outlet}"
    # A broken unit away at the vendor, and a contractor covering the outlet.
    away = factories.terminal(session, f"SR{outlet}", outlet)
    lifecycle.transition(session, SYSTEM, away, TerminalState.faulty, reason="broken")
    ids["repair_id"] = (
        spares.send_to_vendor(session, SYSTEM, away.sn, vendor=f"Vendor {side}").id or 0
    )
    contractors.create(
        session,
        SYSTEM,
        contractors.ContractorCreate(code=f"CT{outlet}", name=f"承包{side}", branch_codes=[outlet]),
    )
    ids["contractor_code"] = f"CT{outlet}"
    request = recovery.raise_request(session, SYSTEM, deployed, why=phrases.text("长期未用"))
    ids["request_id"] = request.id or 0
    staff_id = world.user_ids[f"staff_{side.lower()}1"]
    plan = VisitPlan(
        branch_id=branch.id or 0,
        plan_date=world.today,
        created_by_name="tests",
        routes=[{"staff_id": staff_id, "distance_m": 3000, "working_s": 3600}],
    )
    session.add(plan)
    session.flush()
    at = datetime.combine(world.today, time(10), tzinfo=SHANGHAI)
    visit = Visit(
        plan_id=plan.id or 0,
        plan_date=world.today,
        staff_id=staff_id,
        seq=1,
        kind=VisitKind.revisit,
        terminal_id=deployed.id,
        merchant_id=merchant.id or 0,
        branch_id=branch.id or 0,
        planned_arrival=at,
        planned_start=at,
        planned_departure=at + timedelta(minutes=20),
    )
    session.add(visit)
    session.flush()
    ids["visit_id"] = visit.id or 0
    session.add(ServicePlan(branch_id=branch.id or 0, plan_date=world.today, created_by_name="t"))
    ops = inventory.staff_by_username(session, SYSTEM, f"ops_{side.lower()}")
    row, _ = auth.create_api_token(session, ops, ApiTokenCreate(name=f"script {side}"))
    ids["token_id"] = row.id or 0
    contract = contracts.create(
        session,
        SYSTEM,
        ContractCreate(
            name=f"Contract {side}",
            members=[f"staff_{side.lower()}1"],
            portfolio_kind=PortfolioKind.merchants,
            merchant_codes=[merchant.code],
            period=world.today.strftime("%Y-%m"),
            target_revenue_fen=10_000,
            commission_ppm=50_000,
        ),
    )
    ids["contract_id"] = contracts.approve(session, SYSTEM, contract.id or 0).id or 0


def build(engine: Engine) -> World:
    world = World(today=today_local())
    with session_scope(engine) as session:
        factories.branch(session, "LY", level="city")
        _user(session, world, "admin", Role.admin, "LY")
        for side in SIDES:
            _side(session, world, side)
        source = sources.create_source(
            session, SYSTEM, sources.FeedSourceCreate(name="bank", url="http://127.0.0.1:9/feed")
        )
        world.source_id = source.id
    # An ingest run per side with a rejected line, as an upload by that side's operations
    # user leaves them (written directly: the ingest engine has its own tests, and this world
    # only needs the records whose visibility the API decides).
    with session_scope(engine) as session:
        for side in SIDES:
            ops = f"ops_{side.lower()}"
            run = IngestRun(
                source_kind="upload",
                source=f"feed-{side}.csv",
                status=RunStatus.succeeded,
                received=2,
                accepted=1,
                rejected=1,
                actor_id=world.user_ids[ops],
                actor_name=ops,
            )
            session.add(run)
            session.flush()
            session.add(
                RejectedRow(
                    ingest_id=run.id or 0,
                    line_no=3,
                    reason=RejectReason.unknown_terminal,
                    raw=f"R{side}2,SN{side}1-X,{world.today}T10:00:00,10.00,transfer,success,C{side}1",
                )
            )
            world.ids[side]["run_id"] = run.id or 0
    return world
