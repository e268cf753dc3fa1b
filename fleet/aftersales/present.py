"""Tickets as the API and the command line show them: names for ids, SLA time left, breaches."""

from __future__ import annotations

from sqlmodel import Session, col, select

from fleet.aftersales import service, sla
from fleet.aftersales.clock import Clock
from fleet.aftersales.models import (
    PAUSED,
    Symptom,
    Ticket,
    TicketEventPublic,
    TicketPublic,
)
from fleet.auth.models import User
from fleet.core import words
from fleet.core.config import get_settings
from fleet.core.db import utcnow
from fleet.inventory.models import Branch, Merchant, Terminal

# The symptoms in words (core.words' msgids, keyed by the enum).
SYMPTOM = {s: words.SYMPTOM[s.value] for s in Symptom}


def public(
    session: Session, tickets: list[Ticket], *, with_history: bool = False
) -> list[TicketPublic]:
    """The tickets with their unit's SN, merchant, branch, assignee and SLA time left."""
    if not tickets:
        return []
    clock = Clock(get_settings())
    now = utcnow()

    def names(model: type, column: str, ids: set[int | None]) -> dict[int, str]:
        wanted = [i for i in ids if i is not None]
        if not wanted:
            return {}
        rows = session.execute(
            select(model.id, getattr(model, column)).where(col(model.id).in_(wanted))  # type: ignore[attr-defined]
        ).all()
        return {i: name for i, name in rows}

    sns = names(Terminal, "sn", {t.terminal_id for t in tickets})
    merchants = names(Merchant, "name", {t.merchant_id for t in tickets})
    branches = names(Branch, "code", {t.branch_id for t in tickets})
    users = names(User, "username", {t.assignee_id for t in tickets})
    out = []
    for ticket in tickets:
        history = (
            [TicketEventPublic.model_validate(e) for e in service.history(session, ticket)]
            if with_history
            else []
        )
        breached = sla.breaches(ticket) or _due(ticket, now)
        out.append(
            TicketPublic.model_validate(
                ticket,
                update={
                    "sn": sns.get(ticket.terminal_id, ""),
                    "merchant_name": merchants.get(ticket.merchant_id or 0),
                    "branch_code": branches.get(ticket.branch_id),
                    "assignee": users.get(ticket.assignee_id or 0),
                    "symptom_zh": words.said("symptom", ticket.symptom),
                    "paused": ticket.state in PAUSED,
                    "hours_left": sla.hours_left(ticket, clock, now),
                    "breached": breached,
                    "history": history,
                },
            )
        )
    return out


def _due(ticket: Ticket, now: object) -> list[str]:
    """The breaches a live ticket has by now, without writing them (a read stays a read)."""
    probe = Ticket(**ticket.model_dump())
    return sla.flag_breaches(probe, now)  # type: ignore[arg-type]


SOON_HOURS = 2.0  # under this many business hours left, a ticket is due soon


def sla_state(ticket: TicketPublic) -> str:
    """The ticket's clock as one word for colours: late, soon, ok, paused, or done."""
    if ticket.paused:
        return "paused"
    if ticket.hours_left is None:
        return "late" if "restore" in ticket.breached else "done"
    if ticket.hours_left < 0 or ticket.breached:
        return "late"
    return "soon" if ticket.hours_left < SOON_HOURS else "ok"
