"""Coverage of each wholesale market: who is there, who has a unit, how the units are used.

Merchants are the market's open merchants (`merchant.market_id`); a merchant "has a terminal"
when a unit sits at it now (deployed or awaiting recovery). Usage comes from the stored
scores of one as-of date (the latest by default): 动户率 = (active + declining) / scored,
and successful financial transactions per unit over the last 30 days, against the fleet.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, distinct, func, or_, select
from sqlmodel import Session, SQLModel, col

from fleet.core.access import Actor, Permission
from fleet.core.errors import Invalid, NotFound
from fleet.core.geo import distance_m
from fleet.core.words import said
from fleet.inventory import service as inventory
from fleet.inventory.models import (
    AT_MERCHANT,
    Branch,
    Market,
    MarketCategory,
    Merchant,
    MerchantStatus,
    Terminal,
)
from fleet.markets.settings import market_settings
from fleet.scoring import service as scoring
from fleet.scoring.models import TerminalScore
from fleet.scoring.rules import ACTIVE

_ACTIVE_VALUES = sorted(s.value for s in ACTIVE)
_AT_MERCHANT_VALUES = sorted(s.value for s in AT_MERCHANT)


@dataclass
class Tally:
    """Scored units of a group on one as-of date."""

    deployed: int = 0
    active: int = 0
    txn_30: int = 0
    amount_30_fen: int = 0

    @property
    def active_rate(self) -> float | None:
        return round(self.active / self.deployed, 4) if self.deployed else None

    @property
    def txn_per_unit(self) -> float | None:
        return round(self.txn_30 / self.deployed, 2) if self.deployed else None


class TrendPoint(SQLModel):
    as_of: date
    deployed: int
    active: int
    active_rate: float | None
    txn_30_per_terminal: float | None


class MarketCoverage(SQLModel):
    market_id: int
    code: str
    name: str
    category: str
    category_zh: str
    branch_id: int | None
    branch_code: str | None
    stalls: int | None
    as_of: date | None = None  # the scored date usage is read from; None: nothing scored
    merchants: int = 0
    merchants_with_terminal: int = 0
    merchants_without_terminal: int = 0
    terminals: int = 0  # units at the market's merchants now
    deployed: int = 0  # units scored on as_of
    active: int = 0
    active_rate: float | None = None
    penetration: float | None = None
    txn_30_per_terminal: float | None = None
    amount_30_per_terminal_yuan: float | None = None
    fleet_txn_30_per_terminal: float | None = None
    volume_vs_fleet: float | None = None
    nearest_branch_code: str | None = None
    nearest_branch_name: str | None = None
    nearest_branch_km: float | None = None
    trend: list[TrendPoint] = []


def parse_category(text: str | None) -> MarketCategory | None:
    """A market category from its English value or its Chinese name (五金); None if empty."""
    if not text:
        return None
    key = text.strip()
    for category in MarketCategory:
        if key in (category.value, said("market_category", category)):
            return category
    allowed = ", ".join(f"{c.value} ({said('market_category', c)})" for c in MarketCategory)
    raise Invalid(
        "unknown market category {category}; use one of: {allowed}",
        category=repr(text),
        allowed=allowed,
    )


def scored_date(session: Session, as_of: date | None) -> date | None:
    """The as-of date to read scores from: the one asked for (it must exist), or the latest."""
    if as_of is None:
        return scoring.latest_as_of(session)
    if as_of not in scoring.stored_as_ofs(session):
        raise NotFound("no scores as of {day}; run `fleet score --as-of {day}` first", day=as_of)
    return as_of


def tallies(
    session: Session,
    as_of: date | None,
    key: Any = None,
    *where: ColumnElement[bool],
    join_market: bool = False,
) -> dict[Any, Tally]:
    """Per `key` (a column of the scores, or of Market with `join_market`), the scored units."""
    if as_of is None:
        return {}
    active = func.sum(case((col(TerminalScore.status).in_(_ACTIVE_VALUES), 1), else_=0))
    keys = [key] if key is not None else []
    stmt = (
        select(
            *keys,
            func.count(),
            active,
            func.sum(col(TerminalScore.count_30)),
            func.sum(col(TerminalScore.amount_30_fen)),
        )
        .select_from(TerminalScore)
        .where(col(TerminalScore.as_of) == as_of, *where)
    )
    if join_market:
        stmt = stmt.join(Market, col(Market.id) == col(TerminalScore.market_id))
    if keys:
        stmt = stmt.group_by(*keys)
    out: dict[Any, Tally] = {}
    for *group, deployed, n_active, txn, amount in session.execute(stmt):
        out[group[0] if group else None] = Tally(
            int(deployed), int(n_active or 0), int(txn or 0), int(amount or 0)
        )
    return out


def fleet_tally(session: Session, as_of: date | None) -> Tally:
    """Every scored unit of the bank on `as_of`: the fleet average the markets compare with."""
    return tallies(session, as_of).get(None) or Tally()


def trade_tallies(session: Session, as_of: date | None) -> dict[str, Tally]:
    """Scored units in wholesale markets, by the market's trade: how comparable units do."""
    found = tallies(session, as_of, col(Market.category), join_market=True)
    return {getattr(k, "value", k): v for k, v in found.items()}


