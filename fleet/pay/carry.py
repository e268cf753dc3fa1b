"""Clawbacks carried between contracts (承包): a unit credited as activated in a contract's
months that falls back after the contract ended is taken back from the same contractor.

- The same contractor: a contract held by the same staff member, or by the same team (the same
  set of members); drafts are not contracts yet and take nothing.
- Where it goes: the contractor's first contract that begins on or after the ended one's end
  and is still running on the day the unit fell back (its period ends after that day). In that
  contract it is a clawback line naming the unit, the month it was credited in, the day it fell
  back and the contract it came from (`from_contract_id`): in the monthly accrual of the month
  after it fell back (the contract's first month takes those that fell back before it began)
  and in the final settlement.
- What is taken back: what the ended contract paid for the unit's revenue of that month, at
  its final settlement's factor.
- Without such a contract it is outstanding: the ended contract's final statement lists it
  (`later`, with `outstanding_fen`), and it is carried as soon as a later contract of the
  same contractor exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from fleet.core.config import Settings
from fleet.pay import settlement
from fleet.pay.contract_models import (
    Contract,
    ContractMember,
    ContractStatus,
    LaterClawback,
    Statement,
    StatementLine,
)


@dataclass(frozen=True)
class Carried:
    """A clawback of `source` that fell back after its period, and the contract taking it."""

    source_id: int
    line: StatementLine
    destination: Contract | None


def _members(session: Session, contract_id: int) -> frozenset[int]:
    return frozenset(
        session.exec(
            select(ContractMember.user_id).where(col(ContractMember.contract_id) == contract_id)
        )
    )


def same_contractor(session: Session, contract: Contract) -> list[Contract]:
    """The other contracts (not drafts) held by exactly the same members, by period."""
    mine = _members(session, contract.id or 0)
    held = select(ContractMember.contract_id).where(col(ContractMember.user_id).in_(mine))
    candidates = session.exec(
        select(Contract)
        .where(col(Contract.id).in_(held), col(Contract.id) != contract.id)
        .where(col(Contract.status) != ContractStatus.draft)
        .order_by(col(Contract.period_start), col(Contract.id))
    ).all()
    return [c for c in candidates if _members(session, c.id or 0) == mine]


def _paid_factor(contract: Contract, found: settlement.Usage, settings: Settings) -> float:
    if contract.status is ContractStatus.settled and contract.settlement:
        return float(contract.settlement.get("factor", 0.0))
    return settlement.core(
        contract, found, contract.period_start, contract.period_end, settings
    ).factor


def after_period(
    session: Session,
    contract: Contract,
    today: date,
    settings: Settings,
    others: list[Contract] | None = None,
) -> list[Carried]:
    """The contract's units that fell back after its period (known by `today`), each with
    the contract that takes it back, or None while there is none."""
    if contract.status is ContractStatus.draft or today < contract.period_end:
        return []
    merchants = settlement.merchant_ids(session, contract)
    first = contract.period_start - timedelta(days=settings.active_days)
    last = contract.period_end + timedelta(days=contract.clawback_days)
    found = settlement.usage(session, merchants, first, last, settings)
    fell = [
        lapse
        for lapse in settlement.lapses(session, contract, merchants, found, today, settings)
        if lapse.lapsed_on >= contract.period_end
    ]
    if not fell:
        return []
    factor = _paid_factor(contract, found, settings)
    later = [
        c
        for c in (others if others is not None else same_contractor(session, contract))
        if c.period_start >= contract.period_end
    ]
    carried = []
    for lapse in fell:
        line = settlement.clawback_line(contract, found, lapse, factor)
        line.from_contract_id = contract.id
        destination = next((c for c in later if c.period_end > lapse.lapsed_on), None)
        carried.append(Carried(contract.id or 0, line, destination))
    return carried


def carried_in(
    session: Session, contract: Contract, today: date, settings: Settings
) -> list[StatementLine]:
    """The clawbacks of the contractor's earlier contracts that this contract takes back."""
    others = same_contractor(session, contract)
    found: list[StatementLine] = []
    for earlier in others:
        reach = earlier.period_end + timedelta(days=earlier.clawback_days)
        if earlier.period_end > contract.period_start or reach <= contract.period_start:
            continue
        kin = [c for c in others if c.id != earlier.id] + [contract]
        kin.sort(key=lambda c: (c.period_start, c.id or 0))
        found += [
            c.line
            for c in after_period(session, earlier, today, settings, kin)
            if c.destination is not None and c.destination.id == contract.id
        ]
    return found


def add_carried(
    session: Session, contract: Contract, made: Statement, today: date, settings: Settings
) -> Statement:
    """`made` (a statement of `contract`) with the clawbacks carried into it: all of them in
    the final settlement; in a month's accrual those that fell back in the month before (the
    first month: any time before it)."""
    lines = carried_in(session, contract, today, settings)
    if not made.final:
        before = (made.start - timedelta(days=1)).replace(day=1)
        first = made.start <= contract.period_start
        lines = [
            ln
            for ln in lines
            if ln.lapsed_on is not None
            and ln.lapsed_on < made.start
            and (first or ln.lapsed_on >= before)
        ]
    if not lines:
        return made
    every = [*made.lines, *lines]
    return made.model_copy(
        update={"lines": every, "total_fen": sum(ln.commission_fen for ln in every)}
    )


def add_later(
    session: Session, contract: Contract, made: Statement, today: date, settings: Settings
) -> Statement:
    """A final statement with its units that fell back after the period, carried or not."""
    later = [
        LaterClawback(
            **c.line.model_dump(),
            carried_to_id=c.destination.id if c.destination else None,
            carried_to_name=c.destination.name if c.destination else "",
        )
        for c in after_period(session, contract, today, settings)
    ]
    if not later:
        return made
    outstanding = sum(c.commission_fen for c in later if c.carried_to_id is None)
    return made.model_copy(update={"later": later, "outstanding_fen": outstanding})
