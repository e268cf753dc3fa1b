"""After-sales KPIs by branch, contractor, terminal model or the unit's age, over a window of
days:

- mean and 90th-percentile time to restore, in business hours, the paused time left out;
- SLA met: restored tickets that met their restore deadline;
- first-time fix: restored tickets with no pause (no parts, no vendor) and no repeat fault;
- repeats: faults opened within 30 / 90 days of the unit's previous one;
- downtime days per 100 units: from the fault to the restore (or now), per 100 units;
- cost (parts and vendor fees), per ticket, and per outlet per year against the 4,000-yuan
  budget;
- reliability: faults per 100 units per year (the window's faults scaled to a year, over the
  group's units; by age, the units of that age today).
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from sqlmodel import Session, col, func, select

from fleet.aftersales import contractors
from fleet.aftersales.clock import Clock
from fleet.aftersales.models import PAUSED, Contractor, Ticket, TicketEvent, TicketState
from fleet.core.access import Actor, Permission
from fleet.core.config import get_settings
from fleet.core.db import utcnow
from fleet.inventory.models import Branch, BranchLevel, Placement, Terminal
from fleet.inventory.scope import subtree_ids

BUDGET_PER_OUTLET = 4000.0  # yuan a year: the seed's figure for outsourced after-sales
By = Literal["branch", "contractor", "model", "age"]
# Whole years in service at the fault (from deployment, else registration): 0-1, 1-2, 2-3, 3+.
AGE_BANDS = ("0-1", "1-2", "2-3", "3+")


class KpiRow(BaseModel):
    group: str
    tickets: int
    restored: int
    mean_restore_hours: float | None
    p90_restore_hours: float | None
    sla_met_pct: float | None
    first_time_fix_pct: float | None
    repeats_30: int
    repeats_90: int
    units: int
    downtime_days_per_100_units: float | None
    cost: float
    cost_per_ticket: float | None
    failures_per_100_units_year: float | None
    outlets: int
    cost_per_outlet_year: float | None
    budget_per_outlet_year: float = BUDGET_PER_OUTLET


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)], 2)


def age_band(start: datetime | None, at: datetime) -> str:
    """The band of a unit's years in service at a moment (AGE_BANDS)."""
    years = 0 if start is None else max(0, (at - start).days) // 365
    return AGE_BANDS[min(years, len(AGE_BANDS) - 1)]


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def kpis(
    session: Session,
    actor: Actor,
    *,
    by: By = "branch",
    branch_id: int | None = None,
    days: int = 365,
) -> list[KpiRow]:
    """One row per branch (with a ticket), contractor or model in the actor's scope."""
    actor.require(Permission.dispatch_tickets)
    clock = Clock(get_settings())
    now = utcnow()
    since = now - timedelta(days=days)
    scope = actor.branch_ids
    if branch_id is not None:
        below = subtree_ids(session, branch_id)
        scope = below if scope is None else scope & below
    stmt = select(Ticket, Terminal.model).join(
        Terminal, col(Terminal.id) == col(Ticket.terminal_id)
    )
    stmt = stmt.where(
        col(Ticket.opened_at) >= since,
        col(Ticket.state).not_in([TicketState.cancelled, TicketState.suspected]),
    )
    if scope is not None:
        stmt = stmt.where(col(Ticket.branch_id).in_(scope))
    rows = session.execute(stmt).all()
    paused = set(
        session.execute(
            select(TicketEvent.ticket_id).where(col(TicketEvent.to_state).in_(PAUSED))
        ).scalars()
    )
    repeated = {t.repeat_of_id for t, _ in rows if t.repeat_of_id is not None}
    # Every earlier fault of each unit, for the days since the previous one (repeats 30/90).
    faults: dict[int, list] = defaultdict(list)
    for unit, opened in session.execute(
        select(Ticket.terminal_id, Ticket.opened_at).where(
            col(Ticket.state).not_in([TicketState.cancelled, TicketState.suspected])
        )
    ).all():
        faults[unit].append(opened)
    codes = dict(session.execute(select(Branch.id, Branch.code)).all())

    groups: dict[str, list[tuple[Ticket, str]]] = defaultdict(list)
    members: dict[str, frozenset[int]] = {}
    if by == "contractor":
        for contractor in session.execute(select(Contractor)).scalars():
            members[contractor.code] = contractors.covered(session, contractor)
        for ticket, model in rows:
            for code, covered in members.items():
                if ticket.branch_id in covered:
                    groups[code].append((ticket, model))
    elif by == "age":
        started = _service_starts(session, scope)
        for ticket, model in rows:
            groups[age_band(started.get(ticket.terminal_id), ticket.opened_at)].append(
                (ticket, model)
            )
    else:
        for ticket, model in rows:
            key = codes.get(ticket.branch_id, "?") if by == "branch" else (model or "?")
            groups[key].append((ticket, model))

    out = []
    for key in sorted(groups):
        tickets = [t for t, _ in groups[key]]
        units: int
        if by == "model":
            unit_q = select(func.count()).select_from(Terminal).where(col(Terminal.model) == key)
            if scope is not None:
                unit_q = unit_q.where(col(Terminal.branch_id).in_(scope))
            branches: frozenset[int] | None = scope
        elif by == "age":
            unit_q = None
            units = sum(1 for start in started.values() if age_band(start, now) == key)
            branches = scope
        else:
            branches = (
                members[key] if by == "contractor" else subtree_ids(session, tickets[0].branch_id)
            )
            unit_q = (
                select(func.count())
                .select_from(Terminal)
                .where(col(Terminal.branch_id).in_(branches))
            )
        if unit_q is not None:
            units = int(session.execute(unit_q).scalar_one())
        outlet_q = (
            select(func.count()).select_from(Branch).where(col(Branch.level) == BranchLevel.outlet)
        )
        if branches is not None:
            outlet_q = outlet_q.where(col(Branch.id).in_(branches))
        outlets = int(session.execute(outlet_q).scalar_one()) if by not in ("model", "age") else 0
        done = [t for t in tickets if t.restored_at is not None]
        hours = [
            max(0.0, clock.between(t.opened_at, t.restored_at) - t.paused_hours)  # type: ignore[arg-type]
            for t in done
        ]
        met = sum(1 for t in done if not t.breached_restore)
        first_fix = sum(1 for t in done if t.id not in paused and t.id not in repeated)
        gaps = []
        for t in tickets:
            before = [o for o in faults[t.terminal_id] if o < t.opened_at]
            if before:
                gaps.append((t.opened_at - max(before)).days)
        down = sum(((t.restored_at or now) - t.opened_at).total_seconds() / 86400 for t in tickets)
        cost = round(sum(t.parts_cost + t.vendor_fee for t in tickets), 2)
        per_outlet = round(cost / outlets * 365 / days, 2) if outlets else None
        out.append(
            KpiRow(
                group=key,
                tickets=len(tickets),
                restored=len(done),
                mean_restore_hours=round(sum(hours) / len(hours), 2) if hours else None,
                p90_restore_hours=_p90(hours),
                sla_met_pct=_pct(met, len(done)),
                first_time_fix_pct=_pct(first_fix, len(done)),
                repeats_30=sum(1 for g in gaps if g <= 30),
                repeats_90=sum(1 for g in gaps if g <= 90),
                units=units,
                downtime_days_per_100_units=round(100 * down / units, 2) if units else None,
                cost=cost,
                cost_per_ticket=round(cost / len(tickets), 2) if tickets else None,
                failures_per_100_units_year=(
                    round(100 * len(tickets) / units * 365 / days, 2) if units else None
                ),
                outlets=outlets,
                cost_per_outlet_year=per_outlet,
            )
        )
    return out


def _service_starts(session: Session, scope: frozenset[int] | None) -> dict[int, datetime | None]:
    """Each unit in scope and when its service began: its first placement, else registration."""
    units = select(Terminal.id, Terminal.created_at)
    placed = select(Placement.terminal_id, Placement.started_at).join(
        Terminal, col(Terminal.id) == col(Placement.terminal_id)
    )
    if scope is not None:
        units = units.where(col(Terminal.branch_id).in_(scope))
        placed = placed.where(col(Terminal.branch_id).in_(scope))
    # Rows unpack as the tuples they are typed as (Result.tuples() is deprecated in SA 2.1).
    starts: dict[int, datetime | None] = {unit: made for unit, made in session.execute(units)}
    for unit, started in session.execute(placed):
        earlier = starts.get(unit)
        if earlier is None or started < earlier:
            starts[unit] = started
    return starts