def merchant_counts(session: Session, market_ids: Iterable[int]) -> dict[int, tuple[int, int, int]]:
    """{market id: (open merchants, of them with a unit, units at its merchants)}."""
    ids = list(market_ids)
    counts: dict[int, list[int]] = {i: [0, 0, 0] for i in ids}
    if not ids:
        return {}
    in_markets = col(Merchant.market_id).in_(ids)
    is_open = col(Merchant.status) == MerchantStatus.open
    for market_id, n in session.execute(
        select(col(Merchant.market_id), func.count())
        .where(in_markets, is_open)
        .group_by(col(Merchant.market_id))
    ):
        counts[market_id][0] = int(n)
    at_merchant = col(Terminal.state).in_(_AT_MERCHANT_VALUES)
    served = func.count(distinct(case((is_open, col(Merchant.id)))))
    for market_id, n_served, units in session.execute(
        select(col(Merchant.market_id), served, func.count(col(Terminal.id)))
        .join(Terminal, col(Terminal.merchant_id) == col(Merchant.id))
        .where(in_markets, at_merchant)
        .group_by(col(Merchant.market_id))
    ):
        counts[market_id][1], counts[market_id][2] = int(n_served), int(units)
    return {i: (c[0], c[1], c[2]) for i, c in counts.items()}


def centre(market: Market) -> tuple[float, float] | None:
    """The market's centre point, or its polygon's vertex mean."""
    if market.lat is not None and market.lng is not None:
        return market.lat, market.lng
    if market.polygon:
        n = len(market.polygon)
        return sum(v[0] for v in market.polygon) / n, sum(v[1] for v in market.polygon) / n
    return None


