"""After-sales API: fault tickets and their moves (open, take, on site, pause, resume,
restore, close, cancel, confirm a suspicion)."""

from __future__ import annotations

import datetime as dt
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import FileResponse
from sqlmodel import Field, SQLModel

from fleet.aftersales import (
    contractors,
    dayplan,
    kpi,
    present,
    service,
    spares,
    statement,
    watch,
)
from fleet.aftersales.models import (
    AssignRequest,
    RepairOutcome,
    RestoreRequest,
    TicketCreate,
    TicketPublic,
    TicketSource,
    TicketState,
    VendorRepair,
)
from fleet.auth.dependencies import ActorDep
from fleet.core import files
from fleet.core.access import Permission
from fleet.core.errors import NotFound
from fleet.core.i18n import api_file_lang
from fleet.core.requests import SessionDep
from fleet.inventory import service as inventory
from fleet.scoring.service import today_local
from fleet.visits.schemas import PlanPublic

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


# --- the feed's suspicions, spares, vendor repairs, contractors, statements, KPIs ----------


@router.post("/tickets/suspect", response_model=list[TicketPublic])
def suspect(
    session: SessionDep,
    actor: ActorDep,
    as_of: Annotated[date | None, Query(description="Default: yesterday.")] = None,
) -> list[TicketPublic]:
    """Opens a *suspected* ticket for each unit the feed suspects in your scope (silent daily
    users, failed-share jumps; each says why), and verifies restores by their first
    transaction (the nightly job's step, by hand). Re-running changes nothing."""
    actor.require(Permission.dispatch_tickets)
    day = as_of or today_local() - timedelta(days=1)
    raised = watch.raise_suspicions(session, actor, day)
    watch.verify_restored(session)
    return present.public(session, raised)


class SpareMark(SQLModel):
    sn: str = Field(min_length=1, max_length=64)


@router.get("/service/spares", response_model=list[spares.SpareNeed])
def spare_needs(
    session: SessionDep,
    actor: ActorDep,
    branch_id: Annotated[int | None, Query(description="This branch and below.")] = None,
) -> list[spares.SpareNeed]:
    """Per branch: faults of the last 180 days, the suggested spare count (Poisson 95% of the
    failures during the repair lead time), the spares in stock and the shortfall."""
    if branch_id is not None:
        inventory.get_branch(session, actor, branch_id)
    return spares.needs(session, actor, branch_id=branch_id)


