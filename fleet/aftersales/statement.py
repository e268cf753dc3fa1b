"""A contractor's monthly statement (对账单): the tickets of the branches it covers opened in
the month, each with its fee and its penalty, the outlets' share of the annual fee, and the
amount due, which is exactly the base plus the lines. A month not over yet is provisional;
operations sign off a finished month once.

Penalty: `penalty_per_breach` for each deadline a ticket missed (response, on site, restore).
The rates are the contractor's terms in force in the month (contractors.terms_for).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from pydantic import BaseModel
from sqlmodel import Session, col, select

from fleet.aftersales import contractors, sla
from fleet.aftersales.models import (
    StatementSignOff,
    Ticket,
    TicketState,
)
from fleet.core import audit, sheets
from fleet.core.access import Actor, Permission
from fleet.core.config import get_settings
from fleet.core.db import utcnow
from fleet.core.errors import Conflict
from fleet.core.i18n import N_, Lang, texts_for
from fleet.core.names import named
from fleet.core.words import said
from fleet.inventory.models import Branch, BranchLevel, Terminal


class StatementLine(BaseModel):
    ticket_id: int
    sn: str
    branch_code: str
    branch_name: str = ""
    opened_at: datetime
    restored_at: datetime | None
    state: TicketState
    symptom: str
    symptom_zh: str
    breaches: list[str]
    fee: float
    penalty: float


class Statement(BaseModel):
    contractor_code: str
    contractor_name: str
    month: str
    provisional: bool
    outlets: int
    base_fee: float
    lines: list[StatementLine]
    ticket_fees: float
    penalties: float
    amount_due: float
    terms_from: str
    rates: contractors.Rates
    signed_off_by: str | None = None


def _month_bounds(month: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    first = contractors.month_start(month)
    after = contractors.next_month_start(month)
    start = datetime.combine(first, datetime.min.time(), tz).astimezone(UTC)
    end = datetime.combine(after, datetime.min.time(), tz).astimezone(UTC)
    return start, end


def build(session: Session, actor: Actor, code: str, month: str) -> Statement:
    """The statement of contractor `code` for `month` (YYYY-MM)."""
    contractor = contractors.by_code(session, actor, code)
    start, end = _month_bounds(month, ZoneInfo(get_settings().feed_timezone))
    terms = contractors.terms_for(session, contractor, month)
    branches = contractors.covered(session, contractor)
    outlets = session.execute(
        select(Branch.id).where(
            col(Branch.id).in_(branches), col(Branch.level) == BranchLevel.outlet
        )
    ).all()
    rows = session.execute(
        select(Ticket, Terminal.sn, Branch.code, Branch.name)
        .join(Terminal, col(Terminal.id) == col(Ticket.terminal_id))
        .join(Branch, col(Branch.id) == col(Ticket.branch_id))
        .where(
            col(Ticket.branch_id).in_(branches),
            col(Ticket.opened_at) >= start,
            col(Ticket.opened_at) < end,
            col(Ticket.state).not_in([TicketState.cancelled, TicketState.suspected]),
        )
        .order_by(col(Ticket.opened_at), col(Ticket.id))
    ).all()
    lines = []
    for ticket, sn, branch_code, branch_name in rows:
        missed = sla.breaches(ticket)
        lines.append(
            StatementLine(
                ticket_id=ticket.id or 0,
                sn=sn,
                branch_code=branch_code,
                branch_name=branch_name,
                opened_at=ticket.opened_at,
                restored_at=ticket.restored_at,
                state=ticket.state,
                symptom=ticket.symptom.value,
                symptom_zh=said("symptom", ticket.symptom),
                breaches=missed,
                fee=terms.fee_per_ticket,
                penalty=round(terms.penalty_per_breach * len(missed), 2),
            )
        )
    base = round(terms.annual_fee_per_outlet * len(outlets) / 12, 2)
    fees = round(sum(line.fee for line in lines), 2)
    penalties = round(sum(line.penalty for line in lines), 2)
    signed = session.get(StatementSignOff, (contractor.id, month))
    return Statement(
        contractor_code=contractor.code,
        contractor_name=contractor.name,
        month=month,
        provisional=utcnow() < end,
        outlets=len(outlets),
        base_fee=base,
        lines=lines,
        ticket_fees=fees,
        penalties=penalties,
        amount_due=round(base + fees - penalties, 2),
        terms_from=terms.from_month,
        rates=contractors.Rates.model_validate(terms, from_attributes=True),
        signed_off_by=signed.signed_by_name if signed else None,
    )


def sign_off(session: Session, actor: Actor, code: str, month: str) -> StatementSignOff:
    """Operations agree a finished month's statement (once)."""
    actor.require(Permission.dispatch_tickets)
    statement = build(session, actor, code, month)
    if statement.provisional:
        raise Conflict(
            "the statement for {month} is provisional until the month is over", month=month
        )
    contractor = contractors.by_code(session, actor, code)
    if session.get(StatementSignOff, (contractor.id, month)) is not None:
        raise Conflict("the statement for {month} is signed off already", month=month)
    signed = StatementSignOff(
        contractor_id=contractor.id or 0,
        month=month,
        amount_due=statement.amount_due,
        signed_by_name=actor.username,
    )
    session.add(signed)
    audit.record(
        session,
        actor=actor,
        action="sign_off",
        entity="contractor_statement",
        entity_id=f"{code} {month}",
        changes={"amount_due": statement.amount_due},
    )
    session.flush()
    return signed