def flat_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Flat-earth km between two nearby points: cheap, and close enough to pick candidates."""
    dy = (a[0] - b[0]) * 111.32
    dx = (a[1] - b[1]) * 111.32 * math.cos(math.radians(a[0]))
    return math.hypot(dx, dy)


def nearest_branch(
    point: tuple[float, float] | None, branches: list[Branch]
) -> tuple[Branch, float] | None:
    """The branch nearest to `point` and its geodesic distance in km."""
    placed = [b for b in branches if b.lat is not None and b.lng is not None]
    if point is None or not placed:
        return None
    # A flat-earth pick of the few nearest, then the exact distance for those alone.
    few = sorted(placed, key=lambda b: flat_km(point, (b.lat or 0.0, b.lng or 0.0)))[:3]
    ranked = [(b, distance_m(point, (b.lat or 0.0, b.lng or 0.0)) / 1000) for b in few]
    return min(ranked, key=lambda pair: pair[1])


def visible_markets(
    session: Session,
    actor: Actor,
    *,
    category: MarketCategory | None = None,
    branch_id: int | None = None,
) -> list[Market]:
    """Markets the actor sees (their subtree's and unassigned ones), filtered, by code."""
    actor.require(Permission.read_inventory)
    stmt = select(Market).order_by(col(Market.code))
    if actor.branch_ids is not None:
        stmt = stmt.where(
            or_(col(Market.branch_id).in_(actor.branch_ids), col(Market.branch_id).is_(None))
        )
    if branch_id is not None:
        stmt = stmt.where(
            col(Market.branch_id).in_(scoring.scope_branch_ids(session, actor, branch_id) or [])
        )
    if category is not None:
        stmt = stmt.where(col(Market.category) == category)
    return list(session.execute(stmt).scalars())


def coverage(
    session: Session,
    actor: Actor,
    markets: list[Market],
    *,
    as_of: date | None = None,
    weeks: int = 0,
) -> list[MarketCoverage]:
    """Coverage of each of `markets` (from `visible_markets`), with `weeks` trend points."""
    day = scored_date(session, as_of)
    ids = [m.id or 0 for m in markets]
    counts = merchant_counts(session, ids)
    usage = tallies(
        session, day, col(TerminalScore.market_id), col(TerminalScore.market_id).in_(ids)
    )
    fleet = fleet_tally(session, day)
    branches = list(session.execute(select(Branch)).scalars())
    codes = {b.id: b.code for b in branches}
    out = []
    for market in markets:
        merchants, served, units = counts.get(market.id or 0, (0, 0, 0))
        tally = usage.get(market.id) or Tally()
        base = max(merchants, market.stalls or 0)
        near = nearest_branch(centre(market), branches)
        ratio = (
            round(tally.txn_30 / tally.deployed / (fleet.txn_30 / fleet.deployed), 2)
            if tally.deployed and fleet.txn_30
            else None
        )
        out.append(
            MarketCoverage(
                market_id=market.id or 0,
                code=market.code,
                name=market.name,
                category=market.category.value,
                category_zh=said("market_category", market.category),
                branch_id=market.branch_id,
                branch_code=codes.get(market.branch_id),
                stalls=market.stalls,
                as_of=day,
                merchants=merchants,
                merchants_with_terminal=served,
                merchants_without_terminal=merchants - served,
                terminals=units,
                deployed=tally.deployed,
                active=tally.active,
                active_rate=tally.active_rate,
                penetration=round(served / base, 4) if base else None,
                txn_30_per_terminal=tally.txn_per_unit,
                amount_30_per_terminal_yuan=(
                    round(tally.amount_30_fen / tally.deployed / 100, 2) if tally.deployed else None
                ),
                fleet_txn_30_per_terminal=fleet.txn_per_unit,
                volume_vs_fleet=ratio,
                nearest_branch_code=near[0].code if near else None,
                nearest_branch_name=near[0].name if near else None,
                nearest_branch_km=round(near[1], 2) if near else None,
                trend=trend(session, market.id or 0, day, weeks) if weeks and day else [],
            )
        )
    return out


def market_coverage(
    session: Session,
    actor: Actor,
    market_id: int,
    *,
    as_of: date | None = None,
    weeks: int | None = None,
) -> MarketCoverage:
    """One market's coverage with its week-by-week trend; 404 outside the actor's scope."""
    actor.require(Permission.read_inventory)
    market = inventory.get_market(session, actor, market_id)
    weeks = market_settings().trend_weeks if weeks is None else weeks
    if not 0 <= weeks <= 104:
        raise Invalid("weeks must be between 0 and 104")
    return coverage(session, actor, [market], as_of=as_of, weeks=weeks)[0]


def points(session: Session, market_id: int, dates: Iterable[date]) -> dict[date, TrendPoint]:
    """The market's scored units at each of `dates` that was scored."""
    wanted = sorted(set(dates))
    if not wanted:
        return {}
    active = func.sum(case((col(TerminalScore.status).in_(_ACTIVE_VALUES), 1), else_=0))
    stmt = (
        select(
            col(TerminalScore.as_of), func.count(), active, func.sum(col(TerminalScore.count_30))
        )
        .where(col(TerminalScore.market_id) == market_id, col(TerminalScore.as_of).in_(wanted))
        .group_by(col(TerminalScore.as_of))
    )
    found = {d: Tally(int(n), int(a or 0), int(t or 0)) for d, n, a, t in session.execute(stmt)}
    stored = set(scoring.stored_as_ofs(session))
    return {d: _point(d, found.get(d) or Tally()) for d in wanted if d in stored}


def _point(day: date, tally: Tally) -> TrendPoint:
    return TrendPoint(
        as_of=day,
        deployed=tally.deployed,
        active=tally.active,
        active_rate=tally.active_rate,
        txn_30_per_terminal=tally.txn_per_unit,
    )


def trend(session: Session, market_id: int, as_of: date, weeks: int) -> list[TrendPoint]:
    """Week by week, ending at `as_of`, oldest first (dates never scored are left out)."""
    dates = [as_of - timedelta(days=7 * k) for k in range(weeks - 1, -1, -1)]
    found = points(session, market_id, dates)
    return [found[d] for d in dates if d in found]
