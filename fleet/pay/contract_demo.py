"""The demo's two contracts (承包) in 兰山支行, made the way operations make them (draft, set the
targets, approve, settle), after the demo's feed is in:

1. the first field officer's outlet (a branch portfolio) over the last full quarter, 8% of
   net revenue, targets set just under what the outlet did (so it is paid, under the cap),
   approved and settled;
2. the next two field officers as a team, on the merchants they look after (a list), over
   this quarter, 10% of net revenue with a 动户率 target of 50%: running, with monthly
   accruals.

Revenue needs a fee schedule: when none is set, the example one (示例费率) is, and the stored
transactions are priced by it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.auth import service as auth
from fleet.auth.models import User
from fleet.core.access import Role, system_actor
from fleet.core.config import get_settings
from fleet.core.db import session_scope
from fleet.core.errors import Reason
from fleet.inventory.models import Branch, Merchant
from fleet.inventory.scope import subtree_ids
from fleet.pay import contracts, fees, periods, settlement
from fleet.pay.contract_models import ContractCreate, ContractUpdate, PortfolioKind

COUNTY = "兰山支行"
OPS = "ops_lanshan"
FEES_FROM = date(2021, 9, 30)


def quarter_of(day: date) -> periods.Period:
    return periods.parse(f"{day.year}-Q{(day.month - 1) // 3 + 1}")


def _ensure_fees(engine: Engine) -> None:
    actor = system_actor("demo")
    with session_scope(engine) as session:
        if fees.schedule(session):
            return
        fees.set_schedule(session, actor, fees.example_schedule(FEES_FROM))
        fees.rebuild(session, actor)


def _staff(session: Session, county: Branch) -> list[User]:
    assert county.id is not None
    return list(
        session.exec(
            select(User)
            .where(col(User.role) == Role.field)
            .where(col(User.branch_id).in_(subtree_ids(session, county.id)))
            .order_by(col(User.username))
        )
    )


def demo_contracts(engine: Engine, as_of: date) -> Reason:
    """Makes the two contracts; returns a line for the demo's report (msgid and values)."""
    _ensure_fees(engine)
    settings = get_settings()
    current = quarter_of(as_of)
    last = current.previous()
    with session_scope(engine) as session:
        county = session.exec(select(Branch).where(col(Branch.name) == COUNTY)).one()
        ops_user = session.exec(select(User).where(col(User.username) == OPS)).one()
        ops = auth.actor_for(session, ops_user)
        staff = _staff(session, county)
        if len(staff) < 3:
            return Reason(
                "not enough field staff in {branch} for the demo's contracts", branch=COUNTY
            )
        first, team = staff[0], staff[1:3]
        outlet = session.get(Branch, first.branch_id)
        assert outlet is not None
        one = contracts.create(
            session,
            ops,
            ContractCreate(
                name=f"{outlet.name} {last.text} 承包",
                members=[first.username],
                portfolio_kind=PortfolioKind.branch,
                branch_code=outlet.code,
                period=last.text,
                commission_ppm=80_000,
            ),
        )
        # Targets a little under what the outlet did: attainment above 100%, under the cap.
        net, rate = settlement.net_revenue(session, one, last.start, last.end, settings)
        contracts.update(
            session,
            ops,
            one.id or 0,
            ContractUpdate(
                target_revenue_fen=max(1, round(net / 1.12)),
                target_active_rate=min(1.0, round(rate or 0.5, 2)) or None,
            ),
        )
        contracts.approve(session, ops, one.id or 0, today=as_of, settings=settings)
        settled = contracts.settle(session, ops, one.id or 0, today=as_of, settings=settings)
        held = sorted(
            session.exec(
                select(Merchant.code).where(col(Merchant.staff_id).in_([u.id for u in team]))
            ).all()
        )
        two = contracts.create(
            session,
            ops,
            ContractCreate(
                name=f"{COUNTY} {current.text} 团队承包",
                members=[u.username for u in team],
                portfolio_kind=PortfolioKind.merchants,
                merchant_codes=held,
                period=current.text,
                target_active_rate=0.5,
                commission_ppm=100_000,
            ),
        )
        contracts.approve(session, ops, two.id or 0, today=as_of, settings=settings)
        return Reason(
            "#{one} {one_name}: settled {yuan} yuan in {lines} lines; #{two} {two_name}: "
            "{status}, {merchants} merchants",
            one=one.id,
            one_name=one.name,
            yuan=f"{settled.total_fen / 100:,.2f}",
            lines=len(settled.lines),
            two=two.id,
            two_name=two.name,
            status=two.status,
            merchants=len(held),
        )
