"""The demo's finished campaign: planned, run and closed in a busy market before the demo's
as-of date, so that its report can be opened. Built before the demo's feed is generated, so
the synthetic feed gives the units it placed their usage, and the market's units its staff
won back theirs from the visit on (fleet.demo.build, `_campaign_effects`)."""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.auth import service as auth
from fleet.auth.models import User
from fleet.core.access import Actor, Role, system_actor
from fleet.core.config import get_settings
from fleet.core.db import session_scope
from fleet.core.errors import Reason
from fleet.imports import files
from fleet.inventory.models import (
    Branch,
    LifecycleEvent,
    Market,
    MarketCategory,
    Merchant,
    MerchantStatus,
    Placement,
    Terminal,
    TerminalState,
)
from fleet.inventory.scope import subtree_ids
from fleet.markets import campaigns, prospects, report, run
from fleet.markets import coverage as cov
from fleet.markets.models import CampaignCreate, ProspectStatus

STARTS_BEFORE, ENDS_BEFORE = 75, 45  # days before the demo's as-of date
IN_STOCK_SINCE = 150  # days before as-of: the demo's stock has been in the store for months
TARGET, UNITS, PLACED = 12, 12, 10
ENOUGH_PROSPECTS = 2 * TARGET  # unserved merchants a market needs to be worth a campaign
BUSY_TRADES = (MarketCategory.hardware, MarketCategory.building_materials,
               MarketCategory.appliances, MarketCategory.auto_parts)  # fmt: skip


def _actor(session: Session) -> Actor:
    stmt = select(User).where(col(User.username) == "marketing_1")
    user = session.execute(stmt).scalar_one_or_none()
    return auth.actor_for(session, user) if user else system_actor("demo")


def _unused_by_market(session: Session, unused: set[str]) -> Counter[int]:
    """Units of each market that lie unused (their serial numbers in `unused`)."""
    rows = session.execute(
        select(col(Merchant.market_id), col(Terminal.sn))
        .join(Placement, col(Placement.merchant_id) == col(Merchant.id))
        .join(Terminal, col(Terminal.id) == col(Placement.terminal_id))
        .where(col(Placement.ended_at).is_(None), col(Merchant.market_id).is_not(None))
    )
    return Counter(market_id for market_id, sn in rows if sn in unused)


def _busiest_market(session: Session, unused: set[str]) -> Market | None:
    """The market of a busy trade with merchants enough to aim at and units of the bank lying
    unused (`unused`: serial numbers) that has the fewest units: the least served, where a
    campaign lifts usage the most."""
    markets = [
        m
        for m in session.execute(select(Market).order_by(col(Market.code))).scalars()
        if m.branch_id is not None
    ]
    counts = cov.merchant_counts(session, [m.id or 0 for m in markets])
    lying = _unused_by_market(session, unused)

    def unserved(m: Market) -> tuple[bool, bool, bool, bool, int, int]:
        # Where a bank would campaign: a busy trade, merchants enough to aim at, units of its
        # own lying unused there to wake (so that the market has a 动户率 to lift), and the
        # fewest units there already (the least served), then the most merchants to win.
        merchants, served, _ = counts.get(m.id or 0, (0, 0, 0))
        free = merchants - served
        busy = m.category in BUSY_TRADES
        return busy, free >= ENOUGH_PROSPECTS, free > 0, lying[m.id or 0] > 0, -served, free

    best = max(markets, key=unserved, default=None)
    return best if best is not None and unserved(best)[5] > 0 else None


def _units(session: Session, market: Market, since: datetime) -> list[Terminal]:
    """In-stock units nearest the market, given an in-stock date months back."""
    point = cov.centre(market) or (0.0, 0.0)
    branches = {b.id: b for b in session.execute(select(Branch)).scalars()}
    stock = list(
        session.execute(select(Terminal).where(col(Terminal.state) == TerminalState.in_stock))
        .scalars()
        .all()
    )

    def distance(t: Terminal) -> tuple[float, str]:
        b = branches[t.branch_id]
        return cov.flat_km(point, (b.lat or 0.0, b.lng or 0.0)), t.sn

    chosen = sorted(stock, key=distance)[:UNITS]
    ids = [t.id for t in chosen]
    # The demo imports its stock today; this stock has been in the store since `since`, so
    # that it can be placed on the campaign's (past) days.
    session.execute(
        update(Terminal)
        .where(col(Terminal.id).in_(ids))
        .values(state_since=since, created_at=since)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(LifecycleEvent)
        .where(col(LifecycleEvent.terminal_id).in_(ids), col(LifecycleEvent.from_state).is_(None))
        .values(at=since)
        .execution_options(synchronize_session=False)
    )
    for terminal in chosen:
        session.refresh(terminal)
    return chosen


