"""Spares (备机) and vendor repairs: which in-stock units a branch keeps to swap, how many it
should keep, and units away at the vendor.

Suggested spares: failures reach a branch as a Poisson process; while a broken unit is away
for the repair lead time L (the branch's mean vendor turnaround, FLEET_SERVICE_REPAIR_LEAD_DAYS
without history), the failures in L are Poisson with mean λ·L, λ the branch's fault tickets
per day over the last FLEET_SERVICE_SPARES_WINDOW_DAYS. The suggestion is the smallest count k
with P(N ≤ k) ≥ 95%: enough spares for a swap on 19 lead times out of 20.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from fleet.aftersales.models import (
    RepairOutcome,
    Spare,
    Ticket,
    TicketState,
    VendorRepair,
)
from fleet.core import audit
from fleet.core.access import Actor, Permission, system_actor
from fleet.core.config import get_settings
from fleet.core.db import utcnow
from fleet.core.errors import Conflict, NotFound
from fleet.core.phrases import phrase, word
from fleet.inventory import lifecycle
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch, Terminal, TerminalState
from fleet.inventory.scope import subtree_ids

U = TerminalState


def mark(session: Session, actor: Actor, sn: str) -> Spare:
    """Marks an in-stock unit as its branch's spare (operations)."""
    actor.require(Permission.dispatch_tickets)
    unit = inventory.terminal_by_sn(session, actor, sn)
    if unit.state is not U.in_stock:
        raise Conflict(
            "spare {sn} is {state}; only a unit in stock can be swapped in",
            sn=sn,
            state=unit.state,
        )
    spare = session.get(Spare, unit.id)
    if spare is None:
        spare = Spare(
            terminal_id=unit.id or 0, branch_id=unit.branch_id, marked_by_name=actor.username
        )
        session.add(spare)
        audit.record(
            session,
            actor=actor,
            action="mark_spare",
            entity="terminal",
            entity_id=sn,
            branch_id=unit.branch_id,
        )
        session.flush()
    return spare


def unmark(session: Session, actor: Actor, sn: str) -> None:
    actor.require(Permission.dispatch_tickets)
    unit = inventory.terminal_by_sn(session, actor, sn)
    session.execute(delete(Spare).where(col(Spare.terminal_id) == unit.id))
    audit.record(
        session,
        actor=actor,
        action="unmark_spare",
        entity="terminal",
        entity_id=sn,
        branch_id=unit.branch_id,
    )


def spare_for_swap(session: Session, branch_id: int, sn: str) -> Terminal:
    """The spare to place at a ticket's merchant: marked, in stock, of the ticket's branch."""
    unit = session.execute(select(Terminal).where(col(Terminal.sn) == sn)).scalar_one_or_none()
    if unit is None:
        raise NotFound("terminal {key} not found", key=sn)
    if unit.branch_id != branch_id:
        raise Conflict(
            "spare {sn} belongs to another branch; swap with a spare of the ticket's branch",
            sn=sn,
        )
    if unit.state is not U.in_stock:
        raise Conflict(
            "spare {sn} is {state}; only a unit in stock can be swapped in", sn=sn, state=unit.state
        )
    if session.get(Spare, unit.id) is None:
        raise Conflict("{sn} is not marked as a spare; mark it first", sn=sn)
    return unit


def spares_at(session: Session, actor: Actor, ticket: Ticket) -> list[Terminal]:
    """The spares a ticket's unit may be swapped with: in stock, marked, of its branch (the
    caller must see the ticket already; service staff may not list the inventory)."""
    actor.require(Permission.work_tickets)
    stmt = (
        select(Terminal)
        .join(Spare, col(Spare.terminal_id) == col(Terminal.id))
        .where(col(Spare.branch_id) == ticket.branch_id, col(Terminal.state) == U.in_stock)
        .order_by(col(Terminal.sn))
    )
    return list(session.execute(stmt).scalars())


def used(session: Session, unit: Terminal) -> None:
    """A spare placed at a merchant is no longer a spare."""
    session.execute(delete(Spare).where(col(Spare.terminal_id) == unit.id))


