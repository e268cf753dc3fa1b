"""Contracts (承包) for branch operations: the list with a form to draft one, and each
contract's page (terms, approve, settle, its monthly accruals and settlement, the workbook
for payroll). Everything goes through fleet.pay.contracts, as the API does."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from fleet.auth import service as auth
from fleet.auth.browser import PageCaller, PageCallerDep
from fleet.auth.models import User
from fleet.core import files
from fleet.core.access import Role
from fleet.core.db import attempt
from fleet.core.errors import FleetError
from fleet.core.paging import Page
from fleet.core.requests import SessionDep
from fleet.inventory import service as inventory
from fleet.inventory.models import Market
from fleet.pages.ops import common
from fleet.pages.ops.common import branch_options, render_ops, require_ops
from fleet.pages.render import redirect, texts_of
from fleet.pay import contract_sheets, contracts, settlement
from fleet.pay.contract_models import ContractCreate, ContractStatus, PortfolioKind
from fleet.scoring.service import today_local

router = APIRouter(include_in_schema=False)
NUMBERS = ("target_active_pct", "target_revenue_yuan", "commission_pct", "threshold_pct", "cap_pct")


def _choices(session: Session, caller: PageCaller) -> dict[str, Any]:
    """The form's pickers: field staff and markets, each cut at PICKER_LIMIT (the form then
    says so and takes the others' codes typed)."""
    limit = common.PICKER_LIMIT
    staff, staff_total = auth.list_users(
        session, caller.actor, role=Role.field.value, sort="username", limit=limit
    )
    markets, market_total = inventory.list_markets(session, caller.actor, sort="code", limit=limit)
    return {
        "staff": staff,
        "staff_page": Page[User](items=staff, total=staff_total, limit=limit, offset=0),
        "branches": branch_options(session, caller),
        "markets": [(m.code, f"{m.name} ({m.code})") for m in markets],
        "market_page": Page[Market](items=markets, total=market_total, limit=limit, offset=0),
    }


