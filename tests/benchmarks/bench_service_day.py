"""Benchmark: a service day of 60 tickets and 4 service staff (issue 18: under 5 s, no break).

    .venv/bin/python -m tests.benchmarks.bench_service_day            # full: 60 tickets, 4 staff
    .venv/bin/python -m tests.benchmarks.bench_service_day --smoke    # seconds; the suite runs it

Builds a temporary SQLite database (the real migrations) through the services: a county
branch with four outlets a few kilometres apart, a service staff member at each, merchants
around them with mixed opening hours, a unit at each; spares marked at each outlet; tickets
opened as operations do (a third of them swaps by their symptom), a few given to a staff
member, with restore deadlines spread over the day and the next days (a quarter due by noon,
some late already). Then `aftersales.dayplan.plan_service_day` end to end with the default
budget (tickets, travel times, PyVRP, schedule, the independent validator, storing): wall
time, tickets routed, how many of those due that day were served by their deadline, and
the route breaks (validator findings; the plan keeps none, so any shows as a note).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import col, select

from fleet import wiring
from fleet.aftersales import dayplan, service, spares
from fleet.aftersales.models import ServiceStop, Symptom, Ticket, TicketSource
from fleet.auth import service as auth
from fleet.auth.models import UserCreate
from fleet.core.access import Role, system_actor
from fleet.core.config import get_settings
from fleet.core.db import make_engine, session_scope
from fleet.inventory import service as inventory
from fleet.inventory.models import BranchCreate, MerchantCreate, TerminalCreate
from fleet.migrations import upgrade

ACTOR = system_actor("bench")
COUNTY = (35.05, 118.35)
HOURS = ["08:00-18:00", "08:00-12:00,13:30-18:00", "09:00-21:00", "08:30-17:00"]
SYMPTOMS = [Symptom.phone_line, Symptom.card_reader, Symptom.printer, Symptom.power, Symptom.other]
DAY = date(2030, 3, 5)  # a Tuesday
ZONE = ZoneInfo("Asia/Shanghai")


def _at(day: date, hours: float) -> datetime:
    local = datetime.combine(day, datetime.min.time(), ZONE) + timedelta(hours=hours)
    return local.astimezone(UTC)


def build(url: str, tickets: int, staff: int, seed: int) -> None:
    """The county, its outlets and staff, the merchants and units, spares, and the tickets."""
    rng = random.Random(seed)
    engine = make_engine(url)
    with session_scope(engine) as session:
        inventory.create_branch(
            session,
            ACTOR,
            BranchCreate(code="C", name="县支行", level="county", lat=COUNTY[0], lng=COUNTY[1]),  # type: ignore[arg-type]
        )
        for k in range(staff):
            lat, lng = COUNTY[0] + 0.03 * (k % 2) - 0.015, COUNTY[1] + 0.03 * (k // 2) - 0.015
            code = f"O{k}"
            inventory.create_branch(
                session,
                ACTOR,
                BranchCreate(
                    code=code, name=f"网点{k}", level="outlet", parent_code="C", lat=lat, lng=lng
                ),  # type: ignore[arg-type]
            )
            auth.create_user(
                session,
                ACTOR,
                UserCreate(
                    username=f"svc{k}", full_name=f"售后{k}", role=Role.service, branch_code=code
                ),
            )
            for s in range(4):  # spares in stock, marked
                inventory.create_terminal(
                    session, ACTOR, TerminalCreate(sn=f"SP{k}{s}", model="T", branch_code=code)
                )
                spares.mark(session, ACTOR, f"SP{k}{s}")
        ops = auth.create_user(
            session,
            ACTOR,
            UserCreate(username="ops", full_name="运营", role=Role.branch_ops, branch_code="C"),
        )
        for n in range(tickets):
            outlet = n % staff
            lat = COUNTY[0] + 0.03 * (outlet % 2) - 0.015 + rng.uniform(-0.025, 0.025)
            lng = COUNTY[1] + 0.03 * (outlet // 2) - 0.015 + rng.uniform(-0.025, 0.025)
            inventory.create_merchant(
                session,
                ACTOR,
                MerchantCreate(
                    code=f"M{n}",
                    name=f"商户{n}",
                    branch_code=f"O{outlet}",
                    lat=lat,
                    lng=lng,
                    opening_hours=rng.choice(HOURS),
                ),  # type: ignore[arg-type]
            )
            inventory.create_terminal(
                session,
                ACTOR,
                TerminalCreate(
                    sn=f"SN{n}", model="T", branch_code=f"O{outlet}", merchant_code=f"M{n}"
                ),
            )
        boss = auth.actor_for(session, ops)
        for n in range(tickets):
            unit = inventory.terminal_by_sn(session, boss, f"SN{n}")
            symptom = SYMPTOMS[n % len(SYMPTOMS)]
            ticket = service.open_ticket(session, boss, unit, symptom, source=TicketSource.phone)
            roll = rng.random()
            if roll < 0.25:  # due by noon of the day
                due = _at(DAY, rng.uniform(10.5, 12))
            elif roll < 0.3:  # late already
                due = _at(DAY - timedelta(days=1), 16)
            elif roll < 0.55:  # due in the afternoon
                due = _at(DAY, rng.uniform(14, 17.5))
            else:  # due on a later day
                due = _at(DAY + timedelta(days=rng.randint(1, 3)), 12)
            session.execute(
                update(Ticket).where(col(Ticket.id) == ticket.id).values(restore_by=due)
            )
            if n % 10 == 0:
                service.assign(session, boss, ticket.id or 0, f"svc{n % staff}")
    engine.dispose()


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=60)
    parser.add_argument("--staff", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=None, help="solver budget")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help="12 tickets, 2 staff, 0.5 s")
    args = parser.parse_args(argv)
    if args.smoke:
        args.tickets, args.staff, args.seconds = 12, 2, 0.5
    wiring.plug_in()
    with tempfile.TemporaryDirectory(prefix="fleet-service-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        started = time.perf_counter()
        build(url, args.tickets, args.staff, args.seed)
        took = time.perf_counter() - started
        print(f"built {args.tickets} tickets, {args.staff} staff in {took:.1f} s")
        engine = make_engine(url)
        budget = args.seconds if args.seconds is not None else get_settings().service_solver_seconds
        started = time.perf_counter()
        with session_scope(engine) as session:
            plan = dayplan.plan_service_day(
                session, ACTOR, branch_code="C", plan_date=DAY, seconds=budget
            )
            plan_id = plan.id
        wall = time.perf_counter() - started
        with session_scope(engine) as session:
            stops = list(
                session.execute(
                    select(ServiceStop).where(col(ServiceStop.plan_id) == plan_id)
                ).scalars()
            )
            stored = session.get(type(plan), plan_id)
            assert stored is not None
            notes, unplanned = list(stored.notes), list(stored.unplanned)
        engine.dispose()
    due_today = [s for s in stops if s.due is not None and s.due.astimezone(ZONE).date() == DAY]
    kept = sum(s.planned_departure <= s.due for s in due_today if s.due is not None)
    breaks = [n for n in notes if str(n.get("code", "")).startswith("note_route_check")]
    results = {
        "wall_s": round(wall, 2),
        "budget_s": budget,
        "tickets": float(args.tickets),
        "routed": float(len(stops)),
        "unplanned": float(len(unplanned)),
        "due_today_routed": float(len(due_today)),
        "due_today_kept": float(kept),
        "route_breaks": float(len(breaks)),
    }
    print(
        f"service day: {args.tickets} tickets, {args.staff} staff: planned in {wall:.2f} s "
        f"(solver budget {budget:g} s): {len(stops)} routed, {len(unplanned)} left out; "
        f"{kept} of {len(due_today)} routed tickets due that day served by their deadline; "
        f"route breaks found by the independent validator: {len(breaks)}"
    )
    from fleet.visits.present import notes_said

    for note in notes_said(notes):
        print(f"  note: {note}")
    return results


if __name__ == "__main__":
    main()