# The workbook's words: English msgids, written in the reader's language (service.po).
HEADER = (
    N_("Ticket"),
    N_("Unit SN"),
    N_("Branch"),
    N_("Opened at"),
    N_("Restored at"),
    N_("State"),
    N_("Symptom"),
    N_("Deadlines missed"),
    N_("Fee per ticket (yuan)"),
    N_("Penalty (yuan)"),
)


def write_xlsx(statement: Statement, path: Path, lang: Lang = "zh") -> None:
    """The statement as a workbook in `lang`: the lines, then the totals (示例费率: example
    rates)."""
    t = texts_for(lang)
    tz = ZoneInfo(get_settings().feed_timezone)
    book = Workbook()
    sheet = book.active
    sheet.title = statement.month
    title = t.gettext(
        "{name}: after-sales statement {month}",
        name=statement.contractor_name,
        month=statement.month,
    )
    if statement.provisional:
        title += t.gettext(" (month not over: provisional)")
    sheets.append(sheet, [title])
    sheets.append(sheet, [t.gettext(h) for h in HEADER])
    for line in statement.lines:
        restored = (
            line.restored_at.astimezone(tz).replace(tzinfo=None) if line.restored_at else None
        )
        sheets.append(
            sheet,
            [
                line.ticket_id,
                line.sn,
                named(line.branch_name, line.branch_code),
                line.opened_at.astimezone(tz).replace(tzinfo=None),
                restored,
                said("ticket", line.state, lang),
                said("symptom", line.symptom, lang),
                t.gettext(", ").join(said("breach", b, lang) for b in line.breaches),
                line.fee,
                line.penalty,
            ],
        )
    sheets.append(sheet, [])
    rates = statement.rates
    terms = t.gettext(
        "Terms from {month}: {outlet} per outlet a year, {ticket} per ticket, "
        "{penalty} per missed deadline",
        month=statement.terms_from,
        outlet=t.money(rates.annual_fee_per_outlet),
        ticket=t.money(rates.fee_per_ticket),
        penalty=t.money(rates.penalty_per_breach),
    )
    sheets.append(sheet, [terms])
    for label, value in (
        (
            t.gettext("Outlets' fee ({n} outlets × the yearly fee / 12)", n=statement.outlets),
            statement.base_fee,
        ),
        (t.gettext("Ticket fees in all"), statement.ticket_fees),
        (t.gettext("Penalties in all"), -statement.penalties),
        (t.gettext("Amount due"), statement.amount_due),
    ):
        sheets.append(sheet, [label, *[None] * 8, value])
    if statement.signed_off_by:
        sheets.append(sheet, [t.gettext("Signed off by"), statement.signed_off_by])
    book.save(path)
