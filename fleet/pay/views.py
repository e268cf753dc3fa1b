"""Pay API: the fee schedule, merchants' fee classes, re-pricing stored transactions, and
revenue with its 收益率."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Body, File, Query, UploadFile
from pydantic import BaseModel

from fleet.auth.dependencies import ActorDep
from fleet.core import files
from fleet.core.access import Permission
from fleet.core.requests import SessionDep
from fleet.inventory import service as inventory
from fleet.pay import fees, periods, plans, rates, scorecard, weights, yields
from fleet.pay.models import FeeRuleIn, FeeRulePublic, MerchantClass
from fleet.pay.scorecard import Scorecard
from fleet.pay.yields import By, YieldRow

router = APIRouter(tags=["pay"])
MAX_RATES_BYTES = 10 * 1024 * 1024


class ClassChange(BaseModel):
    merchant_class: MerchantClass


class Rebuilt(BaseModel):
    priced: int


@router.get("/fees/schedule", response_model=list[FeeRulePublic])
def get_schedule(session: SessionDep, actor: ActorDep) -> list[FeeRulePublic]:
    """Every version of every fee by transaction type and merchant class. Rates in parts per
    million (1 basis point = 100 ppm), amounts in fen; `example` marks shipped example values
    (示例费率)."""
    actor.require(Permission.read_pay)
    return [FeeRulePublic.model_validate(r, from_attributes=True) for r in fees.schedule(session)]


@router.put("/fees/schedule", response_model=list[FeeRulePublic])
def put_schedule(
    session: SessionDep, actor: ActorDep, rules: Annotated[list[FeeRuleIn], Body()]
) -> list[FeeRulePublic]:
    """Replaces the whole schedule. Refused, with the rows listed and nothing changed, when a
    fee is negative or, for one type and class, the dates leave a gap or overlap."""
    return [
        FeeRulePublic.model_validate(r, from_attributes=True)
        for r in fees.set_schedule(session, actor, rules)
    ]


@router.put("/fees/merchants/{code}/class", response_model=ClassChange)
def put_merchant_class(
    session: SessionDep, actor: ActorDep, code: str, change: ClassChange
) -> ClassChange:
    """Sets a merchant's fee class (standard, preferential, non_profit; standard unless set).
    Transactions ingested from now on are priced by it; `POST /fees/rebuild` re-prices
    stored ones."""
    row = fees.set_merchant_class(session, actor, code, change.merchant_class)
    return ClassChange(merchant_class=row.merchant_class)


@router.post("/fees/rebuild", response_model=Rebuilt)
def rebuild(
    session: SessionDep,
    actor: ActorDep,
    since: Annotated[date | None, Query(description="First day to re-price.")] = None,
    until: Annotated[date | None, Query(description="First day not re-priced.")] = None,
) -> Rebuilt:
    """Prices stored transactions again by the current schedule and classes (after a change
    of either). Fees that came in the feed are replaced by the schedule's."""
    return Rebuilt(priced=fees.rebuild(session, actor, since=since, until=until))


@router.get("/revenue", response_model=list[YieldRow])
def revenue(
    session: SessionDep,
    actor: ActorDep,
    period: Annotated[str, Query(description="A month 2026-11, a quarter 2026-Q4, a year 2026.")],
    by: Annotated[By, Query(description="unit, staff, branch or market.")] = By.unit,
    branch_id: Annotated[
        int | None, Query(description="Only this branch and those below it.")
    ] = None,
) -> list[YieldRow]:
    """收益率 per unit or portfolio over a period: transactions, amount, fee and the bank's net
    (fen), the units' cost (price over its life, line fee, after-sales) and net / cost. Only for
    roles that may see pay; in your branch subtree."""
    return yields.yields(session, actor, by=by, period=periods.parse(period), branch_id=branch_id)


