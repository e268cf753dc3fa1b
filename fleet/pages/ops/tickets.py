"""Operations' fault tickets (/ops/tickets): the queue with its SLA countdown and filters,
dispatch to service staff, the feed's suspicions to confirm or dismiss (each saying why), a
ticket opened from a merchant's phone call, and one ticket with its history and moves.

Everything goes through the after-sales services the API uses (scope, compare-and-set: of two
people dispatching one ticket at once, one wins and the other is told it changed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from fleet.aftersales import service
from fleet.aftersales.models import (
    Priority,
    Symptom,
    Ticket,
    TicketSource,
    TicketState,
)
from fleet.auth import service as auth
from fleet.auth.browser import PageCaller, PageCallerDep
from fleet.auth.models import User
from fleet.core.access import Role
from fleet.core.db import attempt
from fleet.core.errors import Conflict, Forbidden, Invalid, NotFound
from fleet.core.i18n import N_, Texts
from fleet.core.paging import Page
from fleet.core.requests import SessionDep
from fleet.inventory import service as inventory
from fleet.pages import tickets as words
from fleet.pages.names import Names
from fleet.pages.ops import common
from fleet.pages.ops.common import branch_options, render_ops, require_ops
from fleet.pages.render import redirect, texts_of

router = APIRouter(include_in_schema=False)
T = TicketState
SLA_FILTERS = {
    "late": N_("Late"),
    "soon": N_("Due within 2 hours"),
    "ok": N_("On time"),
    "paused": N_("Clock paused"),
}
STATE_FILTERS = (T.open, T.assigned, T.on_site, T.awaiting_parts, T.at_vendor, T.restored)


def _staff_options(session: Session, caller: PageCaller, t: Texts) -> dict[str, Any]:
    """The dispatch picker's service staff, cut at PICKER_LIMIT (the form then says so and
    takes any other's username typed): staff_options and staff_page."""
    limit = common.PICKER_LIMIT
    staff, total = auth.list_users(
        session, caller.actor, role=Role.service.value, sort="username", limit=limit
    )
    named = [(u.username, u.full_name or u.username) for u in staff]
    return {
        "staff_options": [("", t.gettext("Choose…")), *named],
        "staff_page": Page[User](items=staff, total=total, limit=limit, offset=0),
    }


def _queue(
    request: Request,
    caller: PageCaller,
    session: Session,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error_for: int | None = None,
    status_code: int = 200,
) -> Response:
    t = texts_of(request, caller)
    q = request.query_params
    branch_id = None
    if q.get("branch"):
        branch_id = inventory.branch_by_code(session, caller.actor, q["branch"]).id
    live = service.list_tickets(session, caller.actor, branch_id=branch_id, live_only=True)
    suspected = [x for x in live if x.state is T.suspected]
    state = q.get("state", "")
    rows = [x for x in live if x.state is not T.suspected and (not state or x.state.value == state)]
    shown = words.shown(session, rows)
    sla = q.get("sla", "")
    if sla in SLA_FILTERS:
        shown = [x for x in shown if words.sla_state(x) == sla]
    shown_suspected = words.shown(session, suspected)
    everything = shown + shown_suspected
    return render_ops(
        request,
        "ops/tickets.html",
        caller,
        status_code=status_code,
        title=t.gettext("Fault tickets"),
        rows=shown,
        suspected=shown_suspected,
        late=sum(1 for x in shown if words.sla_state(x) == "late"),
        shops=words.shops(session, caller.actor, everything),
        branches=words.branch_names(session, everything),
        staff=words.staff_names(session, everything),
        **_staff_options(session, caller, t),
        branch_choices=[("", t.gettext("All my branches")), *branch_options(session, caller)],
        state_choices=[("", t.gettext("All states"))]
        + [(s.value, t.gettext(words.TICKET[s.value])) for s in STATE_FILTERS],
        sla_choices=[("", t.gettext("Any"))] + [(k, t.gettext(v)) for k, v in SLA_FILTERS.items()],
        symptom_options=words.symptom_options(t),
        priority_options=[(p.value, t.gettext(words.PRIORITY[p.value])) for p in Priority],
        chosen={"branch": q.get("branch", ""), "state": state, "sla": sla},
        form=form or {},
        errors=errors or {},
        error_for=error_for,
        **words.labels(t),
    )


