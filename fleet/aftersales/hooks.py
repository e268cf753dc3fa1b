"""What after-sales adds to lower layers, through their handler lists (never by import):
a field visit's "device faulty" outcome opens a fault ticket (source: field visit), and units
under repair or just restored are held off revisit lists and recovery suggestions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from fleet.aftersales import service
from fleet.aftersales.models import LIVE, Symptom, Ticket, TicketSource
from fleet.core.access import Actor, system_actor
from fleet.core.config import get_settings
from fleet.core.errors import Conflict
from fleet.inventory.models import Terminal
from fleet.visits import outcomes
from fleet.visits.models import Visit


def ticket_from_visit(
    session: Session, actor: Actor, terminal: Terminal, visit: Visit, note: str
) -> dict[str, object]:
    """Opens the ticket in the field officer's name (field staff cannot open tickets
    themselves: the system does, and the ticket says who reported it)."""
    existing = service.live_ticket(session, terminal.id or 0)
    if existing is not None:
        return {"kind": outcomes.REPAIR, "id": existing.id, "existing": True}
    try:
        ticket = service.open_ticket(
            session,
            system_actor(f"visit:{actor.username}"),
            terminal,
            Symptom.other,
            source=TicketSource.field_visit,
            description=note,  # the source and visit say where it came from
            visit_id=visit.id,
            opened_by=(actor.user_id, actor.username),
        )
    except Conflict as refused:  # the unit is not at a merchant (e.g. being recovered)
        return {"kind": "none", "detail": refused.message}
    return {"kind": outcomes.REPAIR, "id": ticket.id}


def under_repair(session: Session, day: date) -> set[int]:
    """Units with a live ticket (suspected ones too), and units restored (or swapped in) within
    the active window before `day`: the days they were down are not idleness."""
    settings = get_settings()
    since = datetime.combine(
        day - timedelta(days=settings.active_days), time(), ZoneInfo(settings.feed_timezone)
    )
    live = session.execute(select(Ticket.terminal_id).where(col(Ticket.state).in_(LIVE))).scalars()
    recent = session.execute(
        select(Ticket.terminal_id, Ticket.spare_terminal_id).where(col(Ticket.restored_at) >= since)
    ).all()
    found = set(live)
    for unit, spare in recent:
        found.add(unit)
        if spare is not None:
            found.add(spare)
    return found
