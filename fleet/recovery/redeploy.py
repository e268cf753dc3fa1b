"""Redeployment (二次营销): where each in-stock unit should go, placing it, and how it went.

A target is a wholesale market near the unit's branch, ranked by the use we can expect there:
the recent monthly use of the terminals already in that market (from our own scores; the
trade's average across all markets where the market has too few to judge), boosted by a
running campaign and discounted by distance. Its prospects are its open merchants with no
unit, those the branch knows bring cash to the counter most often first.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Field, Session, SQLModel, col, select
from sqlmodel.sql.expression import SelectOfScalar

from fleet.core import phrases
from fleet.core.access import Actor, Permission
from fleet.core.config import get_settings
from fleet.core.errors import Conflict
from fleet.core.geo import distance_m
from fleet.feeds.models import TerminalDay
from fleet.inventory import lifecycle
from fleet.inventory import service as inventory
from fleet.inventory.models import (
    AT_MERCHANT,
    Branch,
    Market,
    Merchant,
    MerchantStatus,
    Terminal,
    TerminalState,
)
from fleet.markets.models import Campaign
from fleet.markets.models import Prospect as Known
from fleet.recovery.models import RecoveryRequest, RequestStatus
from fleet.recovery.service import local_day, today
from fleet.scoring import service as scoring
from fleet.scoring.models import TerminalScore
from fleet.scoring.rules import ACTIVE

MIN_PEERS = 3  # fewer scored units than this in a market: judge it by its trade instead
CAMPAIGN_BOOST = 1.25
KM_HALF = 10.0  # a market this far away counts half as much as one next door


class Prospect(SQLModel):
    merchant_id: int
    merchant_code: str
    merchant_name: str
    counter_visits_month: float | None = None


class Target(SQLModel):
    market_id: int
    market_code: str
    market_name: str
    trade: str
    expected_monthly: float  # expected successful transactions a month
    rank_value: float
    peers: int
    active_rate: float | None
    merchants_without_unit: int
    distance_km: float
    campaign: str | None
    why: dict[str, Any] = Field(description="Why this market: a phrase (code and values).")
    prospects: list[Prospect]


class UnitSuggestion(SQLModel):
    terminal_id: int
    sn: str
    branch_id: int
    branch_code: str
    days_in_stock: int
    recovered: bool
    targets: list[Target]


class _Market:
    def __init__(self, market: Market) -> None:
        self.market = market
        self.peers = 0
        self.active = 0
        self.count_30 = 0
        self.free: list[Merchant] = []
        self.campaign: str | None = None


def _running_campaigns(session: Session, day: date) -> dict[int, str]:
    """{market id: campaign name} for campaigns running today."""
    stmt = select(Campaign.market_id, Campaign.name).where(
        col(Campaign.starts_on) <= day, col(Campaign.ends_on) >= day
    )
    return {market_id: name for market_id, name in session.execute(stmt)}


def _counter_visits(session: Session) -> dict[int, float]:
    """What branches know of merchants without a unit: counter visits a month."""
    stmt = select(Known.merchant_id, Known.counter_visits_month).where(
        col(Known.counter_visits_month).is_not(None)
    )
    return {m: float(v) for m, v in session.execute(stmt)}


def _markets(session: Session) -> list[_Market]:
    """Every located market with its scored units, its merchants without a unit, its campaign."""
    found = {
        m.id: _Market(m)
        for m in session.execute(select(Market)).scalars()
        if m.lat is not None and m.lng is not None
    }
    as_of = scoring.latest_as_of(session)
    stmt = select(TerminalScore.market_id, TerminalScore.status, TerminalScore.count_30).where(
        col(TerminalScore.as_of) == as_of, col(TerminalScore.market_id).is_not(None)
    )
    for market_id, status, count_30 in session.execute(stmt):
        if market_id in found:
            entry = found[market_id]
            entry.peers += 1
            entry.active += status in ACTIVE
            entry.count_30 += count_30
    served = select(Terminal.merchant_id).where(col(Terminal.state).in_(AT_MERCHANT))
    free = select(Merchant).where(
        col(Merchant.market_id).in_(list(found)),
        col(Merchant.status) == MerchantStatus.open,
        col(Merchant.id).not_in(served),
    )
    for merchant in session.execute(free).scalars():
        found[merchant.market_id or 0].free.append(merchant)
    for market_id, name in _running_campaigns(session, today()).items():
        if market_id in found:
            found[market_id].campaign = name
    return list(found.values())


def _targets_for(
    branch: Branch, markets: list[_Market], trade_avg: dict[str, float], known: dict[int, float]
) -> list[Target]:
    if branch.lat is None or branch.lng is None:
        return []
    max_km = get_settings().redeploy_max_km
    out = []
    for m in markets:
        market = m.market
        km = distance_m((branch.lat, branch.lng), (market.lat or 0.0, market.lng or 0.0)) / 1000
        if km > max_km or not m.free:
            continue
        trade = market.category.value
        category = phrases.word("market_category", market.category)
        if m.peers >= MIN_PEERS:
            expected = m.count_30 / m.peers
            rate = m.active / m.peers
            use = phrases.phrase(
                "target_peers",
                peers=m.peers,
                expected=round(expected, 1),
                rate=phrases.percent(rate),
            )
        else:
            expected, rate = trade_avg.get(trade, 0.0), None
            use = phrases.phrase("target_trade", trade=category, expected=round(expected, 1))
        value = expected * (CAMPAIGN_BOOST if m.campaign else 1.0) / (1 + km / KM_HALF)
        free = sorted(m.free, key=lambda x: (-known.get(x.id or 0, -1.0), x.code))
        out.append(
            Target(
                market_id=market.id or 0,
                market_code=market.code,
                market_name=market.name,
                trade=trade,
                expected_monthly=round(expected, 1),
                rank_value=round(value, 2),
                peers=m.peers,
                active_rate=None if rate is None else round(rate, 3),
                merchants_without_unit=len(m.free),
                distance_km=round(km, 1),
                campaign=m.campaign,
                why=phrases.parts(
                    phrases.phrase("target_market", market=market.name, trade=category),
                    use,
                    phrases.phrase("target_free", n=len(m.free), km=round(km, 1)),
                    phrases.phrase("target_campaign", campaign=m.campaign) if m.campaign else None,
                ),
                prospects=[
                    Prospect(
                        merchant_id=x.id or 0,
                        merchant_code=x.code,
                        merchant_name=x.name,
                        counter_visits_month=known.get(x.id or 0),
                    )
                    for x in free[:3]
                ],
            )
        )
    out.sort(key=lambda t: (-t.rank_value, t.distance_km))
    return out


def _in_stock(session: Session, actor: Actor, branch_id: int | None) -> SelectOfScalar[Terminal]:
    actor.require(Permission.read_inventory)
    branch_ids = scoring.scope_branch_ids(session, actor, branch_id)
    stmt = select(Terminal).where(col(Terminal.state) == TerminalState.in_stock)
    if branch_ids is not None:
        stmt = stmt.where(col(Terminal.branch_id).in_(branch_ids))
    return stmt


def count_in_stock(session: Session, actor: Actor, *, branch_id: int | None = None) -> int:
    """How many in-stock units `redeploy_suggestions` has to offer, before any limit."""
    stmt = _in_stock(session, actor, branch_id)
    return int(session.execute(sa_select(func.count()).select_from(stmt.subquery())).scalar_one())


def redeploy_suggestions(
    session: Session,
    actor: Actor,
    *,
    branch_id: int | None = None,
    targets: int = 3,
    limit: int | None = None,
) -> list[UnitSuggestion]:
    """Every in-stock unit in scope, longest in stock first, with its best targets explained."""
    stmt = _in_stock(session, actor, branch_id)
    if limit:
        stmt = stmt.limit(limit)
    units = list(
        session.execute(stmt.order_by(col(Terminal.state_since), col(Terminal.sn))).scalars()
    )
    markets = _markets(session)
    per_trade: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for m in markets:
        per_trade[m.market.category.value][0] += m.count_30
        per_trade[m.market.category.value][1] += m.peers
    trade_avg = {t: c / n for t, (c, n) in per_trade.items() if n}
    known = _counter_visits(session)
    recovered = set(
        session.execute(
            select(RecoveryRequest.terminal_id).where(
                col(RecoveryRequest.status) == RequestStatus.completed
            )
        ).scalars()
    )
    branches: dict[int, Branch] = {}
    cache: dict[int, list[Target]] = {}
    day = today()
    out = []
    for unit in units:
        if unit.branch_id not in cache:
            branch = session.get(Branch, unit.branch_id)
            assert branch is not None
            branches[unit.branch_id] = branch
            cache[unit.branch_id] = _targets_for(branch, markets, trade_avg, known)
        out.append(
            UnitSuggestion(
                terminal_id=unit.id or 0,
                sn=unit.sn,
                branch_id=unit.branch_id,
                branch_code=branches[unit.branch_id].code,
                days_in_stock=(day - local_day(unit.state_since)).days,
                recovered=unit.id in recovered,
                targets=cache[unit.branch_id][:targets],
            )
        )
    return out


def place_unit(
    session: Session,
    actor: Actor,
    terminal_id: int,
    merchant_code: str,
    *,
    reason: str = "",
    at: datetime | None = None,
) -> Terminal:
    """Places an in-stock unit with a merchant in one step (in_stock → deployed, new placement)."""
    terminal = inventory.get_terminal(session, actor, terminal_id)
    if terminal.state is not TerminalState.in_stock:
        raise Conflict(
            "terminal {sn} is {state}; only units in stock are placed",
            details={"current_state": terminal.state.value},
            sn=terminal.sn,
            state=terminal.state,
        )
    lifecycle.transition(
        session,
        actor,
        terminal,
        TerminalState.deployed,
        merchant_code=merchant_code,
        reason=reason or phrases.phrase("second_marketing"),
        at=at,
    )
    # Second marketing: the recovery that brought this unit back now knows where it went.
    last = (
        session.execute(
            select(RecoveryRequest)
            .where(
                col(RecoveryRequest.terminal_id) == terminal.id,
                col(RecoveryRequest.status) == RequestStatus.completed,
                col(RecoveryRequest.redeployed_at).is_(None),
            )
            .order_by(col(RecoveryRequest.completed_at).desc())
        )
        .scalars()
        .first()
    )
    if last is not None:
        last.redeployed_at, last.redeployed_merchant_id = terminal.state_since, terminal.merchant_id
        session.add(last)
        session.flush()
    return terminal


class SecondMarketingRow(SQLModel):
    request_id: int
    terminal_id: int
    sn: str
    branch_code: str | None
    recovered_at: Any
    condition: str | None
    from_merchant_code: str | None
    redeployed_at: Any
    to_merchant_code: str | None
    days_to_redeploy: int | None
    transactions_since: int
    last_used_on: date | None
    status: str | None  # latest usage status, while it is there


def second_marketing(
    session: Session, actor: Actor, *, branch_id: int | None = None
) -> list[SecondMarketingRow]:
    """Recovered units, and where each went next with its use since (newest first)."""
    actor.require(Permission.read_inventory)
    branch_ids = scoring.scope_branch_ids(session, actor, branch_id)
    stmt = select(RecoveryRequest).where(col(RecoveryRequest.status) == RequestStatus.completed)
    if branch_ids is not None:
        stmt = stmt.where(col(RecoveryRequest.branch_id).in_(branch_ids))
    rows = list(session.execute(stmt.order_by(col(RecoveryRequest.completed_at).desc())).scalars())
    sns = inventory.codes(session, Terminal, {r.terminal_id for r in rows}, column="sn")
    branches = inventory.codes(session, Branch, {r.branch_id for r in rows})
    merchants = inventory.codes(
        session, Merchant, {r.merchant_id for r in rows} | {r.redeployed_merchant_id for r in rows}
    )
    as_of = scoring.latest_as_of(session)
    out = []
    for r in rows:
        used, last, status = 0, None, None
        if r.redeployed_at is not None:
            since = local_day(r.redeployed_at)
            used, last = session.execute(
                select(
                    func.coalesce(func.sum(col(TerminalDay.txn_count)), 0),
                    func.max(TerminalDay.day),
                ).where(
                    col(TerminalDay.terminal_id) == r.terminal_id,
                    col(TerminalDay.day) >= since,
                    col(TerminalDay.txn_count) > 0,
                )
            ).one()
            score = session.get(TerminalScore, (as_of, r.terminal_id)) if as_of else None
            status = (
                score.status.value
                if score and score.merchant_id == r.redeployed_merchant_id
                else None
            )
        out.append(
            SecondMarketingRow(
                request_id=r.id or 0,
                terminal_id=r.terminal_id,
                sn=sns.get(r.terminal_id, ""),
                branch_code=branches.get(r.branch_id),
                recovered_at=r.completed_at,
                condition=r.condition,
                from_merchant_code=merchants.get(r.merchant_id),
                redeployed_at=r.redeployed_at,
                to_merchant_code=merchants.get(r.redeployed_merchant_id or 0),
                days_to_redeploy=(local_day(r.redeployed_at) - local_day(r.completed_at)).days
                if r.redeployed_at and r.completed_at
                else None,
                transactions_since=int(used),
                last_used_on=last,
                status=status,
            )
        )
    return out