def _list_page(
    request: Request,
    caller: PageCaller,
    session: Session,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    t = texts_of(request, caller)
    found = contracts.list_contracts(session, caller.actor)
    defaults = {"threshold_pct": "80", "cap_pct": "150", "portfolio_kind": "branch"}
    return render_ops(
        request,
        "ops/contracts.html",
        caller,
        status_code=status_code,
        title=t.gettext("Contracts"),
        contracts=[contracts.public(session, caller.actor, c, t.comma) for c in found],
        values=values or defaults,
        errors=errors or {},
        kinds=[(k.value, t.gettext(_kind_word(k))) for k in PortfolioKind],
        **_choices(session, caller),
    )


def _kind_word(kind: PortfolioKind) -> str:
    from fleet.core.words import word

    return word("portfolio_kind", kind)


@router.get("/contracts")
def contracts_page(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_ops(request, caller)
    contracts.start_due(session, caller.actor)
    return _list_page(request, caller, session)


def _number(raw: str, scale: float) -> float | None:
    text = raw.strip().replace(",", "").replace("，", "")
    return None if not text else float(text) * scale


@router.post("/contracts/new")
def create(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    """Drafts a contract from the form; a refusal is said above the form, nothing made."""
    require_ops(request, caller)
    t = texts_of(request, caller)
    form = caller.form
    values = {key: str(form.get(key, "")) for key in form if not key.startswith("staff:")}
    members = [key.split(":", 1)[1] for key in form if key.startswith("staff:")]
    # Past a cut list: the others' usernames, typed.
    members += [
        u
        for u in values.get("staff_more", "").replace("，", ",").replace(",", " ").split()
        if u not in members
    ]
    values.update({key: "on" for key in form if key.startswith("staff:")})
    errors: dict[str, str] = {}
    numbers: dict[str, float | None] = {}
    for key in NUMBERS:
        try:
            numbers[key] = _number(values.get(key, ""), 1)
        except ValueError:
            errors[key] = t.gettext("Write a number.")
    if not members:
        errors["staff"] = t.gettext("Choose at least one staff member.")
    if not errors:
        kind = values.get("portfolio_kind", "branch")
        revenue = numbers["target_revenue_yuan"]
        active = numbers["target_active_pct"]
        data = {
            "name": values.get("name", "").strip(),
            "members": members,
            "portfolio_kind": kind,
            "branch_code": values.get("branch_code") if kind == "branch" else None,
            "market_code": values.get("market_code") if kind == "market" else None,
            "merchant_codes": values.get("merchant_codes", "")
            .replace("，", ",")
            .replace(",", " ")
            .split()
            if kind == "merchants"
            else [],
            "period": values.get("period", ""),
            "target_active_rate": None if active is None else active / 100,
            "target_revenue_fen": None if revenue is None else round(revenue * 100),
            "commission_ppm": round((numbers["commission_pct"] or 0) * 10_000),
            "above_baseline": bool(values.get("above_baseline")),
            "threshold_pct": round(
                numbers["threshold_pct"] if numbers["threshold_pct"] is not None else 80
            ),
            "cap_pct": round(numbers["cap_pct"] if numbers["cap_pct"] is not None else 150),
        }
        try:
            terms = ContractCreate.model_validate(data)
        except ValidationError:
            errors["name"] = t.gettext("Give the contract a name.")
        else:
            try:
                with attempt(session):
                    made = contracts.create(session, caller.actor, terms)
            except FleetError as exc:
                errors["_form"] = t.error(exc)
            else:
                done = t.gettext("Contract {name} drafted.", name=made.name)
                return redirect(f"/ops/contracts/{made.id}", flash=done)
    return _list_page(request, caller, session, values=values, errors=errors, status_code=422)


def _detail(
    request: Request,
    caller: PageCaller,
    session: Session,
    contract_id: int,
    *,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    t = texts_of(request, caller)
    contract = contracts.get(session, caller.actor, contract_id)
    shown = contracts.public(session, caller.actor, contract, t.comma)
    month = request.query_params.get("period") or None
    statement = None
    statement_problem = None
    if contract.status is not ContractStatus.draft:
        try:
            statement = contracts.statement(session, caller.actor, contract_id, month=month)
        except FleetError as exc:
            statement_problem = t.error(exc)
    months = [
        settlement.month_text(start)
        for start, _ in settlement.months(contract.period_start, contract.period_end)
    ]
    extra = {"flash": problem, "flash_kind": "bad"} if problem else {}
    return render_ops(
        request,
        "ops/contract.html",
        caller,
        status_code=status_code,
        title=t.gettext("Contract {name}", name=shown.name),
        c=shown,
        statement=statement,
        statement_problem=statement_problem,
        month=month or "",
        months=months,
        period_over=today_local() >= contract.period_end,
        **extra,
    )


@router.get("/contracts/{contract_id}")
def contract_page(
    request: Request, caller: PageCallerDep, session: SessionDep, contract_id: int
) -> Response:
    require_ops(request, caller)
    return _detail(request, caller, session, contract_id)


@router.post("/contracts/{contract_id}/approve")
def approve(
    request: Request, caller: PageCallerDep, session: SessionDep, contract_id: int
) -> Response:
    """Approves a draft (locks its terms and baseline); a refusal is said on its page."""
    require_ops(request, caller)
    t = texts_of(request, caller)
    try:
        with attempt(session):
            done = contracts.approve(session, caller.actor, contract_id)
    except FleetError as exc:
        if exc.status_code == 404:
            raise
        return _detail(
            request, caller, session, contract_id, problem=t.error(exc), status_code=exc.status_code
        )
    flash = t.gettext(
        "Contract {name} approved: its terms and baseline are locked.", name=done.name
    )
    return redirect(f"/ops/contracts/{contract_id}", flash=flash)


@router.post("/contracts/{contract_id}/settle")
def settle(
    request: Request, caller: PageCallerDep, session: SessionDep, contract_id: int
) -> Response:
    """Stores the final settlement (after the period); a refusal is said on its page."""
    require_ops(request, caller)
    t = texts_of(request, caller)
    try:
        with attempt(session):
            final = contracts.settle(session, caller.actor, contract_id)
    except FleetError as exc:
        if exc.status_code == 404:
            raise
        return _detail(
            request, caller, session, contract_id, problem=t.error(exc), status_code=exc.status_code
        )
    flash = t.gettext(
        "Settled: {total} in {n} lines.", total=t.money(final.total_fen / 100), n=len(final.lines)
    )
    return redirect(f"/ops/contracts/{contract_id}", flash=flash)


@router.get("/contracts/{contract_id}/statement.xlsx")
def download(
    request: Request, caller: PageCallerDep, session: SessionDep, contract_id: int
) -> FileResponse:
    """The statement shown (a month's accrual, or the settlement) as the payroll workbook."""
    require_ops(request, caller)
    month = request.query_params.get("period") or None
    made = contracts.statement(session, caller.actor, contract_id, month=month)
    shown = contracts.public(
        session,
        caller.actor,
        contracts.get(session, caller.actor, contract_id),
        texts_of(request, caller).comma,
    )
    name = f"contract-{contract_id}-{made.period}.xlsx"
    return files.download(
        name, lambda path: contract_sheets.write_xlsx(shown, made, path, caller.user.language)
    )