@router.post("/service/spares", status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def mark_spare(session: SessionDep, actor: ActorDep, data: SpareMark) -> dict[str, str]:
    """Marks an in-stock unit as its branch's spare (operations)."""
    spares.mark(session, actor, data.sn)
    return {"sn": data.sn, "status": "spare"}


class VendorSend(SQLModel):
    sn: str = Field(min_length=1, max_length=64)
    vendor: str = Field(default="", max_length=100)
    ticket_id: int | None = None
    note: str = Field(default="", max_length=1000)


class VendorBack(SQLModel):
    outcome: RepairOutcome
    cost: float = Field(default=0.0, ge=0)


@router.post(
    "/service/vendor-repairs",
    response_model=VendorRepair,
    status_code=status.HTTP_201_CREATED,
    responses=CONFLICT,
)
def vendor_send(session: SessionDep, actor: ActorDep, data: VendorSend) -> VendorRepair:
    """Sends a broken unit to the vendor (operations)."""
    return spares.send_to_vendor(
        session, actor, data.sn, vendor=data.vendor, ticket_id=data.ticket_id, note=data.note
    )


@router.post(
    "/service/vendor-repairs/{repair_id}/back", response_model=VendorRepair, responses=CONFLICT
)
def vendor_back(
    session: SessionDep, actor: ActorDep, repair_id: int, data: VendorBack
) -> VendorRepair:
    """The unit is back from the vendor: into stock, or retired; with the repair's cost."""
    return spares.back_from_vendor(session, actor, repair_id, data.outcome, cost=data.cost)


@router.get("/service/contractors", response_model=list[contractors.ContractorPublic])
def list_contractors(session: SessionDep, actor: ActorDep) -> list[contractors.ContractorPublic]:
    """Contractors covering a branch of your subtree, with their terms (示例费率)."""
    return [contractors.public(session, c) for c in contractors.list_all(session, actor)]


@router.post(
    "/service/contractors",
    response_model=contractors.ContractorPublic,
    status_code=status.HTTP_201_CREATED,
)
def create_contractor(
    session: SessionDep, actor: ActorDep, data: contractors.ContractorCreate
) -> contractors.ContractorPublic:
    """A contractor, its terms, the branches it covers and its technicians (admins)."""
    return contractors.public(session, contractors.create(session, actor, data))


@router.put("/service/contractors/{code}", response_model=contractors.ContractorPublic)
def change_contractor(
    session: SessionDep, actor: ActorDep, code: str, data: contractors.Who
) -> contractors.ContractorPublic:
    """The contractor's name, kind, covered branches and technicians (admins); its rates
    change only by new terms from a month."""
    return contractors.public(session, contractors.change(session, actor, code, data))


@router.post(
    "/service/contractors/{code}/terms",
    response_model=contractors.ContractorPublic,
    responses=CONFLICT,
)
def set_contractor_terms(
    session: SessionDep, actor: ActorDep, code: str, data: contractors.TermsChange
) -> contractors.ContractorPublic:
    """New rates from a month on (admins): statements of earlier months keep theirs; a month
    already signed off, or one before it, is refused."""
    contractors.set_terms(session, actor, code, data)
    return contractors.public(session, contractors.by_code(session, actor, code))


Month = Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")]


@router.get("/service/contractors/{code}/statement", response_model=statement.Statement)
def get_statement(
    session: SessionDep, actor: ActorDep, code: str, month: Month
) -> statement.Statement:
    """The contractor's statement for a month: the lines, the outlets' share of the annual
    fee, the amount due; provisional until the month is over."""
    return statement.build(session, actor, code, month)


@router.get("/service/contractors/{code}/statement.xlsx", response_class=FileResponse)
def statement_xlsx(
    request: Request, session: SessionDep, actor: ActorDep, code: str, month: Month
) -> FileResponse:
    """The same statement as an Excel workbook: in Chinese when the client asks for it first
    (Accept-Language: zh…), else in English."""
    made = statement.build(session, actor, code, month)
    lang = api_file_lang(request.headers.get("accept-language", ""))
    return files.download(
        f"{code}-{month}.xlsx", lambda path: statement.write_xlsx(made, path, lang)
    )


@router.post("/service/contractors/{code}/statement/sign-off", responses=CONFLICT)
def sign_off(session: SessionDep, actor: ActorDep, code: str, month: Month) -> dict[str, Any]:
    """Operations agree a finished month's statement, once; a month not over is refused."""
    signed = statement.sign_off(session, actor, code, month)
    return {"month": signed.month, "amount_due": signed.amount_due, "by": signed.signed_by_name}


@router.get("/service/kpi", response_model=list[kpi.KpiRow])
def service_kpi(
    session: SessionDep,
    actor: ActorDep,
    by: kpi.By = "branch",
    branch_id: Annotated[int | None, Query(description="This branch and below.")] = None,
    days: Annotated[int, Query(ge=1, le=3660)] = 365,
) -> list[kpi.KpiRow]:
    """Time to restore (mean, p90, business hours), SLA met %, first-time fix %, repeats,
    downtime and faults per 100 units, cost per ticket and per outlet per year against the
    4,000-yuan budget; by branch, contractor, model or age (years in service at the fault)."""
    if branch_id is not None:
        inventory.get_branch(session, actor, branch_id)
    return kpi.kpis(session, actor, by=by, branch_id=branch_id, days=days)


# --- the service day ------------------------------------------------------------------------


class ServicePlanRequest(SQLModel):
    """Plan (or re-plan) a branch subtree's service day."""

    branch_code: str = Field(min_length=1, max_length=40)
    date: dt.date
    seconds: float | None = Field(
        default=None, gt=0, le=30, description="Solver budget; FLEET_SERVICE_SOLVER_SECONDS."
    )


@router.post("/service/plan", response_model=PlanPublic, responses=CONFLICT)
def plan_service_day(session: SessionDep, actor: ActorDep, data: ServicePlanRequest) -> PlanPublic:
    """Routes the subtree's open and assigned tickets for its service staff (operations):
    restore deadlines of the day as time windows (required when reachable in time), assigned
    tickets to their assignee, swaps with a spare of the staff member's branch; every route
    checked by the independent validator before the plan is stored. Stops are tickets
    (`kind` service, `visit_id` the ticket's id)."""
    plan = dayplan.plan_service_day(
        session, actor, branch_code=data.branch_code, plan_date=data.date, seconds=data.seconds
    )
    return dayplan.plan_public(session, plan)


@router.get("/service/plan", response_model=PlanPublic)
def get_service_plan(
    session: SessionDep,
    actor: ActorDep,
    branch_code: Annotated[str, Query(min_length=1, max_length=40)],
    day: Annotated[date, Query(alias="date")],
) -> PlanPublic:
    """A branch's stored service day (operations; service staff read theirs at /service/my-day)."""
    actor.require(Permission.dispatch_tickets)
    plan = dayplan.get_plan(session, actor, branch_code=branch_code, plan_date=day)
    return dayplan.plan_public(session, plan)


@router.get("/service/my-day", response_model=PlanPublic)
def my_day(
    session: SessionDep,
    actor: ActorDep,
    day: Annotated[date | None, Query(alias="date", description="Default: today.")] = None,
) -> PlanPublic:
    """Your own route of the day (service staff): tickets in route order with planned times,
    restore deadlines, navigation links and the spares to take; 404 when no plan routes you."""
    when = day or today_local()
    shown = dayplan.my_day(session, actor, when)
    if shown is None:
        raise NotFound("no service plan routes you on {day}", day=when)
    return shown
