"""The recovery approval queue: each request with its evidence, approved or rejected in one
click through the same service the API uses; and each request's audit trail."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from fleet.auth.browser import PageCaller, PageCallerDep
from fleet.auth.names import actor_phrases
from fleet.core.db import attempt
from fleet.core.errors import Conflict, Invalid
from fleet.core.paging import MAX_LIMIT, Page
from fleet.core.requests import SessionDep
from fleet.pages.names import Names
from fleet.pages.ops.common import PAGE_SIZE, offset_of, render_ops, require_ops
from fleet.pages.render import redirect, texts_of
from fleet.recovery import history
from fleet.recovery import service as recovery
from fleet.recovery.models import RecoveryRequestPublic

router = APIRouter(include_in_schema=False)
REASON_MAX = 500


def _queue_page(
    request: Request,
    caller: PageCaller,
    session: Session,
    *,
    offset: int = 0,
    errors: dict[str, str] | None = None,
    error_for: int | None = None,
    typed: str = "",
    status_code: int = 200,
    flash: str | None = None,
) -> Response:
    rows, total = recovery.list_requests(session, caller.actor, limit=PAGE_SIZE, offset=offset)
    queue = recovery.public(session, rows)
    every = request.query_params.get("decided") == "all"
    lately = history.recently_decided(session, caller.actor, limit=MAX_LIMIT if every else 10)
    decided = recovery.public(session, lately.items)
    names = Names(session).know(
        branches=[r.branch_code for r in queue],
        people=[p for r in queue + decided for p in (r.raised_by_name, r.decided_by_name)],
    )
    extra = {"flash": flash, "flash_kind": "bad"} if flash else {}
    return render_ops(
        request,
        "ops/recovery.html",
        caller,
        status_code=status_code,
        title=texts_of(request, caller).gettext("Recovery approvals"),
        page=Page[RecoveryRequestPublic](items=queue, total=total, limit=PAGE_SIZE, offset=offset),
        facts=history.unit_facts(session, rows),
        decided=decided,
        decided_total=lately.total,
        names=names,
        errors=errors or {},
        error_for=error_for,
        typed=typed,
        **extra,
    )


@router.get("/recovery")
def queue(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_ops(request, caller)
    offset = offset_of(request.query_params.get("offset"))
    return _queue_page(request, caller, session, offset=offset)


@router.post("/recovery/{request_id}/decision")
def decide(
    request: Request, caller: PageCallerDep, session: SessionDep, request_id: int
) -> Response:
    """Approve or reject: the API's `recovery.decide`, so the lifecycle and audit are the same."""
    require_ops(request, caller)
    t = texts_of(request, caller)
    decision = caller.form.get("decision", "")
    reason = caller.form.get("reason", "").strip()
    problem = None
    if decision == "reject" and not reason:
        problem = t.gettext("Say why the unit stays with the merchant.")
    elif len(reason) > REASON_MAX:
        problem = t.gettext("At most {n} characters.", n=REASON_MAX)
    elif decision not in ("approve", "reject"):
        problem = t.gettext("Choose approve or reject.")
    if problem is None:
        try:
            # A refusal undoes only the attempt; the queue is then shown with the same session.
            with attempt(session):
                decided = recovery.decide(
                    session, caller.actor, request_id, decision, reason=reason
                )
        except Invalid as exc:
            problem = t.error(exc)
        except Conflict as exc:  # someone decided first, or it was withdrawn: say which
            by_someone = isinstance(exc.details, dict) and bool(exc.details.get("decision"))
            return _queue_page(
                request,
                caller,
                session,
                status_code=409,
                flash=t.gettext("Someone else decided first: {what}", what=t.error(exc))
                if by_someone
                else t.gettext("Nothing to decide: {what}", what=t.error(exc)),
            )
    if problem is not None:
        return _queue_page(
            request,
            caller,
            session,
            errors={"reason": problem},
            error_for=request_id,
            typed=reason,
            status_code=422,
        )
    sn = recovery.public(session, [decided])[0].sn
    # SessionDep commits when this handler returns, before the redirect is sent: the page the
    # browser is sent to already shows the decision.
    done = (
        t.gettext("Recovery of {sn} approved.", sn=sn)
        if decision == "approve"
        else t.gettext("Recovery of {sn} rejected; the unit stays with the merchant.", sn=sn)
    )
    return redirect("/ops/recovery", flash=done)


@router.get("/recovery/{request_id}")
def request_detail(
    request: Request, caller: PageCallerDep, session: SessionDep, request_id: int
) -> Response:
    """One request: evidence, decision, and who did what when (the audit trail)."""
    require_ops(request, caller)
    row = recovery.get_request(session, caller.actor, request_id)
    shown = recovery.public(session, [row])[0]
    trail = history.audit_trail(session, caller.actor, request_id)
    return render_ops(
        request,
        "ops/request.html",
        caller,
        title=texts_of(request, caller).gettext("Recovery request {sn}", sn=shown.sn),
        r=shown,
        facts=history.unit_facts(session, [row]).get(row.terminal_id),
        trail=trail,
        names=Names(session),
        actors=actor_phrases(session, {e.actor_name for e in trail}),
        errors={},
        error_for=None,
        typed="",
    )
