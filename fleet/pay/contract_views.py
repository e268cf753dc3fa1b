"""Contracts API (承包): draft, approve, follow and settle a contract; its statements as JSON
or as the workbook payroll takes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse

from fleet.auth.dependencies import ActorDep
from fleet.core import files
from fleet.core.i18n import api_file_lang
from fleet.core.requests import SessionDep
from fleet.pay import contract_sheets, contracts
from fleet.pay.contract_models import (
    ContractCreate,
    ContractPublic,
    ContractStatus,
    ContractUpdate,
    Progress,
    Statement,
)

router = APIRouter(prefix="/contracts", tags=["contracts"])
MonthQuery = Annotated[
    str | None,
    Query(description="A month of the period (2026-11): its accrual; none: the settlement."),
]


@router.get("", response_model=list[ContractPublic])
def list_contracts(
    session: SessionDep,
    actor: ActorDep,
    status: ContractStatus | None = None,
    mine: Annotated[bool, Query(description="Only the contracts you hold.")] = False,
) -> list[ContractPublic]:
    """Operations: the contracts of your subtree; staff: your own. Amounts (fen) only for
    roles that may see pay."""
    found = contracts.list_contracts(session, actor, status=status, mine=mine)
    return [contracts.public(session, actor, c) for c in found]


@router.post("", response_model=ContractPublic, status_code=201)
def create(session: SessionDep, actor: ActorDep, data: ContractCreate) -> ContractPublic:
    """A draft contract: its staff (one, or a team), portfolio (a branch subtree, a market
    or a list of merchants), period, targets, commission (ppm of net revenue), threshold and
    cap. Refused when another contract covers any of the portfolio in the same days."""
    return contracts.public(session, actor, contracts.create(session, actor, data))


@router.get("/{contract_id}", response_model=ContractPublic)
def get(session: SessionDep, actor: ActorDep, contract_id: int) -> ContractPublic:
    """One contract (404 outside your subtree, or for staff not holding it)."""
    return contracts.public(session, actor, contracts.get(session, actor, contract_id))


@router.patch("/{contract_id}", response_model=ContractPublic)
def update(
    session: SessionDep, actor: ActorDep, contract_id: int, data: ContractUpdate
) -> ContractPublic:
    """Changes a draft's terms; an approved contract's are locked (409)."""
    changed = contracts.update(session, actor, contract_id, data)
    return contracts.public(session, actor, changed)


@router.post("/{contract_id}/approve", response_model=ContractPublic)
def approve(session: SessionDep, actor: ActorDep, contract_id: int) -> ContractPublic:
    """Locks the terms and the baseline. Operations at or above the contractor's branch who
    do not hold the contract."""
    return contracts.public(session, actor, contracts.approve(session, actor, contract_id))


@router.post("/{contract_id}/settle", response_model=Statement)
def settle(session: SessionDep, actor: ActorDep, contract_id: int) -> Statement:
    """Stores the final settlement once the period is over: a line per unit (and the
    baseline, clawbacks); the total is the sum of the lines."""
    return contracts.settle(session, actor, contract_id)


@router.get("/{contract_id}/statement", response_model=Statement)
def statement(
    session: SessionDep, actor: ActorDep, contract_id: int, period: MonthQuery = None
) -> Statement:
    """A month's accrual, or the settlement (as stored once settled). Roles that may see pay."""
    return contracts.statement(session, actor, contract_id, month=period)


@router.get("/{contract_id}/statement.xlsx", response_class=FileResponse)
def statement_xlsx(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    contract_id: int,
    period: MonthQuery = None,
) -> FileResponse:
    """The same statement as a workbook for payroll (summary, shares, a row per line): in
    Chinese when the client asks for it first (Accept-Language: zh…), else in English."""
    made = contracts.statement(session, actor, contract_id, month=period)
    shown = contracts.public(session, actor, contracts.get(session, actor, contract_id))
    name = f"contract-{contract_id}-{made.period}.xlsx"
    lang = api_file_lang(request.headers.get("accept-language", ""))
    return files.download(name, lambda path: contract_sheets.write_xlsx(shown, made, path, lang))


@router.get("/{contract_id}/progress", response_model=Progress | None)
def progress(session: SessionDep, actor: ActorDep, contract_id: int) -> Progress | None:
    """Attainment to date without money, for the staff holding it as for operations; null
    for a draft."""
    return contracts.progress(session, actor, contract_id)
