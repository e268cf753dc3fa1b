"""Visits API: plan a branch's field day, read it or download it, my visits, outcomes,
repair tickets, and the activation rate of visits."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from fleet.auth.dependencies import ActorDep
from fleet.core.access import Permission, Role
from fleet.core.requests import SessionDep
from fleet.inventory import contacts
from fleet.inventory import service as inventory
from fleet.inventory.models import Terminal
from fleet.inventory.scope import subtree_ids
from fleet.scoring.service import today_local
from fleet.visits import attribution as attribution_service
from fleet.visits import corrections, exports, move, outcomes, present
from fleet.visits import plan as planning
from fleet.visits.models import TicketStatus
from fleet.visits.schemas import (
    Attribution,
    MoveRequest,
    OutcomeRequest,
    PlanPublic,
    PlanRequest,
    RepairTicketPublic,
    VisitPublic,
)

router = APIRouter(tags=["visits"])
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
}


@router.post("/revisits/plan", response_model=PlanPublic, status_code=status.HTTP_201_CREATED)
def plan_day(session: SessionDep, actor: ActorDep, data: PlanRequest) -> PlanPublic:
    """Plans (or re-plans) a branch subtree's field day: picks the units worth a visit, shares
    them among the subtree's field staff, and orders each person's route with arrival times
    that respect shop hours, the shift and lunch. Visits already done that day are kept.
    Branch operations and admins only."""
    plan = planning.plan_day(
        session,
        actor,
        branch_code=data.branch_code,
        plan_date=data.date,
        staff_limit=data.staff,
        seconds=data.seconds,
    )
    return present.plan_public(session, plan)


def _readable_plan(session: SessionDep, actor: ActorDep, branch_code: str, day: date) -> PlanPublic:
    actor.require(Permission.read_visits)
    plan = planning.get_plan(session, actor, branch_code=branch_code, plan_date=day)
    # Field staff see their own route only.
    mine = actor.user_id if actor.role is Role.field else None
    shown = present.plan_public(session, plan, staff_id=mine)
    return shown if contacts.shown(actor) else exports.with_contacts_masked(shown)


@router.get("/revisits", response_model=PlanPublic)
def get_plan(
    session: SessionDep,
    actor: ActorDep,
    branch_code: Annotated[str, Query(description="The planned branch's code.")],
    date: Annotated[date, Query(description="The plan's day.")],
) -> PlanPublic:
    """The stored plan of a branch's day: routes, totals, and candidates left out with why.
    Field staff get their own route only."""
    return _readable_plan(session, actor, branch_code, date)


_AS_FILE: dict[str, dict[str, object]] = {media: {} for media in MEDIA.values()}


@router.get(
    "/revisits/export",
    response_class=Response,
    responses={200: {"description": "The plan as a file", "content": _AS_FILE}},
)
def export_plan(
    session: SessionDep,
    actor: ActorDep,
    branch_code: str,
    date: date,
    format: Literal["xlsx", "csv", "json", "html"] = "xlsx",
    with_contacts: Annotated[
        bool | None,
        Query(
            description="Merchant phones and contact names in clear; by default they are for "
            "the roles that may read contacts (field staff, operations), so a printed route "
            "can be used to call the shops. `false` masks them."
        ),
    ] = None,
) -> Response:
    """The plan as a file: XLSX (a print-ready sheet per person), CSV, JSON or printable HTML.
    Merchant contacts are in clear for roles that may read them (unless `with_contacts=false`),
    masked for every other role whatever it asks."""
    plan = _readable_plan(session, actor, branch_code, date)
    name = f"revisits-{plan.branch_code}-{plan.date}.{format}"
    in_clear = contacts.shown(actor, asked=with_contacts is not False)
    return Response(
        content=exports.render(plan, format, contacts_in_clear=in_clear),
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/visits/mine", response_model=list[VisitPublic])
def my_visits(
    session: SessionDep,
    actor: ActorDep,
    date: Annotated[date | None, Query(description="Default: today (bank time).")] = None,
) -> list[VisitPublic]:
    """My visits of the day in route order, each with navigation links (AMap/Gaode, geo:)."""
    day = date or today_local()
    return present.visits_public(session, outcomes.my_visits(session, actor, day))


@router.get("/visits/attribution", response_model=Attribution)
def visit_attribution(
    session: SessionDep,
    actor: ActorDep,
    date_from: date,
    date_to: date,
    branch_code: str | None = None,
) -> Attribution:
    """How many visits got an idle unit used again within 30 days: by staff member and by
    outcome. Field staff see their own visits."""
    branch_ids = None
    if branch_code is not None:
        branch = inventory.branch_by_code(session, actor, branch_code)
        branch_ids = subtree_ids(session, branch.id or 0)
    return attribution_service.attribution(
        session, actor, date_from=date_from, date_to=date_to, branch_ids=branch_ids
    )


@router.get("/visits/{visit_id}", response_model=VisitPublic)
def get_visit(session: SessionDep, actor: ActorDep, visit_id: int) -> VisitPublic:
    """One visit; field staff see only their own (404 otherwise)."""
    return present.visits_public(session, [outcomes.visible_visit(session, actor, visit_id)])[0]


@router.post("/visits/{visit_id}/move", response_model=VisitPublic)
def move_stop(
    session: SessionDep, actor: ActorDep, visit_id: int, data: MoveRequest
) -> VisitPublic:
    """Moves a planned stop to another field officer of the plan's branches (operations; the
    plans page's move): the receiving route takes it where it adds the least driving, both
    routes are renumbered and retimed, the move is audited. Refused: a visit done or cancelled
    (409), the same or an unknown officer (422); outside your branches, 404."""
    visit = move.move_stop(session, actor, visit_id, data.to_staff_id)
    return present.visits_public(session, [visit])[0]


@router.post("/visits/{visit_id}/outcome", response_model=VisitPublic)
def record_outcome(
    session: SessionDep, actor: ActorDep, visit_id: int, data: OutcomeRequest
) -> VisitPublic:
    """Records what happened at the visit, once, and sets the next step going: a follow-up
    visit, a recovery request, a repair ticket, or nothing (see `next_steps`)."""
    visit = outcomes.record_outcome(session, actor, visit_id, data)
    return present.visits_public(session, [visit])[0]


@router.post("/visits/{visit_id}/correction", response_model=VisitPublic)
def correct_outcome(
    session: SessionDep, actor: ActorDep, visit_id: int, data: OutcomeRequest
) -> VisitPublic:
    """Corrects a recorded outcome: its author on the same day (China time), branch
    operations at any time. The old outcome's steps the new one does not want are undone (a
    recovery request it raised is withdrawn; refused, 409, once approved), the new one's set
    going, and the correction is kept in the audit log. The location fields are not used."""
    visit = corrections.correct_outcome(session, actor, visit_id, data)
    return present.visits_public(session, [visit])[0]


@router.get("/repair-tickets", response_model=list[RepairTicketPublic])
def repair_tickets(
    session: SessionDep, actor: ActorDep, status: TicketStatus | None = None
) -> list[RepairTicketPublic]:
    """Repair tickets raised at visits, newest first: your subtree's (field staff: your own)."""
    tickets = outcomes.list_tickets(session, actor, status=status)
    sns = inventory.codes(session, Terminal, {t.terminal_id for t in tickets}, column="sn")
    return [
        RepairTicketPublic.model_validate(t, update={"sn": sns.get(t.terminal_id)}) for t in tickets
    ]
