"""Service staff's phone pages (/service): my tickets in route order with the SLA time left,
navigation and tap-to-call; the branch's open pool to take from; one ticket with its moves
(take, on site, waiting for parts, to the vendor, resume) and the restore form (resolution,
parts and cost, labour, travel, vendor fee, the spare of a swap).

Everything goes through the after-sales services the API uses, with their scope: service
staff see their own tickets and their branch's open pool (a contractor's technicians only the
branches it covers); another's ticket answers 404, as a missing one does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from fleet.aftersales import dayplan, service, spares
from fleet.aftersales.models import MOVES, Resolution, Ticket, TicketState
from fleet.auth.browser import PageCaller, PageCallerDep
from fleet.core.access import Permission
from fleet.core.db import attempt
from fleet.core.errors import Conflict, Forbidden, Invalid
from fleet.core.i18n import N_
from fleet.core.requests import SessionDep
from fleet.pages import tickets as words
from fleet.pages.names import Names
from fleet.pages.render import redirect, render, texts_of
from fleet.scoring.service import today_local

# Every page under /service (paths relative to it).
router = APIRouter(prefix="/service", include_in_schema=False)
T = TicketState
WORKING = (T.assigned, T.on_site, T.awaiting_parts, T.at_vendor)


def _require_service(caller: PageCaller) -> None:
    if not caller.actor.can(Permission.work_tickets):
        raise Forbidden("These pages are for after-sales service staff.")


def _in_route_order(session: Session, caller: PageCaller, mine: list[Ticket]) -> list[Ticket]:
    """My tickets in the order of today's stored service day (fleet service plan); those it
    does not route (taken since, or no plan today) follow, the earliest restore deadline
    first, as the list came."""
    order = dayplan.service_day_order(session, caller.user.id or 0, today_local())
    place = {ticket_id: n for n, ticket_id in enumerate(order)}
    return sorted(mine, key=lambda x: place.get(x.id or 0, len(place)))


@router.get("/today")
def today(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    _require_service(caller)
    t = texts_of(request, caller)
    live = service.list_tickets(session, caller.actor, live_only=True)
    me = caller.user.id
    mine = _in_route_order(
        session, caller, [x for x in live if x.assignee_id == me and x.state in WORKING]
    )
    pool = [x for x in live if x.state is T.open and x.assignee_id is None]
    shown_mine = words.shown(session, mine)
    shown_pool = words.shown(session, pool)
    everything = shown_mine + shown_pool
    return render(
        request,
        "service/today.html",
        caller,
        title=t.gettext("My tickets"),
        day=today_local(),
        mine=shown_mine,
        pool=shown_pool,
        shops=words.shops(session, caller.actor, everything),
        branches=words.branch_names(session, everything),
        **words.labels(t),
    )


def _ticket_page(
    request: Request,
    caller: PageCaller,
    session: Session,
    ticket: Ticket,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    t = texts_of(request, caller)
    working = ticket.state in WORKING and ticket.assignee_id == caller.user.id
    dispatcher = caller.actor.can(Permission.dispatch_tickets)
    can_work = ticket.state in WORKING and (working or dispatcher)
    spare_units = spares.spares_at(session, caller.actor, ticket) if can_work else []
    return render(
        request,
        "service/ticket.html",
        caller,
        status_code=status_code,
        title=t.gettext("Ticket {n}", n=ticket.id),
        names=Names(session),
        can_take=ticket.state is T.open and ticket.assignee_id is None,
        can_work=can_work,
        can_restore=can_work and T.restored in MOVES[ticket.state],
        spare_options=[("", t.gettext("Choose…"))] + [(u.sn, u.sn) for u in spare_units],
        resolution_options=words.resolution_options(t),
        swapped=Resolution.swapped.value,
        part_rows=range(words.PART_ROWS),
        form=form or {},
        errors=errors or {},
        **words.one_ticket(session, caller.actor, t, ticket),
    )


@router.get("/tickets/{ticket_id}")
def ticket_page(
    request: Request, ticket_id: int, caller: PageCallerDep, session: SessionDep
) -> Response:
    _require_service(caller)
    ticket = service.get_ticket(session, caller.actor, ticket_id)
    return _ticket_page(request, caller, session, ticket)


def _act(
    request: Request,
    caller: PageCaller,
    session: Session,
    ticket_id: int,
    act: Callable[[], Any],
    done: str,
    to: str | None = None,
) -> Response:
    """Runs a move; a refusal shows the ticket page again, saying why, nothing changed."""
    _require_service(caller)
    t = texts_of(request, caller)
    try:
        with attempt(session):
            act()
    except (Conflict, Invalid, Forbidden) as exc:
        ticket = service.get_ticket(session, caller.actor, ticket_id)
        return _ticket_page(
            request,
            caller,
            session,
            ticket,
            form={k: str(v) for k, v in caller.form.items()},
            errors={"_form": t.error(exc)},
            status_code=exc.status_code,
        )
    return redirect(to or f"/service/tickets/{ticket_id}", t.gettext(done))


def _note(caller: PageCaller) -> str:
    return str(caller.form.get("note", "")).strip()[:1000]


@router.post("/tickets/{ticket_id}/take")
def take(request: Request, ticket_id: int, caller: PageCallerDep, session: SessionDep) -> Response:
    return _act(
        request,
        caller,
        session,
        ticket_id,
        lambda: service.assign(session, caller.actor, ticket_id, note=_note(caller)),
        N_("You took the ticket."),
    )


@router.post("/tickets/{ticket_id}/arrive")
def arrive(
    request: Request, ticket_id: int, caller: PageCallerDep, session: SessionDep
) -> Response:
    return _act(
        request,
        caller,
        session,
        ticket_id,
        lambda: service.arrive(session, caller.actor, ticket_id, note=_note(caller)),
        N_("Recorded: on site."),
    )


@router.post("/tickets/{ticket_id}/pause")
def pause(request: Request, ticket_id: int, caller: PageCallerDep, session: SessionDep) -> Response:
    vendor = caller.form.get("reason") == "vendor"
    move = service.send_to_vendor if vendor else service.wait_for_parts
    return _act(
        request,
        caller,
        session,
        ticket_id,
        lambda: move(session, caller.actor, ticket_id, note=_note(caller)),
        N_("The SLA clock is paused."),
    )


@router.post("/tickets/{ticket_id}/resume")
def resume(
    request: Request, ticket_id: int, caller: PageCallerDep, session: SessionDep
) -> Response:
    return _act(
        request,
        caller,
        session,
        ticket_id,
        lambda: service.resume(session, caller.actor, ticket_id, note=_note(caller)),
        N_("The SLA clock runs again."),
    )


@router.post("/tickets/{ticket_id}/restore")
def restore(
    request: Request, ticket_id: int, caller: PageCallerDep, session: SessionDep
) -> Response:
    _require_service(caller)
    t = texts_of(request, caller)
    ticket = service.get_ticket(session, caller.actor, ticket_id)
    form = {k: str(v) for k, v in caller.form.items()}
    data, errors = words.read_restore_form(t, form)
    if data is None:
        return _ticket_page(
            request, caller, session, ticket, form=form, errors=errors, status_code=422
        )
    return _act(
        request,
        caller,
        session,
        ticket_id,
        lambda: service.restore(session, caller.actor, ticket_id, data),
        N_("Restored; the ticket has left your list."),
        to="/service/today",
    )