def _branch_records(
    session: Session, actor: Actor, market: Market, rng: random.Random, folder: Path
) -> int:
    """Counter-cash records of some of the market's unserved merchants, as a branch sends
    them; returns how many unserved merchants the market has."""
    stmt = select(col(Merchant.id), col(Merchant.code)).where(
        col(Merchant.market_id) == market.id, col(Merchant.status) == MerchantStatus.open
    )
    here = {merchant_id: code for merchant_id, code in session.execute(stmt)}
    free = sorted(here[i] for i in campaigns.without_unit(session, list(here)))
    picked = sorted(rng.sample(free, min(15, len(free))))
    amounts = (3000, 8000, 15000, 30000, 60000)
    rows = [(code, rng.randint(2, 26), rng.choice(amounts)) for code in picked]
    path = folder / "branch-records.csv"
    files.write_csv(path, ("商户编号", "月均柜面现金次数", "平均现金金额"), rows)
    prospects.import_prospects(session, actor, path)
    return len(free)


def plan_demo_campaign(
    engine: Engine, as_of: date, seed: int, unused: set[str] | None = None
) -> Reason:
    """Plans, runs and closes one campaign before `as_of`; returns a line saying what it did
    (a msgid and values: said in the reader's language where it is shown).
    `unused`: the serial numbers of the units lying unused when it starts (the feed's plan)."""
    rng = random.Random(seed * 31 + 6)
    zone = ZoneInfo(get_settings().feed_timezone)
    starts, ends = as_of - timedelta(days=STARTS_BEFORE), as_of - timedelta(days=ENDS_BEFORE)
    since = datetime.combine(as_of - timedelta(days=IN_STOCK_SINCE), time(9), tzinfo=zone)
    with session_scope(engine) as session, tempfile.TemporaryDirectory() as folder:
        actor = _actor(session)
        market = _busiest_market(session, unused or set())
        if market is None:
            return Reason("no market with unserved merchants: no demo campaign")
        units = _units(session, market, since)
        below = subtree_ids(session, market.branch_id or 0)
        staff = sorted(
            session.execute(
                select(col(User.username)).where(
                    col(User.role) == Role.field, col(User.branch_id).in_(below)
                )
            ).scalars()
        )[:3]
        unserved = _branch_records(session, actor, market, rng, Path(folder))
        campaign = campaigns.create_campaign(
            session,
            actor,
            CampaignCreate(
                name=f"{market.name}专项营销",
                market_code=market.code,
                starts_on=starts,
                ends_on=ends,
                # A small demo (--scale) has few merchants to aim at.
                target_placements=min(TARGET, unserved + 2),
                notes="演示活动",
                staff_usernames=staff,
                unit_sns=[t.sn for t in units],
            ),
        )
        listed = report.prospect_list(session, campaign)
        placing = min(PLACED, len(units), len(listed))
        span = (ends - starts).days
        for k, (unit, prospect) in enumerate(zip(units[:placing], listed[:placing], strict=True)):
            day = starts + timedelta(days=round(k * span / max(1, placing)))
            at = datetime.combine(day, time(10 + k % 6, 30), tzinfo=zone)
            run.place_unit(
                session,
                actor,
                campaign,
                sn=unit.sn,
                merchant_code=prospect.merchant_code,
                at=at,
                staff_username=prospect.staff_username,
            )
        for k, prospect in enumerate(listed[placing : placing + 6]):
            outcome = ProspectStatus.visited if k % 2 == 0 else ProspectStatus.declined
            run.record_outcome(session, actor, campaign, prospect.merchant_id, outcome)
        return Reason(
            "campaign {id} in {market} ({code}), {starts} to {ends}: {placed} of {target} units "
            "placed, {prospects} prospects",
            id=campaign.id,
            market=market.name,
            code=market.code,
            starts=starts,
            ends=ends,
            placed=placing,
            target=campaign.target_placements,
            prospects=len(listed),
        )
