"""The demo's after-sales: a contractor, spares at each outlet, 180 days of fault tickets, the
tickets open today and today's service day in 兰山支行.

The history is replayed through the services users use (open, take, on site, wait for parts,
vendor, restore, close), each step at its own moment (core.db.pinned_now), so the SLA clock,
breaches, repeats (a new fault within 30 days), the units' lifecycle and the audit log are
what they would have been. Chance picks the faults (seeded): about 25 faults per 100 units a
year; most are repaired on the spot, some wait for parts or go to the vendor; rural tickets
and busy weeks run late, so the SLA is missed now and then. The history swaps no unit (a swap
would put a spare where the feed knows another unit); today's swap is on the service day.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.aftersales import contractors, dayplan, service, spares, watch
from fleet.aftersales.models import (
    Priority,
    Resolution,
    RestoreRequest,
    Symptom,
    Ticket,
    TicketSource,
    TicketState,
)
from fleet.auth import service as auth
from fleet.auth.models import User
from fleet.core.access import Actor, Role, system_actor
from fleet.core.config import get_settings
from fleet.core.db import pinned_now, session_scope
from fleet.core.errors import FleetError, Reason
from fleet.inventory.models import Branch, BranchLevel, Placement, Terminal, TerminalState
from fleet.inventory.scope import subtree_ids

CONTRACTOR = ("YINLING", "临沂银龄售后服务队")  # re-hired retirees (返聘内退人员)
CONTRACTOR_COUNTIES = ("罗庄支行", "河东支行")
SERVICE_COUNTY = "兰山支行"
HISTORY_DAYS = 180
HISTORY_MIN = 60
FAULTS_PER_UNIT_YEAR = 0.25
SPARES_PER_OUTLET = 2
REPEAT_SHARE = 0.08
TODAY_TICKETS = 8  # open today in 兰山支行 (and a few in the contractor's counties)
SYMPTOMS = [  # (symptom, weight): phone lines and card readers fail most
    (Symptom.phone_line, 30),
    (Symptom.card_reader, 22),
    (Symptom.printer, 16),
    (Symptom.keypad, 8),
    (Symptom.display, 6),
    (Symptom.power, 10),
    (Symptom.key_injection, 4),
    (Symptom.other, 4),
]


@dataclass
class Unit:
    sn: str
    terminal_id: int
    branch_id: int
    since: datetime  # placed at its merchant


def _actor(session: Session, username: str) -> Actor:
    return auth.actor_for(session, auth.user_by_username(session, system_actor("demo"), username))


def _staff_of(session: Session) -> tuple[dict[int, str], dict[int, str]]:
    """Per branch: who works its tickets (a service user of its county, the contractor's
    technician, else the county's operations) and who dispatches them (the county's ops)."""
    branches = list(session.execute(select(Branch)).scalars())
    users = list(session.execute(select(User)).scalars())
    worker: dict[int, str] = {}
    ops: dict[int, str] = {}
    for county in (b for b in branches if b.level is BranchLevel.county):
        ids = subtree_ids(session, county.id or 0)
        here = sorted(
            (u for u in users if u.branch_id in ids and u.role is Role.service),
            key=lambda u: u.username,
        )
        bosses = [u.username for u in users if u.branch_id == county.id]
        boss = next(
            (u.username for u in users if u.branch_id == county.id and u.role is Role.branch_ops),
            bosses[0] if bosses else "admin",
        )
        for bid in sorted(ids):
            own = [u.username for u in here if u.branch_id == bid]
            worker[bid] = own[0] if own else here[bid % len(here)].username if here else boss
            ops[bid] = boss
    return worker, ops


def set_up(engine: Engine, seed: int) -> Reason:
    """The contractor covering two counties, and spares marked at each outlet."""
    actor = system_actor("demo")
    rng = random.Random(seed * 7 + 18)
    with session_scope(engine) as session:
        counties = {
            b.name: b.code
            for b in session.execute(
                select(Branch).where(col(Branch.name).in_(CONTRACTOR_COUNTIES))
            ).scalars()
        }
        technicians = sorted(
            u.username
            for u in session.execute(select(User)).scalars()
            if u.username.startswith("service_yinling_")
        )
        contractors.create(
            session,
            actor,
            contractors.ContractorCreate(
                code=CONTRACTOR[0],
                name=CONTRACTOR[1],
                annual_fee_per_outlet=4000.0,
                fee_per_ticket=30.0,
                penalty_per_breach=50.0,
                branch_codes=[counties[n] for n in CONTRACTOR_COUNTIES if n in counties],
                staff_usernames=technicians,
            ),
        )
        marked = 0
        outlets = session.execute(
            select(Branch).where(col(Branch.level) == BranchLevel.outlet).order_by(col(Branch.code))
        ).scalars()
        for outlet in list(outlets):
            stock = list(
                session.execute(
                    select(Terminal.sn)
                    .where(
                        col(Terminal.branch_id) == outlet.id,
                        col(Terminal.state) == TerminalState.in_stock,
                    )
                    .order_by(col(Terminal.sn))
                ).scalars()
            )
            for sn in rng.sample(stock, min(SPARES_PER_OUTLET, len(stock))):
                spares.mark(session, actor, sn)
                marked += 1
    return Reason(
        "{contractor} covering {counties} counties; {spares} spares marked",
        contractor=CONTRACTOR[1],
        counties=len(counties),
        spares=marked,
    )


def _units(session: Session, start: datetime, skip: set[str]) -> list[Unit]:
    rows = session.execute(
        select(Terminal.sn, Terminal.id, Terminal.branch_id, Placement.started_at)
        .join(Placement, col(Placement.terminal_id) == col(Terminal.id))
        .where(col(Placement.ended_at).is_(None), col(Terminal.state) == TerminalState.deployed)
        .order_by(col(Terminal.sn))
    ).all()
    return [
        Unit(sn, tid, bid, since)
        for sn, tid, bid, since in rows
        if since < start and sn not in skip
    ]


def _business_moment(rng: random.Random, day: date, zone: ZoneInfo) -> datetime:
    minute = rng.randint(8 * 60 + 40, 16 * 60 + 30)
    local = datetime.combine(day, time(minute // 60, minute % 60), zone)
    return local.astimezone(UTC)


def history(engine: Engine, as_of: date, seed: int, skip: set[str]) -> Reason:
    """180 days of tickets up to yesterday, each worked to its end (or cancelled)."""
    rng = random.Random(seed * 31 + 18)
    zone = ZoneInfo(get_settings().feed_timezone)
    first = as_of - timedelta(days=HISTORY_DAYS)
    start = datetime.combine(first, time(0), zone).astimezone(UTC)
    with session_scope(engine) as session:
        units = _units(session, start, skip)
        worker, ops = _staff_of(session)
    # At least HISTORY_MIN, so that a small demo shows breaches and repeats too.
    count = max(HISTORY_MIN, round(len(units) * FAULTS_PER_UNIT_YEAR * HISTORY_DAYS / 365))
    plans: list[tuple[datetime, Unit]] = []
    for unit in rng.sample(units, min(count, len(units))):
        day = first + timedelta(days=rng.randrange(HISTORY_DAYS - 14))
        plans.append((_business_moment(rng, day, zone), unit))
        if rng.random() < REPEAT_SHARE:  # the same unit fails again within 30 days
            again = day + timedelta(days=rng.randint(4, 26))
            plans.append((_business_moment(rng, again, zone), unit))
    plans.sort(key=lambda p: (p[0], p[1].sn))
    done = late = 0
    for opened_at, unit in plans:
        try:
            late += _work_one(engine, rng, unit, opened_at, worker, ops, zone, as_of)
            done += 1
        except FleetError:  # e.g. a repeat opened while the first is still open: skipped
            continue
    return Reason(
        "{done} tickets over {days} days ({late} restored late)",
        done=done,
        days=HISTORY_DAYS,
        late=late,
    )


def _work_one(
    engine: Engine,
    rng: random.Random,
    unit: Unit,
    opened_at: datetime,
    worker: dict[int, str],
    ops: dict[int, str],
    zone: ZoneInfo,
    as_of: date,
) -> int:
    """Opens one ticket and works it through; 1 when it was restored after its deadline."""
    symptom = rng.choices([s for s, _ in SYMPTOMS], [w for _, w in SYMPTOMS])[0]
    priority = rng.choices([Priority.high, Priority.normal, Priority.low], [2, 7, 1])[0]
    source = rng.choices(
        [TicketSource.phone, TicketSource.field_visit, TicketSource.qr, TicketSource.service],
        [6, 2, 2, 1],
    )[0]
    now = opened_at
    limit = datetime.combine(as_of, time(0), zone).astimezone(UTC)

    def at(hours: float) -> datetime:
        nonlocal now
        now = min(now + timedelta(hours=hours), limit - timedelta(minutes=1))
        return now

    with session_scope(engine) as session:
        boss, tech = _actor(session, ops[unit.branch_id]), worker[unit.branch_id]
        with pinned_now(now):
            terminal = session.get(Terminal, unit.terminal_id)
            assert terminal is not None
            ticket = service.open_ticket(
                session, boss, terminal, symptom, source=source, priority=priority
            )
        tid = ticket.id or 0
        if rng.random() < 0.03:  # opened by mistake
            with pinned_now(at(0.5)):
                service.cancel(session, boss, tid, note="商户误报")
            return 0
        slow = rng.random() < 0.15  # a busy week, or far out: the SLA slips
        with pinned_now(at(rng.uniform(0.2, 1.5))):
            service.assign(session, boss, tid, tech)
        techie = _actor(session, tech)
        travel = rng.uniform(0.5, 2.5) + (rng.uniform(10, 40) if slow else 0)
        with pinned_now(at(travel)):
            service.arrive(session, techie, tid)
        roll = rng.random()
        resolution = Resolution.repaired_on_site
        if roll < 0.10:
            with pinned_now(at(0.5)):
                service.wait_for_parts(session, techie, tid, note="等配件")
            with pinned_now(at(rng.uniform(24, 72))):
                service.resume(session, techie, tid, note="配件已到")
        elif roll < 0.15:
            with pinned_now(at(0.5)):
                service.send_to_vendor(session, techie, tid, note="送厂维修")
            with pinned_now(at(rng.uniform(24 * 5, 24 * 10))):
                service.resume(session, techie, tid, note="厂家修复返回")
            resolution = Resolution.sent_to_vendor
        elif roll < 0.34:
            resolution = Resolution.no_fault_found
        elif roll < 0.40:
            resolution = Resolution.merchant_caused
        parts = []
        if resolution is Resolution.repaired_on_site and symptom is not Symptom.phone_line:
            parts = [
                {"name": f"{symptom.value} 配件", "cost": float(rng.choice([35, 60, 120, 180]))}
            ]
        request = RestoreRequest.model_validate(
            {
                "resolution": resolution,
                "note": "已恢复",
                "parts": parts,
                "labour_minutes": rng.choice([20, 30, 45, 60, 90]),
                "travel_km": round(rng.uniform(1, 25 if slow else 12), 1),
                "vendor_fee": 150.0 if resolution is Resolution.sent_to_vendor else 0.0,
            }
        )
        with pinned_now(at(rng.uniform(0.3, 1.5))):
            restored = service.restore(session, techie, tid, request)
            was_late = int(restored.breached_restore)
        with pinned_now(at(rng.uniform(2, 30))):
            service.close(session, boss, tid)
        return was_late


def today(engine: Engine, as_of: date, seed: int, skip: set[str]) -> Reason:
    """Tickets opened this morning: in 兰山支行 (two given to service_lanshan_1, one to its
    colleague, the rest in the pool; a card reader among them, a swap) and in the contractor's
    counties; then 兰山支行's service day planned (the nightly job's work)."""
    rng = random.Random(seed * 13 + 18)
    zone = ZoneInfo(get_settings().feed_timezone)
    morning = datetime.combine(as_of, time(8, 0), zone).astimezone(UTC)
    opened = 0
    with session_scope(engine) as session:
        county = session.execute(
            select(Branch).where(col(Branch.name) == SERVICE_COUNTY)
        ).scalar_one()
        ids = subtree_ids(session, county.id or 0)
        live = set(
            session.execute(
                select(Ticket.terminal_id).where(
                    col(Ticket.state).not_in([TicketState.closed, TicketState.cancelled])
                )
            ).scalars()
        )
        units = [u for u in _units(session, morning, skip) if u.terminal_id not in live]
        here = [u for u in units if u.branch_id in ids]
        covered: set[int] = set()
        for b in session.execute(
            select(Branch).where(col(Branch.name).in_(CONTRACTOR_COUNTIES))
        ).scalars():
            covered |= subtree_ids(session, b.id or 0)
        contracted = [u for u in units if u.branch_id in covered]
        boss = _actor(session, "ops_lanshan")
        # Pool tickets at the service staff's own outlets (the pool they see; a swap takes a
        # spare of the ticket's outlet), and a few elsewhere in the county given to them by ops.
        staff = {}
        for username in ("service_lanshan_1", "service_lanshan_2"):
            user = auth.user_by_username(session, system_actor("demo"), username)
            staff[user.branch_id] = username
        at_outlets = [u for u in here if u.branch_id in staff]
        elsewhere = [u for u in here if u.branch_id not in staff]
        picks = rng.sample(at_outlets, min(TODAY_TICKETS - 2, len(at_outlets)))
        picks.sort(key=lambda u: (u.branch_id != min(staff), u.sn))
        given = rng.sample(elsewhere, min(2, len(elsewhere)))
        repairs = [s for s, _ in SYMPTOMS if s.value not in get_settings().service_swap_symptoms]
        names = sorted(staff.values())
        for n, unit in enumerate(picks + given):
            outside = n >= len(picks)
            if n == 0:
                symptom = Symptom.card_reader  # a swap, with a spare of the outlet
            else:
                symptom = rng.choice(repairs) if outside else rng.choice([s for s, _ in SYMPTOMS])
            with pinned_now(morning + timedelta(minutes=10 * n)):
                terminal = session.get(Terminal, unit.terminal_id)
                assert terminal is not None
                ticket = service.open_ticket(
                    session, boss, terminal, symptom, source=TicketSource.phone
                )
                if outside:
                    service.assign(session, boss, ticket.id or 0, names[n % len(names)])
                elif n == 1:
                    service.assign(session, boss, ticket.id or 0, staff[unit.branch_id])
            opened += 1
        for n, unit in enumerate(rng.sample(contracted, min(3, len(contracted)))):
            with pinned_now(morning + timedelta(minutes=15 * n)):
                terminal = session.get(Terminal, unit.terminal_id)
                assert terminal is not None
                service.open_ticket(
                    session,
                    system_actor("demo"),
                    terminal,
                    rng.choice([s for s, _ in SYMPTOMS]),
                    source=TicketSource.qr,
                )
            opened += 1
    with session_scope(engine) as session:
        counts = watch.verify_restored(session)
    with session_scope(engine) as session:
        plan = dayplan.plan_service_day(
            session,
            system_actor("demo"),
            branch_code=county.code,
            plan_date=as_of,
            from_shift_start=True,
        )
        routed = len(plan.routes)
        planned = plan.tickets - len(plan.unplanned)
    return Reason(
        "{opened} tickets open today; {verified} restores verified by a transaction; {planned} "
        "tickets routed for {staff} service staff in {branch}",
        opened=opened,
        verified=counts["verified"],
        planned=planned,
        staff=routed,
        branch=SERVICE_COUNTY,
    )