@router.get("/scorecard", response_model=Scorecard)
def get_scorecard(
    session: SessionDep,
    actor: ActorDep,
    period: Annotated[str, Query(description="A month 2026-11, a quarter 2026-Q4, a year 2026.")],
    by: Annotated[Literal["staff", "branch"], Query(description="staff or branch.")] = "staff",
    branch_id: Annotated[
        int | None, Query(description="Only this branch and those below it.")
    ] = None,
    k: Annotated[
        int | None,
        Query(ge=1, le=100, description="Transactions in 30 days that make an activation."),
    ] = None,
) -> Scorecard:
    """The 五提升 scorecard per staff member (or branch) over a period: the activation cohort
    (units idle, dormant or never used at the period's first day, shared by days held when
    a portfolio moved), how many made k successful transactions in 30 days, the rate and
    score (the Wilson lower bound under 30 units, `wilson` set) and its change; 动户率 and
    its change; 使用率; fee, net, cost and 收益率 (only for roles that may see pay);
    placements, recoveries, visits and their outcomes; tickets restored and the SLA met; the
    four imported rates; points by the role's weights, and rank. Staff see their own line."""
    return scorecard.scorecard(
        session, actor, period=periods.parse(period), by=by, branch_id=branch_id, k=k
    )


class PlanIn(BaseModel):
    period: str
    branch_code: str
    k: int = 3
    approve: bool = False


class PlanOut(BaseModel):
    id: int
    period: str
    branch_id: int
    k: int
    state: str
    approved_by: str | None


@router.put("/scorecard/plan", response_model=PlanOut)
def put_plan(session: SessionDep, actor: ActorDep, plan: PlanIn) -> PlanOut:
    """Makes the period's plan for a branch's subtree (once), and with `approve` approves it:
    the baseline (units, cohort and 动户率 at the period's first day) is frozen then."""
    found = [
        p
        for p in plans.list_plans(session, actor, plan.period)
        if p.branch_id == inventory.branch_by_code(session, actor, plan.branch_code).id
    ]
    made = found[0] if found else None
    if made is None:
        made = plans.create_plan(
            session, actor, period=plan.period, branch_code=plan.branch_code, k=plan.k
        )
    else:
        actor.require(Permission.approve_scorecard)
    if plan.approve:
        assert made.id is not None
        made = plans.approve(session, actor, made.id)
    return PlanOut.model_validate(made, from_attributes=True)


@router.get("/scorecard/weights", response_model=dict[str, dict[str, int]])
def get_weights(session: SessionDep, actor: ActorDep) -> dict[str, dict[str, int]]:
    """The weight of each of the five measures in each role's points (20 each unless set)."""
    actor.require(Permission.read_pay)
    return {
        role: {m.value: w for m, w in found.items()}
        for role, found in weights.all_roles(session).items()
    }


@router.put("/scorecard/weights/{role}", response_model=dict[str, int])
def put_weights(
    session: SessionDep, actor: ActorDep, role: str, change: Annotated[dict[str, int], Body()]
) -> dict[str, int]:
    """Sets some or all of one role's weights (measure → 0..100); admins only."""
    return {m.value: w for m, w in weights.set_weights(session, actor, role, change).items()}


class Imported(BaseModel):
    stored: int


@router.post("/scorecard/rates", response_model=Imported)
def post_rates(
    session: SessionDep, actor: ActorDep, file: Annotated[UploadFile, File()]
) -> Imported:
    """Imports the four other 五提升 rates (ATM 分流率, 存折换卡, 企业网银覆盖率, 个人网银动户率)
    per staff member and period from CSV (UTF-8 or GBK) or XLSX with Chinese headers (工号,
    期间, the rates). Unknown staff or periods: refused with the rows listed, nothing changed."""
    actor.require(Permission.approve_scorecard)
    with files.upload_folder() as folder:
        path = files.save_upload(file, folder, limit=MAX_RATES_BYTES)
        return Imported(stored=rates.import_rates(session, actor, path, path.name))
