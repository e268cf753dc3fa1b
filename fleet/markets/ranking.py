"""Where to grow: wholesale markets ranked by opportunity, each with a one-line explanation.

The score (0-100) weighs three things and then applies two penalties:

- size (50%): merchants not yet served, potential = max(merchants known, stalls) - merchants
  with a unit, as potential / (potential + 50), so 50 unserved count half and more count less
  and less;
- trade (30%): how comparable units do, i.e. units in markets of the same trade on the scored
  date: 0.6 x their 动户率 + 0.4 x their 30-day transactions per unit against the fleet's,
  capped at twice the fleet (the whole fleet stands in while a trade has no scored units);
- stock (20%): in-stock units at branches within `stock_radius_km` of the market that no
  open campaign has set aside, 10 or more count fully;
- saturation: from 60% penetration up to 100%, up to 60% off;
- campaigns: 50% off while one is planned or running, 30% off when one ended within
  `recent_campaign_days`: the same merchants were just asked.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Field, Session, SQLModel, col

from fleet.core.access import Actor
from fleet.core.i18n import texts_for
from fleet.core.memo import memo
from fleet.core.phrases import Phrase, parts, percent, phrase, word
from fleet.inventory.models import Branch, Market, MarketCategory, Terminal
from fleet.inventory.models import TerminalState as S
from fleet.markets import coverage as cov
from fleet.markets.models import Campaign, CampaignUnit
from fleet.markets.settings import MarketSettings, market_settings
from fleet.scoring.service import today_local

SIZE_HALF = 50  # unserved merchants that make the size part 0.5
STOCK_FULL = 10  # units in stock nearby that make the stock part 1
WEIGHTS = {"size": 0.5, "trade": 0.3, "stock": 0.2}
SATURATED_FROM, SATURATION_MAX = 0.6, 0.6
PENALTY_OPEN_CAMPAIGN, PENALTY_RECENT_CAMPAIGN = 0.5, 0.3


class RankedMarket(SQLModel):
    rank: int = 0
    market_id: int
    code: str
    name: str
    category: str
    category_zh: str
    branch_id: int | None
    branch_code: str | None
    score: float
    merchants: int
    merchants_with_terminal: int
    unserved_known: int
    potential: int
    penetration: float | None
    active_rate: float | None
    trade_active_rate: float | None
    trade_volume_vs_fleet: float | None
    stock_nearby: int
    campaign: str | None  # "planned", "running" or "recent"
    last_campaign_ended: date | None
    parts: dict[str, float]
    why: dict[str, Any] = Field(
        default_factory=dict, description="The reason as a phrase: a code and its values."
    )
    reason: str = Field(default="", description="The reason in words (English).")


def free_stock_by_branch(session: Session, actor: Actor, today: date) -> dict[int, int]:
    """In-stock units per branch in the actor's scope, less those set aside by open campaigns."""
    reserved = (
        select(col(CampaignUnit.terminal_id))
        .join(Campaign, col(Campaign.id) == col(CampaignUnit.campaign_id))
        .where(col(Campaign.ends_on) >= today)
    )
    stmt = (
        select(col(Terminal.branch_id), func.count())
        .where(col(Terminal.state) == S.in_stock, col(Terminal.id).not_in(reserved))
        .group_by(col(Terminal.branch_id))
    )
    if actor.branch_ids is not None:
        stmt = stmt.where(col(Terminal.branch_id).in_(actor.branch_ids))
    return {branch_id: int(n) for branch_id, n in session.execute(stmt)}


def stock_near(
    point: tuple[float, float] | None,
    branches: list[Branch],
    stock: dict[int, int],
    radius_km: float,
) -> int:
    """Free in-stock units at branches within `radius_km` of `point`."""
    if point is None:
        return 0
    # Within ten-odd km a flat-earth distance is off by well under a percent.
    return sum(
        stock.get(b.id or 0, 0)
        for b in branches
        if b.lat is not None
        and b.lng is not None
        and cov.flat_km(point, (b.lat, b.lng)) <= radius_km
    )


