"""A field visit's "device faulty" outcome opens a fault ticket (source: field visit)."""

from __future__ import annotations

from sqlmodel import Session

from fleet.aftersales import service
from fleet.aftersales.models import Symptom, TicketSource
from fleet.core.access import Actor, system_actor
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
            description=note or f"reported faulty at visit {visit.id}",
            visit_id=visit.id,
            opened_by=(actor.user_id, actor.username),
        )
    except Conflict as refused:  # the unit is not at a merchant (e.g. being recovered)
        return {"kind": "none", "detail": refused.message}
    return {"kind": outcomes.REPAIR, "id": ticket.id}


def register() -> None:
    """Lets visit outcomes open fault tickets through this layer (once)."""
    if ticket_from_visit not in outcomes.REPAIR_HANDLERS:
        outcomes.REPAIR_HANDLERS.append(ticket_from_visit)
