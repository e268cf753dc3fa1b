"""After-sales API: fault tickets and their moves (open, take, on site, pause, resume,
restore, close, cancel, confirm a suspicion)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from sqlmodel import Field, SQLModel

from fleet.aftersales import present, service
from fleet.aftersales.models import (
    AssignRequest,
    RestoreRequest,
    TicketCreate,
    TicketPublic,
    TicketSource,
    TicketState,
)
from fleet.inventory import service as inventory
from fleet.web.deps import ActorDep, SessionDep

router = APIRouter(tags=["after-sales"])
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "Not allowed from the ticket's state, or changed meanwhile"}
}


class NoteBody(SQLModel):
    note: str = Field(default="", max_length=1000)


class PauseBody(NoteBody):
    reason: Literal["parts", "vendor"] = Field(
        description="parts: waiting for parts; vendor: the unit goes to the vendor (in_repair)."
    )


def _one(session: SessionDep, ticket: Any) -> TicketPublic:
    return present.public(session, [ticket], with_history=True)[0]


@router.get("/tickets", response_model=list[TicketPublic])
def list_tickets(
    session: SessionDep,
    actor: ActorDep,
    branch_id: Annotated[int | None, Query(description="This branch and those below it.")] = None,
    state: TicketState | None = None,
    live: Annotated[bool, Query(description="Only tickets not closed or cancelled.")] = False,
) -> list[TicketPublic]:
    """Fault tickets you may see, the earliest restore deadline first, with SLA hours left.
    Service staff: theirs and their branch's open pool; operations: their subtree."""
    tickets = service.list_tickets(session, actor, branch_id=branch_id, state=state, live_only=live)
    return present.public(session, tickets)


@router.post(
    "/tickets",
    response_model=TicketPublic,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The unit has an open ticket, or is not at a merchant"}},
)
def open_ticket(session: SessionDep, actor: ActorDep, data: TicketCreate) -> TicketPublic:
    """Opens a ticket for a unit at a merchant (a phone call, a fault found on a round); the
    unit becomes faulty and the SLA clock starts."""
    terminal = inventory.terminal_by_sn(session, actor, data.sn)
    source = data.source if data.source is not TicketSource.feed else TicketSource.phone
    ticket = service.open_ticket(
        session,
        actor,
        terminal,
        data.symptom,
        source=source,
        priority=data.priority,
        description=data.description,
    )
    return _one(session, ticket)


@router.get("/tickets/{ticket_id}", response_model=TicketPublic)
def get_ticket(session: SessionDep, actor: ActorDep, ticket_id: int) -> TicketPublic:
    """One ticket with its state history; 404 when you may not see it."""
    return _one(session, service.get_ticket(session, actor, ticket_id))


@router.post("/tickets/{ticket_id}/assign", response_model=TicketPublic, responses=CONFLICT)
def assign(
    session: SessionDep, actor: ActorDep, ticket_id: int, data: AssignRequest
) -> TicketPublic:
    """Takes the ticket (service staff, from their branch's pool) or gives it to someone
    (operations). Two at once: one wins, the other gets 409."""
    return _one(session, service.assign(session, actor, ticket_id, data.username))


@router.post("/tickets/{ticket_id}/arrive", response_model=TicketPublic, responses=CONFLICT)
def arrive(session: SessionDep, actor: ActorDep, ticket_id: int, data: NoteBody) -> TicketPublic:
    """The technician is at the merchant."""
    return _one(session, service.arrive(session, actor, ticket_id, note=data.note))


@router.post("/tickets/{ticket_id}/pause", response_model=TicketPublic, responses=CONFLICT)
def pause(session: SessionDep, actor: ActorDep, ticket_id: int, data: PauseBody) -> TicketPublic:
    """Stops the SLA clock: waiting for parts, or the unit goes to the vendor."""
    if data.reason == "vendor":
        ticket = service.send_to_vendor(session, actor, ticket_id, note=data.note)
    else:
        ticket = service.wait_for_parts(session, actor, ticket_id, note=data.note)
    return _one(session, ticket)


@router.post("/tickets/{ticket_id}/resume", response_model=TicketPublic, responses=CONFLICT)
def resume(session: SessionDep, actor: ActorDep, ticket_id: int, data: NoteBody) -> TicketPublic:
    """The parts are in, or the unit is back: the clock runs again, its deadlines moved on by
    the business time paused."""
    return _one(session, service.resume(session, actor, ticket_id, note=data.note))


@router.post("/tickets/{ticket_id}/restore", response_model=TicketPublic, responses=CONFLICT)
def restore(
    session: SessionDep, actor: ActorDep, ticket_id: int, data: RestoreRequest
) -> TicketPublic:
    """The unit works again: resolution (required), parts, labour minutes, travel km, vendor
    fee; a swap names the spare (same branch, in stock), which is placed at the merchant while
    the broken unit goes to repair."""
    return _one(session, service.restore(session, actor, ticket_id, data))


@router.post("/tickets/{ticket_id}/close", response_model=TicketPublic, responses=CONFLICT)
def close(session: SessionDep, actor: ActorDep, ticket_id: int, data: NoteBody) -> TicketPublic:
    """Closes a restored ticket (operations). Two at once: one wins, the other gets 409."""
    return _one(session, service.close(session, actor, ticket_id, note=data.note))


@router.post("/tickets/{ticket_id}/cancel", response_model=TicketPublic, responses=CONFLICT)
def cancel(session: SessionDep, actor: ActorDep, ticket_id: int, data: NoteBody) -> TicketPublic:
    """Cancels a ticket opened by mistake or dismisses a suspicion (operations); the unit goes
    back to its merchant."""
    return _one(session, service.cancel(session, actor, ticket_id, note=data.note))


@router.post("/tickets/{ticket_id}/confirm", response_model=TicketPublic, responses=CONFLICT)
def confirm(session: SessionDep, actor: ActorDep, ticket_id: int, data: NoteBody) -> TicketPublic:
    """Confirms a suspected fault from the feed (operations): the ticket opens on the clock."""
    return _one(session, service.confirm(session, actor, ticket_id, note=data.note))