def campaign_state(
    session: Session, market_ids: list[int], today: date, recent_days: int
) -> dict[int, tuple[str, date | None]]:
    """{market id: ("planned" | "running" | "recent", last end date)} for campaigned markets."""
    ends: dict[int, list[tuple[date, date]]] = defaultdict(list)
    stmt = select(col(Campaign.market_id), col(Campaign.starts_on), col(Campaign.ends_on)).where(
        col(Campaign.market_id).in_(market_ids)
    )
    for market_id, starts, ends_on in session.execute(stmt):
        ends[market_id].append((starts, ends_on))
    out: dict[int, tuple[str, date | None]] = {}
    for market_id, spans in ends.items():
        if any(s <= today <= e for s, e in spans):
            out[market_id] = ("running", None)
        elif any(s > today for s, _ in spans):
            out[market_id] = ("planned", None)
        else:
            last = max(e for _, e in spans)
            if (today - last).days <= recent_days:
                out[market_id] = ("recent", last)
    return out


def rank_markets(
    session: Session,
    actor: Actor,
    *,
    category: MarketCategory | None = None,
    branch_id: int | None = None,
    as_of: date | None = None,
    radius_km: float | None = None,
    today: date | None = None,
) -> list[RankedMarket]:
    """The actor's markets by opportunity, best first, each explained in Chinese and English."""
    settings = market_settings()
    radius = settings.stock_radius_km if radius_km is None else radius_km
    today = today or today_local()
    question = ("rank_markets", category, branch_id, as_of, radius, today)
    return memo.answer(
        session,
        actor,
        question,
        lambda: _rank(session, actor, category, branch_id, as_of, radius, today, settings),
    )


def _rank(
    session: Session,
    actor: Actor,
    category: MarketCategory | None,
    branch_id: int | None,
    as_of: date | None,
    radius: float,
    today: date,
    settings: MarketSettings,
) -> list[RankedMarket]:
    markets = cov.visible_markets(session, actor, category=category, branch_id=branch_id)
    covered = cov.coverage(session, actor, markets, as_of=as_of)
    day = covered[0].as_of if covered else None
    fleet = cov.fleet_tally(session, day)
    trades = cov.trade_tallies(session, day)
    branches = list(session.execute(select(Branch)).scalars())
    stock = free_stock_by_branch(session, actor, today)
    ids = [m.id or 0 for m in markets]
    campaigns = campaign_state(session, ids, today, settings.recent_campaign_days)
    ranked = []
    for market, c in zip(markets, covered, strict=True):
        near = stock_near(cov.centre(market), branches, stock, radius)
        ranked.append(
            _rank_one(market, c, trades.get(market.category.value), fleet, near, radius,
                      campaigns.get(market.id or 0), today)
        )  # fmt: skip
    ranked.sort(key=lambda r: (-r.score, -r.potential, r.code))
    for position, row in enumerate(ranked, start=1):
        row.rank = position
    return ranked


def trade_part(
    trade: cov.Tally | None, fleet: cov.Tally
) -> tuple[float, float | None, float | None]:
    """(part 0-1, the trade's 动户率, its volume per unit against the fleet's)."""
    source = trade if trade and trade.deployed else fleet
    if not source.deployed:
        return 0.5, None, None  # nothing scored yet: neither good nor bad
    rate = source.active / source.deployed
    ratio = (
        (source.txn_30 / source.deployed) / (fleet.txn_30 / fleet.deployed) if fleet.txn_30 else 1.0
    )
    return 0.6 * rate + 0.4 * min(1.0, ratio / 2), round(rate, 4), round(ratio, 2)