@router.get("/tickets")
def queue(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_ops(request, caller)
    return _queue(request, caller, session)


@router.post("/tickets/new")
def open_from_call(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    """A merchant called: the ticket opens on the clock, the unit becomes faulty."""
    require_ops(request, caller)
    t = texts_of(request, caller)
    form = {k: str(v) for k, v in caller.form.items()}
    sn = form.get("sn", "").strip()
    errors: dict[str, str] = {}
    if not sn:
        errors["sn"] = t.gettext("Enter the unit's serial number.")
    if form.get("symptom") not in {s.value for s in Symptom}:
        errors["symptom"] = t.gettext("Choose the fault.")
    priority = form.get("priority", "")
    if priority not in {p.value for p in Priority}:
        priority = Priority.normal.value
    if not errors:
        try:
            with attempt(session):
                unit = inventory.terminal_by_sn(session, caller.actor, sn)
                ticket = service.open_ticket(
                    session,
                    caller.actor,
                    unit,
                    Symptom(form["symptom"]),
                    source=TicketSource.phone,
                    priority=Priority(priority),
                    description=form.get("description", "").strip()[:1000],
                )
        except NotFound:
            errors["sn"] = t.gettext("No unit with this serial number in your branches.")
        except (Conflict, Invalid) as exc:
            errors["_new"] = t.error(exc)
        else:
            flash = t.gettext("Ticket {n} opened.", n=ticket.id)
            return redirect(f"/ops/tickets/{ticket.id}", flash)
    return _queue(request, caller, session, form=form, errors=errors, status_code=422)


def _ticket_page(
    request: Request,
    caller: PageCaller,
    session: Session,
    ticket: Ticket,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    t = texts_of(request, caller)
    page = words.one_ticket(session, caller.actor, t, ticket)
    return render_ops(
        request,
        "ops/ticket.html",
        caller,
        status_code=status_code,
        title=t.gettext("Ticket {n}", n=ticket.id),
        names=Names(session).know(people=words.people(page["ticket"])),
        **_staff_options(session, caller, t),
        errors=errors or {},
        **page,
    )


@router.get("/tickets/{ticket_id}")
def ticket_page(
    request: Request, ticket_id: int, caller: PageCallerDep, session: SessionDep
) -> Response:
    require_ops(request, caller)
    return _ticket_page(
        request, caller, session, service.get_ticket(session, caller.actor, ticket_id)
    )


def _act(
    request: Request,
    caller: PageCaller,
    session: Session,
    ticket_id: int,
    act: Callable[[str], Any],
    done: str,
) -> Response:
    """Runs a move; a refusal shows where it was asked from again, saying why."""
    require_ops(request, caller)
    t = texts_of(request, caller)
    note = str(caller.form.get("note", "")).strip()[:1000]
    back = str(caller.form.get("back", ""))
    try:
        with attempt(session):
            act(note)
    except (Conflict, Invalid, Forbidden) as exc:
        said = {"_form": t.error(exc)}
        if back == "queue":
            return _queue(
                request,
                caller,
                session,
                errors=said,
                error_for=ticket_id,
                status_code=exc.status_code,
            )
        ticket = service.get_ticket(session, caller.actor, ticket_id)
        return _ticket_page(
            request, caller, session, ticket, errors=said, status_code=exc.status_code
        )
    target = "/ops/tickets" if back == "queue" else f"/ops/tickets/{ticket_id}"
    return redirect(target, t.gettext(done, n=ticket_id))


@router.post("/tickets/{ticket_id}/assign")
def assign(
    request: Request, ticket_id: int, caller: PageCallerDep, session: SessionDep
) -> Response:
    username = str(caller.form.get("username", "")).strip()
    if not username:
        require_ops(request, caller)
        t = texts_of(request, caller)
        said = {"_form": t.gettext("Choose who takes the ticket.")}
        if caller.form.get("back") == "queue":
            return _queue(
                request, caller, session, errors=said, error_for=ticket_id, status_code=422
            )
        ticket = service.get_ticket(session, caller.actor, ticket_id)
        return _ticket_page(request, caller, session, ticket, errors=said, status_code=422)

    require_ops(request, caller)
    service.get_ticket(session, caller.actor, ticket_id)  # 404 when not the caller's to see

    def act(note: str) -> object:
        try:
            return service.assign(session, caller.actor, ticket_id, username, note=note)
        except NotFound:  # the person, the ticket being there
            raise Invalid(
                "no service staff member {username} in your branches", username=username
            ) from None

    return _act(request, caller, session, ticket_id, act, N_("Ticket {n} dispatched."))


def _simple(move: Callable[..., object], done: str) -> Callable[..., Response]:
    def handler(
        request: Request, ticket_id: int, caller: PageCallerDep, session: SessionDep
    ) -> Response:
        return _act(
            request,
            caller,
            session,
            ticket_id,
            lambda note: move(session, caller.actor, ticket_id, note=note),
            done,
        )

    return handler


router.post("/tickets/{ticket_id}/confirm")(_simple(service.confirm, N_("Ticket {n} confirmed.")))
router.post("/tickets/{ticket_id}/dismiss")(_simple(service.cancel, N_("Suspicion {n} dismissed.")))
router.post("/tickets/{ticket_id}/close")(_simple(service.close, N_("Ticket {n} closed.")))
router.post("/tickets/{ticket_id}/cancel")(_simple(service.cancel, N_("Ticket {n} cancelled.")))
