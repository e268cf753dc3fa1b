"""Pay API: the fee schedule, merchants' fee classes, re-pricing stored transactions, and
revenue with its 收益率."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel

from fleet.auth.dependencies import ActorDep
from fleet.core.access import Permission
from fleet.core.requests import SessionDep
from fleet.pay import activation, fees, periods, yields
from fleet.pay.activation import ActivationRow, Group
from fleet.pay.models import FeeRuleIn, FeeRulePublic, MerchantClass
from fleet.pay.yields import By, YieldRow

router = APIRouter(tags=["pay"])


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


@router.get("/scorecard/activation", response_model=list[ActivationRow])
def scorecard_activation(
    session: SessionDep,
    actor: ActorDep,
    period: Annotated[str, Query(description="A month 2026-11, a quarter 2026-Q4, a year 2026.")],
    group: Annotated[Group, Query(alias="by", description="staff or branch.")] = Group.staff,
    branch_id: Annotated[
        int | None, Query(description="Only this branch and those below it.")
    ] = None,
    k: Annotated[
        int, Query(ge=1, le=100, description="Transactions in 30 days that make an activation.")
    ] = 3,
) -> list[ActivationRow]:
    """五提升's activation rate (转账电话存量客户激活率提升): per staff member or branch, the
    units idle, dormant or never used at the period's first day, how many made k successful
    financial transactions in the 30 days after, the rate (the Wilson lower bound under 30
    units, `wilson` set) and its change against the previous period. Staff see their own line."""
    return activation.activation(
        session, actor, period=periods.parse(period), group=group, branch_id=branch_id, k=k
    )