def _rank_one(
    market: Market,
    c: cov.MarketCoverage,
    trade: cov.Tally | None,
    fleet: cov.Tally,
    stock: int,
    radius_km: float,
    campaign: tuple[str, date | None] | None,
    today: date,
) -> RankedMarket:
    potential = max(0, max(c.merchants, market.stalls or 0) - c.merchants_with_terminal)
    size = potential / (potential + SIZE_HALF)
    trade_score, trade_rate, trade_ratio = trade_part(trade, fleet)
    stock_part = min(1.0, stock / STOCK_FULL)
    base = WEIGHTS["size"] * size + WEIGHTS["trade"] * trade_score + WEIGHTS["stock"] * stock_part
    penetration = c.penetration or 0.0
    saturation = SATURATION_MAX * min(1.0, max(0.0, (penetration - SATURATED_FROM) / 0.4))
    phase, ended = campaign or (None, None)
    campaign_penalty = {
        "running": PENALTY_OPEN_CAMPAIGN,
        "planned": PENALTY_OPEN_CAMPAIGN,
        "recent": PENALTY_RECENT_CAMPAIGN,
    }.get(phase or "", 0.0)
    score = 100 * base * (1 - saturation) * (1 - campaign_penalty)
    said = _explain(market, c, potential, trade, trade_rate, trade_ratio, stock, radius_km)
    if saturation > 0:
        said.append(phrase("market_saturated", share=percent(penetration)))
    if phase in ("running", "planned"):
        said.append(phrase(f"market_campaign_{phase}"))
    elif phase == "recent" and ended is not None:
        said.append(phrase("market_campaign_recent", days=(today - ended).days))
    why = parts(*said)
    return RankedMarket(
        market_id=c.market_id,
        code=c.code,
        name=c.name,
        category=c.category,
        category_zh=c.category_zh,
        branch_id=c.branch_id,
        branch_code=c.branch_code,
        score=round(score, 1),
        merchants=c.merchants,
        merchants_with_terminal=c.merchants_with_terminal,
        unserved_known=c.merchants_without_terminal,
        potential=potential,
        penetration=c.penetration,
        active_rate=c.active_rate,
        trade_active_rate=trade_rate,
        trade_volume_vs_fleet=trade_ratio,
        stock_nearby=stock,
        campaign=phase,
        last_campaign_ended=ended,
        parts={
            "size": round(size, 3),
            "trade": round(trade_score, 3),
            "stock": round(stock_part, 3),
            "saturation_penalty": round(saturation, 3),
            "campaign_penalty": campaign_penalty,
        },
        why=why,
        reason=texts_for("en").phrase(why),
    )


def _explain(
    market: Market,
    c: cov.MarketCoverage,
    potential: int,
    trade: cov.Tally | None,
    rate: float | None,
    ratio: float | None,
    stock: int,
    radius_km: float,
) -> list[Phrase]:
    """The reason's parts, as phrases (worded in the reader's language where shown)."""
    known = {"potential": potential, "known": c.merchants, "with_unit": c.merchants_with_terminal}
    found = [
        phrase("market_unserved_stalls", stalls=market.stalls, **known)
        if market.stalls
        else phrase("market_unserved", **known)
    ]
    category = word("market_category", market.category)
    if rate is None or ratio is None:
        found.append(phrase("market_not_scored"))
    elif trade and trade.deployed:
        found.append(
            phrase("market_trade", trade=category, rate=percent(rate), ratio=round(ratio, 1))
        )
    else:
        found.append(phrase("market_no_trade", trade=category, rate=percent(rate)))
    found.append(phrase("market_stock", stock=stock, km=f"{radius_km:g}"))
    return found


def explain_parts(row: RankedMarket) -> str:
    """The parts of the score as one short line (for the command line)."""
    p = row.parts
    return (
        f"size {p['size']:.2f} trade {p['trade']:.2f} stock {p['stock']:.2f}"
        + (f" -sat {p['saturation_penalty']:.2f}" if p["saturation_penalty"] else "")
        + (f" -camp {p['campaign_penalty']:.2f}" if p["campaign_penalty"] else "")
    )
