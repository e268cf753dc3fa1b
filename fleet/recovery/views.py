"""Recovery and redeployment API: suggestions, the approval queue, decisions, collection,
rule overrides, where in-stock units should go, placing them, second marketing, KPIs."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from fleet.auth.dependencies import ActorDep
from fleet.core import phrases
from fleet.core.access import Permission
from fleet.core.errors import Invalid
from fleet.core.paging import COUNTED, Page, cut, told
from fleet.core.requests import SessionDep
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch, TerminalPublic
from fleet.inventory.views import terminals_public
from fleet.recovery import completion, kpi, redeploy, rules, service, suggestions
from fleet.recovery.models import (
    CompletionCreate,
    DecisionCreate,
    PlaceCreate,
    RecoveryRequestPublic,
    RequestCreate,
    RequestStatus,
    RuleParams,
    Suggestion,
)

router = APIRouter(tags=["recovery"])
BranchId = Annotated[int | None, Query(description="Only this branch and those below it.")]
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size.")]
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "Decided or changed meanwhile; details show what happened"}
}


@router.get("/recovery/suggestions", response_model=list[Suggestion], responses=COUNTED)
def list_suggestions(
    session: SessionDep,
    actor: ActorDep,
    response: Response,
    branch_id: BranchId = None,
    limit: Limit = 100,
) -> list[Suggestion]:
    """Deployed units that a recovery rule says to take back, each with its reason (`why`: a
    code and its values; `reason`: in English) and the evidence: latest usage score,
    merchant status, recent visits. The first `limit`, most telling first; the
    X-Total-Count header says how many there are."""
    found = suggestions.suggest(session, actor, branch_id=branch_id)
    return told(response, cut(found, limit))


@router.post("/recovery/suggestions/raise", response_model=list[RecoveryRequestPublic])
def raise_suggestions(
    session: SessionDep, actor: ActorDep, branch_id: BranchId = None
) -> list[RecoveryRequestPublic]:
    """Turns every current suggestion in your scope into a pending request (the nightly job's
    step, available by hand)."""
    return service.public(
        session, suggestions.raise_suggestions(session, actor, branch_id=branch_id)
    )


@router.get("/recovery/requests", response_model=Page[RecoveryRequestPublic])
def list_requests(
    session: SessionDep,
    actor: ActorDep,
    status_: Annotated[
        RequestStatus | None, Query(alias="status", description="Default: pending (the queue).")
    ] = RequestStatus.pending,
    all_statuses: Annotated[bool, Query(description="Ignore status: every request.")] = False,
    include_deferred: bool = False,
    branch_id: BranchId = None,
    limit: Limit = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[RecoveryRequestPublic]:
    """The approval queue: pending requests, oldest first, with `overdue` set on those waiting
    longer than FLEET_RECOVERY_OVERDUE_DAYS; deferred ones hidden until their date."""
    rows, total = service.list_requests(
        session,
        actor,
        status=None if all_statuses else status_,
        branch_id=branch_id,
        include_deferred=include_deferred,
        limit=limit,
        offset=offset,
    )
    return Page(items=service.public(session, rows), total=total, limit=limit, offset=offset)


@router.post(
    "/recovery/requests",
    response_model=RecoveryRequestPublic,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The unit already has an open request, or is not deployed"}},
)
def create_request(
    session: SessionDep, actor: ActorDep, data: RequestCreate
) -> RecoveryRequestPublic:
    """Asks by hand for a deployed unit to be recovered (field staff, branch ops, admin)."""
    if data.terminal_id is not None:
        terminal = inventory.get_terminal(session, actor, data.terminal_id)
    elif data.sn:
        terminal = inventory.terminal_by_sn(session, actor, data.sn)
    else:
        raise Invalid("give terminal_id or sn")
    request = service.raise_request(session, actor, terminal, why=phrases.text(data.reason))
    return service.public(session, [request])[0]


@router.get("/recovery/requests/{request_id}", response_model=RecoveryRequestPublic)
def get_request(session: SessionDep, actor: ActorDep, request_id: int) -> RecoveryRequestPublic:
    """One request with its evidence and decision; 404 outside your subtree."""
    return service.public(session, [service.get_request(session, actor, request_id)])[0]


@router.post(
    "/recovery/requests/{request_id}/decision",
    response_model=RecoveryRequestPublic,
    responses=CONFLICT,
)
def decide(
    session: SessionDep, actor: ActorDep, request_id: int, data: DecisionCreate
) -> RecoveryRequestPublic:
    """Approve, reject (`reason` required) or defer (`until` a later date) a pending request
    (branch ops of the unit's subtree, or admin). If someone decided first: 409, with their
    decision in `details`."""
    request = service.decide(
        session, actor, request_id, data.decision, reason=data.reason, until=data.until
    )
    return service.public(session, [request])[0]


@router.post(
    "/recovery/requests/{request_id}/complete",
    response_model=RecoveryRequestPublic,
    responses=CONFLICT,
)
def complete(
    session: SessionDep, actor: ActorDep, request_id: int, data: CompletionCreate
) -> RecoveryRequestPublic:
    """The unit is collected: recovered, then in stock at its branch (or faulty)."""
    request = completion.complete_recovery(
        session, actor, request_id, data.condition, note=data.note, at=data.at
    )
    return service.public(session, [request])[0]


@router.get("/recovery/rules")
def get_rules(
    session: SessionDep, actor: ActorDep, branch_id: Annotated[int, Query()]
) -> dict[str, dict[str, Any]]:
    """The rule parameters in force at a branch: defaults, then overrides down to it."""
    actor.require(Permission.read_inventory)
    branch = inventory.get_branch(session, actor, branch_id)
    return rules.Overrides(session).for_branch(branch.id or 0)


@router.put("/recovery/rules/{branch_id}/{rule}")
def set_rule(
    session: SessionDep, actor: ActorDep, branch_id: int, rule: str, data: RuleParams
) -> dict[str, dict[str, Any]]:
    """Sets a branch's own parameters for one rule, for its whole subtree (branch ops, admin)."""
    branch: Branch = inventory.get_branch(session, actor, branch_id)
    rules.set_override(session, actor, branch, rule, data.params)
    return rules.Overrides(session).for_branch(branch.id or 0)


@router.get("/recovery/kpi", response_model=kpi.RecoveryKpis)
def recovery_kpis(session: SessionDep, actor: ActorDep, branch_id: BranchId = None) -> Any:
    """Raised, approved, rejected, recovered, redeployed by branch and month; median days from
    request to recovery and from recovery to redeployment; units in stock and for how long."""
    return kpi.recovery_kpis(session, actor, branch_id=branch_id)


@router.get("/recovery/second-marketing", response_model=list[redeploy.SecondMarketingRow])
def second_marketing(session: SessionDep, actor: ActorDep, branch_id: BranchId = None) -> Any:
    """Recovered units: where each went next, and its use since."""
    return redeploy.second_marketing(session, actor, branch_id=branch_id)


@router.get(
    "/redeploy/suggestions", response_model=list[redeploy.UnitSuggestion], responses=COUNTED
)
def redeploy_suggestions(
    session: SessionDep,
    actor: ActorDep,
    response: Response,
    branch_id: BranchId = None,
    targets: Annotated[int, Query(ge=1, le=20)] = 3,
    limit: Limit = 100,
) -> Any:
    """Every in-stock unit with the markets and merchants it should go to, explained: how
    active comparable units are there, merchants without a unit, distance, campaigns. The
    first `limit`, longest waiting first; the X-Total-Count header says how many there are."""
    found = redeploy.redeploy_suggestions(
        session, actor, branch_id=branch_id, targets=targets, limit=limit
    )
    total = redeploy.count_in_stock(session, actor, branch_id=branch_id)
    return told(response, Page(items=found, total=total, limit=limit, offset=0))


@router.post("/redeploy/{terminal_id}/place", response_model=TerminalPublic)
def place(
    session: SessionDep, actor: ActorDep, terminal_id: int, data: PlaceCreate
) -> TerminalPublic:
    """Places an in-stock unit with a merchant in one step (branch ops, admin)."""
    terminal = redeploy.place_unit(
        session, actor, terminal_id, data.merchant_code, reason=data.reason, at=data.at
    )
    return terminals_public(session, [terminal])[0]


@router.post("/recovery/sweep")
def sweep(session: SessionDep, actor: ActorDep, as_of: date | None = None) -> dict[str, int]:
    """After scoring: cancels requests whose unit is in use again, and keeps requests in step
    with moves made by visits (admin only; the nightly job runs it)."""
    actor.require(Permission.run_jobs)
    counts = completion.sync(session)
    counts["used_again"] = len(completion.cancel_if_used_again(session, as_of))
    return counts
