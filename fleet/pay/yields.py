"""收益率: what units earn (net revenue, from terminal_day) over what they cost, per unit and
per portfolio (a staff member's, a branch's, a market's), for a period.

A unit's cost over a period: its price spread evenly over its life (FLEET_PAY_UNIT_PRICE_FEN
over FLEET_PAY_UNIT_LIFE_MONTHS of 365/12 days, from the day it was registered or first placed,
whichever came first, until its life ends), plus
the line fee of each month (FLEET_PAY_LINE_FEE_FEN_PER_MONTH), for the days of the period it
existed; plus its after-sales cost, from `aftersales_cost` (none until fleet/aftersales
records tickets with a cost). A portfolio is the units' current merchant's staff member and
market, and the unit's own branch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlmodel import Session, col

from fleet.auth import service as auth
from fleet.auth.models import User
from fleet.core.access import Actor, Permission
from fleet.core.config import Settings, get_settings
from fleet.feeds.models import TerminalDay
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch, Market, Merchant, Placement, Terminal
from fleet.inventory.scope import subtree_ids
from fleet.pay.periods import Period

DAYS_PER_MONTH = 365 / 12
NONE = "-"


class By(StrEnum):
    unit = "unit"
    staff = "staff"
    branch = "branch"
    market = "market"


class YieldRow(BaseModel):
    """One unit or portfolio: its units, transactions, revenue and cost (fen), 收益率."""

    key: str
    # The branch's, market's or person's name, shown first (`core.names`); '' for a unit.
    name: str = ""
    units: int
    txn_count: int
    amount_fen: int
    fee_fen: int
    net_fen: int
    cost_fen: int
    # net revenue / cost; None when the cost is nothing.
    yield_rate: float | None


@dataclass(frozen=True)
class UnitFacts:
    terminal_id: int
    sn: str
    branch: str
    staff: str
    market: str
    registered: date


def aftersales_cost(
    session: Session, terminal_ids: Iterable[int], period: Period
) -> dict[int, int]:
    """The after-sales cost (fen) of each unit over the period: the hook for fleet/aftersales,
    which will add its tickets' costs here. None are recorded yet."""
    return {}


def local_day(moment: datetime, settings: Settings) -> date:
    stamp = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return stamp.astimezone(ZoneInfo(settings.feed_timezone)).date()


def unit_cost(registered: date, period: Period, settings: Settings) -> int:
    """Amortisation and line fee (fen) of one unit over the days of `period` it existed."""
    start = max(period.start, registered)
    days = max(0, (period.end - start).days)
    life_end = registered + timedelta(days=round(settings.pay_unit_life_months * DAYS_PER_MONTH))
    amortised_days = max(0, (min(period.end, life_end) - start).days)
    per_day_price = settings.pay_unit_price_fen / (settings.pay_unit_life_months * DAYS_PER_MONTH)
    return round(amortised_days * per_day_price) + round(
        days * settings.pay_line_fee_fen_per_month / DAYS_PER_MONTH
    )


def _units(
    session: Session, actor: Actor, branch_id: int | None, settings: Settings
) -> list[UnitFacts]:
    query = (
        select(
            col(Terminal.id),
            col(Terminal.sn),
            col(Branch.code),
            col(User.username),
            col(Market.code),
            col(Terminal.created_at),
        )
        .join(Branch, col(Branch.id) == Terminal.branch_id)
        .outerjoin(Merchant, col(Merchant.id) == Terminal.merchant_id)
        .outerjoin(User, col(User.id) == Merchant.staff_id)
        .outerjoin(Market, col(Market.id) == Merchant.market_id)
    )
    if actor.branch_ids is not None:
        query = query.where(col(Terminal.branch_id).in_(actor.branch_ids))
    if branch_id is not None:
        inventory.get_branch(session, actor, branch_id)  # not found outside the actor's scope
        query = query.where(col(Terminal.branch_id).in_(subtree_ids(session, branch_id)))
    return [
        UnitFacts(tid, sn, branch, staff or NONE, market or NONE, local_day(created, settings))
        for tid, sn, branch, staff, market, created in session.execute(query)
    ]


def revenue_by_unit(session: Session, period: Period) -> dict[int, tuple[int, int, int, int]]:
    """terminal id → (transactions, amount, fee, net) over the period."""
    day = TerminalDay.__table__.c  # type: ignore[attr-defined]
    kinds = ("transfer", "card_payment", "bill_payment")
    rows = session.execute(
        select(
            day.terminal_id,
            func.sum(sum((day[f"{k}_count"] for k in kinds[1:]), day.transfer_count)),
            func.sum(sum((day[f"{k}_fen"] for k in kinds[1:]), day.transfer_fen)),
            func.sum(sum((day[f"{k}_fee_fen"] for k in kinds[1:]), day.transfer_fee_fen)),
            func.sum(day.net_fen),
        )
        .where(day.day >= period.start, day.day < period.end)
        .group_by(day.terminal_id)
    )
    return {tid: (int(n), int(a), int(f), int(net)) for tid, n, a, f, net in rows}


def _names(session: Session, by: By, keys: Iterable[str]) -> dict[str, str]:
    """{key: name} of the portfolios' branches, people or markets."""
    if by is By.branch:
        return inventory.branch_names(session, keys)
    if by is By.staff:
        return auth.full_names(session, keys)
    if by is By.market:
        stmt = select(col(Market.code), col(Market.name)).where(col(Market.code).in_(set(keys)))
        return {code: name for code, name in session.execute(stmt)}
    return {}


def yields(
    session: Session,
    actor: Actor,
    *,
    by: By,
    period: Period,
    branch_id: int | None = None,
    settings: Settings | None = None,
) -> list[YieldRow]:
    """收益率 of each unit or portfolio in the actor's scope, best first."""
    actor.require(Permission.read_pay)
    s = settings or get_settings()
    units = _units(session, actor, branch_id, s)
    first_placed = dict(
        session.execute(
            select(col(Placement.terminal_id), func.min(col(Placement.started_at))).group_by(
                col(Placement.terminal_id)
            )
        ).all()
    )
    earned = revenue_by_unit(session, period)
    repairs = aftersales_cost(session, (u.terminal_id for u in units), period)
    totals: dict[str, list[int]] = defaultdict(lambda: [0] * 6)
    for unit in units:
        key = {By.unit: unit.sn, By.staff: unit.staff, By.branch: unit.branch}.get(by, unit.market)
        n, amount, fee, net = earned.get(unit.terminal_id, (0, 0, 0, 0))
        placed = first_placed.get(unit.terminal_id)
        since = min(unit.registered, local_day(placed, s)) if placed else unit.registered
        cost = unit_cost(since, period, s) + repairs.get(unit.terminal_id, 0)
        for i, value in enumerate((1, n, amount, fee, net, cost)):
            totals[key][i] += value
    names = _names(session, by, totals)
    rows = [
        YieldRow(
            key=key,
            name=names.get(key, ""),
            units=t[0],
            txn_count=t[1],
            amount_fen=t[2],
            fee_fen=t[3],
            net_fen=t[4],
            cost_fen=t[5],
            yield_rate=round(t[4] / t[5], 4) if t[5] else None,
        )
        for key, t in totals.items()
    ]
    return sorted(rows, key=lambda r: (-(r.yield_rate or 0), r.key))