class SpareNeed(BaseModel):
    branch_id: int
    branch_code: str
    tickets: int
    per_day: float
    lead_days: float
    suggested: int
    spares: int
    shortfall: int


def poisson_quantile(mean: float, level: float = 0.95) -> int:
    """The smallest k with P(N ≤ k) ≥ level for N ~ Poisson(mean)."""
    if mean <= 0:
        return 0
    k, term = 0, math.exp(-mean)
    total = term
    while total < level:
        k += 1
        term *= mean / k
        total += term
    return k


def needs(session: Session, actor: Actor, *, branch_id: int | None = None) -> list[SpareNeed]:
    """Per branch in scope: fault tickets of the window, the suggested spare count, the spares
    it has and the shortfall."""
    actor.require(Permission.dispatch_tickets)
    settings = get_settings()
    window = settings.service_spares_window_days
    since = utcnow() - timedelta(days=window)
    stmt = select(Branch)
    if branch_id is not None:
        stmt = stmt.where(col(Branch.id).in_(subtree_ids(session, branch_id)))
    branches = [b for b in session.execute(stmt).scalars() if actor.sees_branch(b.id)]
    failures = dict(
        session.execute(
            select(Ticket.branch_id, func.count())
            .where(
                col(Ticket.opened_at) >= since,
                col(Ticket.state).not_in([TicketState.cancelled, TicketState.suspected]),
            )
            .group_by(col(Ticket.branch_id))
        ).all()
    )
    spares = dict(
        session.execute(
            select(Spare.branch_id, func.count())
            .join(Terminal, col(Terminal.id) == col(Spare.terminal_id))
            .where(col(Terminal.state) == U.in_stock)
            .group_by(col(Spare.branch_id))
        ).all()
    )
    turnaround: dict[int, list[float]] = {}
    for branch, sent, back in session.execute(
        select(VendorRepair.branch_id, VendorRepair.sent_at, VendorRepair.returned_at).where(
            col(VendorRepair.returned_at).is_not(None)
        )
    ).all():
        turnaround.setdefault(branch, []).append((back - sent).total_seconds() / 86400)
    out = []
    for branch in sorted(branches, key=lambda b: b.code):
        bid = branch.id or 0
        count = int(failures.get(bid, 0))
        lead = turnaround.get(bid)
        lead_days = sum(lead) / len(lead) if lead else settings.service_repair_lead_days
        per_day = count / window
        suggested = poisson_quantile(per_day * lead_days)
        have = int(spares.get(bid, 0))
        out.append(
            SpareNeed(
                branch_id=bid,
                branch_code=branch.code,
                tickets=count,
                per_day=round(per_day, 4),
                lead_days=round(lead_days, 1),
                suggested=suggested,
                spares=have,
                shortfall=max(0, suggested - have),
            )
        )
    return out


def send_to_vendor(
    session: Session,
    actor: Actor,
    sn: str,
    *,
    vendor: str,
    ticket_id: int | None = None,
    note: str = "",
) -> VendorRepair:
    """Sends a broken unit (faulty or in repair at the branch) to the vendor."""
    actor.require(Permission.dispatch_tickets)
    unit = inventory.terminal_by_sn(session, actor, sn)
    away = session.execute(
        select(VendorRepair).where(
            col(VendorRepair.terminal_id) == unit.id, col(VendorRepair.returned_at).is_(None)
        )
    ).scalar_one_or_none()
    if away is not None:
        raise Conflict("{sn} is at the vendor already", sn=sn)
    if unit.state is U.faulty:
        lifecycle.transition(
            session,
            system_actor(f"ticket:{actor.username}"),
            unit,
            U.in_repair,
            reason=phrase("vendor_sent", vendor=vendor),
        )
    elif unit.state is not U.in_repair:
        raise Conflict(
            "{sn} is {state}; only a broken unit goes to the vendor", sn=sn, state=unit.state
        )
    repair = VendorRepair(
        terminal_id=unit.id or 0,
        branch_id=unit.branch_id,
        ticket_id=ticket_id,
        vendor=vendor,
        note=note,
    )
    session.add(repair)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="vendor_send",
        entity="terminal",
        entity_id=sn,
        branch_id=unit.branch_id,
        changes={"vendor": vendor},
    )
    return repair


