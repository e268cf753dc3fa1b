"""Visit outcomes that concern a recovery go through this layer (fleet.visits calls it):
"wants recovery" / "no need" raise a request, so it joins the approval queue with its
evidence; a recover visit that comes back with the unit completes the approved request; a
corrected outcome (a mis-tap) withdraws the request it had raised."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session, col, select

from fleet.core.access import Actor, Permission
from fleet.core.errors import Conflict, NotFound
from fleet.core.phrases import Phrase, day, phrase
from fleet.inventory.models import Terminal
from fleet.recovery import completion, service
from fleet.recovery.completion import withdraw
from fleet.recovery.models import RecoveryRequest, RequestStatus
from fleet.visits.models import Visit, VisitKind, VisitStatus


def request_from_visit(
    session: Session, actor: Actor, terminal: Terminal, visit: Visit, why: Phrase
) -> dict[str, object]:
    """Raises the recovery request an outcome asks for (`why`: what the visit found); the
    step the visit records."""
    request = service.raise_request(
        session,
        actor,
        terminal,
        why=why,
        source="visit",
        evidence={"visit_id": visit.id, "visit_date": str(visit.plan_date)},
    )
    return {"kind": "recovery_requested", "terminal_id": terminal.id, "request_id": request.id}


def collected_on_visit(
    session: Session, actor: Actor, terminal: Terminal, visit: Visit, reason: str
) -> dict[str, object]:
    """Completes the unit's approved request: recovered, then in stock at its branch."""
    request = session.execute(
        select(RecoveryRequest).where(
            col(RecoveryRequest.terminal_id) == terminal.id,
            col(RecoveryRequest.status) == RequestStatus.approved,
        )
    ).scalar_one_or_none()
    if request is None:
        raise Conflict("terminal {sn} has no approved recovery request to complete", sn=terminal.sn)
    # The recover visit was assigned to this person (fleet.visits checked it is theirs), which
    # is their authority for this unit even when it belongs to a neighbouring outlet.
    on_visit = replace(actor, branch_ids=None)
    completion.complete_recovery(session, on_visit, request.id or 0, "ok", note=reason)
    return {"kind": "in_stock", "terminal_id": terminal.id, "request_id": request.id}


def withdrawn_with_visit(
    session: Session, actor: Actor, request_id: int, visit: Visit
) -> dict[str, object]:
    """Withdraws the request an outcome raised, now that the outcome is corrected: the unit
    goes back to deployed. Once the request is approved (a recover visit is due) only branch
    operations may correct the outcome: the approved request is withdrawn too, and the
    recover visit planned for it is cancelled. A request decided or ended since needs
    nothing."""
    request = session.get(RecoveryRequest, request_id)
    if request is None:
        raise NotFound("recovery request {request_id} not found", request_id=request_id)
    approved = request.status is RequestStatus.approved
    if approved and not actor.can(Permission.plan_visits):
        raise Conflict(
            "the recovery request {request_id} raised by this outcome is approved already: "
            "branch operations can reject or cancel it, the outcome stays",
            request_id=request_id,
        )
    if request.status is not RequestStatus.pending and not approved:
        return {"kind": "none", "request_id": request_id, "status": request.status.value}
    withdraw(session, actor, request, phrase("outcome_corrected", day=day(visit.plan_date)))
    if approved:
        for due in session.execute(
            select(Visit).where(
                col(Visit.terminal_id) == request.terminal_id,
                col(Visit.kind) == VisitKind.recover,
                col(Visit.status) == VisitStatus.planned,
            )
        ).scalars():
            due.status = VisitStatus.cancelled
            session.add(due)
    return {
        "kind": "recovery_withdrawn",
        "terminal_id": request.terminal_id,
        "request_id": request_id,
    }
