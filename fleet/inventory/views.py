"""Inventory API: branches, merchants, terminals, lifecycle transitions, history (every
/markets route, the Market table's included, is in fleet.markets.views: one module per prefix)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlmodel import Session

from fleet.auth.dependencies import ActorDep
from fleet.auth.models import User
from fleet.core import phrases
from fleet.core.access import Actor, Permission
from fleet.core.i18n import texts_for
from fleet.core.paging import Page
from fleet.core.requests import SessionDep
from fleet.inventory import contacts, lifecycle
from fleet.inventory import service as inventory
from fleet.inventory.models import (
    Branch,
    BranchCreate,
    BranchLevel,
    BranchPublic,
    BranchUpdate,
    LifecycleEventPublic,
    Market,
    Merchant,
    MerchantCreate,
    MerchantPublic,
    MerchantStatus,
    MerchantUpdate,
    PlacementPublic,
    Terminal,
    TerminalCreate,
    TerminalPublic,
    TerminalState,
    TerminalUpdate,
    TransitionRequest,
)

router = APIRouter()
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size.")]
Offset = Annotated[int, Query(ge=0, description="Rows to skip.")]
Sort = Annotated[str | None, Query(description="Field to sort by; prefix '-' for descending.")]
Search = Annotated[str | None, Query(description="Text contained in the code or name.")]


# --- conversions to the public shape (codes resolved in one query per list) --------------------


def branches_public(session: Session, rows: list[Branch]) -> list[BranchPublic]:
    parents = inventory.codes(session, Branch, {b.parent_id for b in rows})
    return [
        BranchPublic.model_validate(b, update={"parent_code": parents.get(b.parent_id or 0)})
        for b in rows
    ]


def merchants_public(session: Session, rows: list[Merchant], actor: Actor) -> list[MerchantPublic]:
    """Merchants as `actor` sees them: contact details masked for roles without read_contacts."""
    branches = inventory.codes(session, Branch, {m.branch_id for m in rows})
    markets = inventory.codes(session, Market, {m.market_id for m in rows})
    staff = inventory.codes(session, User, {m.staff_id for m in rows}, column="username")
    return [
        contacts.masked(
            MerchantPublic.model_validate(
                m,
                update={
                    "branch_code": branches.get(m.branch_id),
                    "market_code": markets.get(m.market_id or 0),
                    "staff_username": staff.get(m.staff_id or 0),
                },
            ),
            actor,
        )
        for m in rows
    ]


def terminals_public(session: Session, rows: list[Terminal]) -> list[TerminalPublic]:
    branches = inventory.codes(session, Branch, {t.branch_id for t in rows})
    merchants = inventory.codes(session, Merchant, {t.merchant_id for t in rows})
    return [
        TerminalPublic.model_validate(
            t,
            update={
                "branch_code": branches.get(t.branch_id),
                "merchant_code": merchants.get(t.merchant_id or 0),
            },
        )
        for t in rows
    ]


# --- branches ---------------------------------------------------------------------------------


@router.get("/branches", response_model=Page[BranchPublic], tags=["branches"])
def list_branches(
    session: SessionDep,
    actor: ActorDep,
    q: Search = None,
    parent_id: int | None = None,
    level: BranchLevel | None = None,
    sort: Sort = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[BranchPublic]:
    """Branches in your subtree (all, for an admin), filtered and paged."""
    actor.require(Permission.read_inventory)
    rows, total = inventory.list_branches(
        session, actor, q=q, parent_id=parent_id, level=level, sort=sort, limit=limit, offset=offset
    )
    return Page(items=branches_public(session, rows), total=total, limit=limit, offset=offset)


@router.post(
    "/branches", response_model=BranchPublic, status_code=status.HTTP_201_CREATED, tags=["branches"]
)
def create_branch(session: SessionDep, actor: ActorDep, data: BranchCreate) -> BranchPublic:
    """Adds a branch below `parent_code` (admins only)."""
    return branches_public(session, [inventory.create_branch(session, actor, data)])[0]


@router.get("/branches/{branch_id}", response_model=BranchPublic, tags=["branches"])
def get_branch(session: SessionDep, actor: ActorDep, branch_id: int) -> BranchPublic:
    """One branch; 404 when it is outside your subtree."""
    actor.require(Permission.read_inventory)
    return branches_public(session, [inventory.get_branch(session, actor, branch_id)])[0]


@router.patch("/branches/{branch_id}", response_model=BranchPublic, tags=["branches"])
def update_branch(
    session: SessionDep, actor: ActorDep, branch_id: int, data: BranchUpdate
) -> BranchPublic:
    """Changes a branch's name, level, place or parent (admins only)."""
    branch = inventory.get_branch(session, actor, branch_id)
    return branches_public(session, [inventory.update_branch(session, actor, branch, data)])[0]


# --- merchants --------------------------------------------------------------------------------