def back_from_vendor(
    session: Session,
    actor: Actor,
    repair_id: int,
    outcome: RepairOutcome,
    *,
    cost: float = 0.0,
    at: datetime | None = None,
) -> VendorRepair:
    """The unit is back: repaired into stock, or retired; with what the repair cost."""
    actor.require(Permission.dispatch_tickets)
    repair = session.get(VendorRepair, repair_id)
    if repair is None or not actor.sees_branch(repair.branch_id):
        raise NotFound("vendor repair {repair_id} not found", repair_id=repair_id)
    if repair.returned_at is not None:
        raise Conflict("vendor repair {repair_id} is back already", repair_id=repair_id)
    unit = session.get(Terminal, repair.terminal_id)
    if unit is not None and unit.state is U.in_repair:
        target = U.in_stock if outcome is RepairOutcome.in_stock else U.retired
        lifecycle.transition(
            session,
            system_actor(f"ticket:{actor.username}"),
            unit,
            target,
            reason=phrase("vendor_repair", repair=repair_id, outcome=word("state", outcome)),
        )
    repair.returned_at, repair.outcome, repair.cost = at or utcnow(), outcome, cost
    session.add(repair)
    session.flush()
    return repair


def units_down(session: Session, actor: Actor, branch_id: int) -> dict[str, int]:
    """How many units of a branch subtree are down: faulty, and in repair (ops' overview)."""
    actor.require(Permission.read_inventory)
    ids = [b for b in subtree_ids(session, branch_id) if actor.sees_branch(b)]
    stmt = (
        select(Terminal.state, func.count())
        .where(col(Terminal.branch_id).in_(ids), col(Terminal.state).in_([U.faulty, U.in_repair]))
        .group_by(col(Terminal.state))
    )
    found = {TerminalState(s).value: int(n) for s, n in session.execute(stmt)}
    return {s.value: found.get(s.value, 0) for s in (U.faulty, U.in_repair)}


class VendorRepairRow(BaseModel):
    """A vendor repair as the ops page lists it: the unit, its branch, dates and cost."""

    id: int
    sn: str
    model: str
    branch_id: int
    vendor: str
    sent_at: datetime
    returned_at: datetime | None
    outcome: RepairOutcome | None
    cost: float


def vendor_repairs(
    session: Session, actor: Actor, *, branch_id: int, returned_limit: int | None = 50
) -> tuple[list[VendorRepairRow], int]:
    """A branch subtree's vendor repairs: units away first (longest away first), then the
    latest `returned_limit` returned ones (every one when None); and how many came back in
    all, for the list to say when it is cut."""
    actor.require(Permission.dispatch_tickets)
    ids = [b for b in subtree_ids(session, branch_id) if actor.sees_branch(b)]
    stmt = (
        select(VendorRepair, Terminal)
        .join(Terminal, col(Terminal.id) == col(VendorRepair.terminal_id))
        .where(col(VendorRepair.branch_id).in_(ids))
    )
    away = stmt.where(col(VendorRepair.returned_at).is_(None)).order_by(col(VendorRepair.sent_at))
    returned = stmt.where(col(VendorRepair.returned_at).is_not(None))
    back = returned.order_by(col(VendorRepair.returned_at).desc()).limit(returned_limit)
    returned_total = session.execute(
        select(func.count()).select_from(returned.subquery())
    ).scalar_one()
    rows = [
        VendorRepairRow(
            id=r.id or 0,
            sn=u.sn,
            model=u.model,
            branch_id=r.branch_id,
            vendor=r.vendor,
            sent_at=r.sent_at,
            returned_at=r.returned_at,
            outcome=r.outcome,
            cost=r.cost,
        )
        for q in (away, back)
        for r, u in session.execute(q).all()
    ]
    return rows, int(returned_total)