@router.get("/merchants", response_model=Page[MerchantPublic], tags=["merchants"])
def list_merchants(
    session: SessionDep,
    actor: ActorDep,
    q: Search = None,
    category: str | None = None,
    status: MerchantStatus | None = None,
    branch_id: int | None = None,
    market_id: int | None = None,
    staff_id: int | None = None,
    sort: Sort = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[MerchantPublic]:
    """Merchants of your subtree; `q` searches code, name and address."""
    actor.require(Permission.read_inventory)
    rows, total = inventory.list_merchants(
        session,
        actor,
        q=q,
        category=category,
        status=status,
        branch_id=branch_id,
        market_id=market_id,
        staff_id=staff_id,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return Page(
        items=merchants_public(session, rows, actor), total=total, limit=limit, offset=offset
    )


@router.post(
    "/merchants",
    response_model=MerchantPublic,
    status_code=status.HTTP_201_CREATED,
    tags=["merchants"],
)
def create_merchant(session: SessionDep, actor: ActorDep, data: MerchantCreate) -> MerchantPublic:
    """Adds a merchant; its market is found from its location unless `market_code` is given."""
    return merchants_public(session, [inventory.create_merchant(session, actor, data)], actor)[0]


@router.get("/merchants/{merchant_id}", response_model=MerchantPublic, tags=["merchants"])
def get_merchant(session: SessionDep, actor: ActorDep, merchant_id: int) -> MerchantPublic:
    """One merchant; 404 when it is outside your subtree."""
    actor.require(Permission.read_inventory)
    return merchants_public(session, [inventory.get_merchant(session, actor, merchant_id)], actor)[
        0
    ]


@router.patch("/merchants/{merchant_id}", response_model=MerchantPublic, tags=["merchants"])
def update_merchant(
    session: SessionDep, actor: ActorDep, merchant_id: int, data: MerchantUpdate
) -> MerchantPublic:
    """Changes a merchant; a move re-assigns its market from the new location."""
    merchant = inventory.get_merchant(session, actor, merchant_id)
    return merchants_public(
        session, [inventory.update_merchant(session, actor, merchant, data)], actor
    )[0]


# --- terminals --------------------------------------------------------------------------------


@router.get("/terminals", response_model=Page[TerminalPublic], tags=["terminals"])
def list_terminals(
    session: SessionDep,
    actor: ActorDep,
    q: Search = None,
    state: TerminalState | None = None,
    branch_id: int | None = None,
    merchant_id: int | None = None,
    model: str | None = None,
    sort: Sort = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[TerminalPublic]:
    """Terminals owned by your subtree; `q` searches the serial number."""
    actor.require(Permission.read_inventory)
    rows, total = inventory.list_terminals(
        session,
        actor,
        q=q,
        state=state,
        branch_id=branch_id,
        merchant_id=merchant_id,
        model=model,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return Page(items=terminals_public(session, rows), total=total, limit=limit, offset=offset)


@router.post(
    "/terminals",
    response_model=TerminalPublic,
    status_code=status.HTTP_201_CREATED,
    tags=["terminals"],
)
def create_terminal(session: SessionDep, actor: ActorDep, data: TerminalCreate) -> TerminalPublic:
    """Registers a unit, in stock or already deployed at `merchant_code`."""
    return terminals_public(session, [inventory.create_terminal(session, actor, data)])[0]


@router.get("/terminals/{terminal_id}", response_model=TerminalPublic, tags=["terminals"])
def get_terminal(session: SessionDep, actor: ActorDep, terminal_id: int) -> TerminalPublic:
    """One terminal; 404 when another subtree owns it."""
    actor.require(Permission.read_inventory)
    return terminals_public(session, [inventory.get_terminal(session, actor, terminal_id)])[0]


@router.patch("/terminals/{terminal_id}", response_model=TerminalPublic, tags=["terminals"])
def update_terminal(
    session: SessionDep, actor: ActorDep, terminal_id: int, data: TerminalUpdate
) -> TerminalPublic:
    """Changes a unit's model or owning branch. Its state changes only through transitions."""
    terminal = inventory.get_terminal(session, actor, terminal_id)
    return terminals_public(session, [inventory.update_terminal(session, actor, terminal, data)])[0]


@router.post(
    "/terminals/{terminal_id}/transitions",
    response_model=TerminalPublic,
    tags=["terminals"],
    responses={409: {"description": "Not allowed from the current state"}},
)
def transition_terminal(
    session: SessionDep, actor: ActorDep, terminal_id: int, data: TransitionRequest
) -> TerminalPublic:
    """Moves a unit through its lifecycle (branch operations and admins).

    Allowed: in_stock → deployed (give `merchant_code`) | faulty | retired | lost;
    deployed → recovery_requested | faulty | lost; recovery_requested → recovery_approved |
    deployed; recovery_approved → recovered | deployed; recovered → in_stock | faulty;
    faulty → in_repair | retired | deployed; in_repair → in_stock | retired | deployed;
    lost → in_stock | retired.
    Anything else answers 409 with the current state.
    """
    terminal = inventory.get_terminal(session, actor, terminal_id)
    lifecycle.transition(
        session,
        actor,
        terminal,
        data.to_state,
        reason=data.reason,
        merchant_code=data.merchant_code,
        at=data.at,
    )
    return terminals_public(session, [terminal])[0]


@router.get(
    "/terminals/{terminal_id}/placements", response_model=list[PlacementPublic], tags=["terminals"]
)
def terminal_placements(
    session: SessionDep, actor: ActorDep, terminal_id: int
) -> list[PlacementPublic]:
    """Where the unit has been: each merchant, from when to when."""
    actor.require(Permission.read_inventory)
    terminal = inventory.get_terminal(session, actor, terminal_id)
    rows = lifecycle.placements(session, terminal)
    merchants = inventory.codes(session, Merchant, {p.merchant_id for p in rows})
    return [
        PlacementPublic.model_validate(p, update={"merchant_code": merchants.get(p.merchant_id)})
        for p in rows
    ]


@router.get(
    "/terminals/{terminal_id}/events", response_model=list[LifecycleEventPublic], tags=["terminals"]
)
def terminal_events(
    session: SessionDep, actor: ActorDep, terminal_id: int
) -> list[LifecycleEventPublic]:
    """The unit's lifecycle: who moved it, when, from which state to which, and why."""
    actor.require(Permission.read_inventory)
    terminal = inventory.get_terminal(session, actor, terminal_id)
    english = texts_for("en")
    return [
        LifecycleEventPublic.model_validate(e).model_copy(
            update={"reason": phrases.say(e.why, english)}
        )
        for e in lifecycle.events(session, terminal)
    ]
