"""What a planner chooses from: a market's merchants without a unit (its prospects, scored),
the staff who can work it, and the free in-stock units nearest to it.

The campaign itself is created by `campaigns.create_campaign`; these only offer the choices
the planner's page shows, within the actor's branch scope.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session, SQLModel, col

from fleet.auth.models import User
from fleet.core.access import Actor, Permission, Role
from fleet.core.phrases import Phrase
from fleet.inventory.models import Branch, Market, Merchant, MerchantStatus, Terminal
from fleet.inventory.models import TerminalState as S
from fleet.inventory.scope import subtree_ids
from fleet.markets import campaigns
from fleet.markets import coverage as cov
from fleet.markets import prospects as prospect_scores
from fleet.markets.models import Campaign, CampaignUnit
from fleet.scoring.service import today_local

CAMPAIGN_ROLES = (Role.field, Role.marketing)


class MarketProspect(SQLModel):
    merchant_id: int
    code: str
    name: str
    category: str
    address: str | None
    priority: int
    why: Phrase  # the reason: a phrase, worded where it is shown


class FreeUnit(SQLModel):
    sn: str
    model: str
    branch_code: str
    branch_name: str
    km: float | None  # from the market's centre to the unit's branch


def market_prospects(session: Session, actor: Actor, market: Market) -> list[MarketProspect]:
    """The market's open merchants that hold no unit, scored, best first (what a campaign
    there would draw as prospects)."""
    actor.require(Permission.read_inventory)
    merchants = {
        m.id or 0: m
        for m in session.execute(
            select(Merchant).where(
                col(Merchant.market_id) == market.id, col(Merchant.status) == MerchantStatus.open
            )
        ).scalars()
    }
    free = campaigns.without_unit(session, sorted(merchants))
    scores = prospect_scores.score_prospects(session, free)
    rows = [
        MarketProspect(
            merchant_id=merchant_id,
            code=merchants[merchant_id].code,
            name=merchants[merchant_id].name,
            category=merchants[merchant_id].category,
            address=merchants[merchant_id].address,
            priority=scores[merchant_id].priority,
            why=scores[merchant_id].why,
        )
        for merchant_id in free
        if merchant_id in scores
    ]
    rows.sort(key=lambda r: (-r.priority, r.code))
    return rows


def _market_scope(session: Session, actor: Actor, market: Market) -> frozenset[int] | None:
    """Branches whose staff and stock serve the market: its branch's subtree, within scope."""
    if market.branch_id is None:
        return actor.branch_ids
    below = subtree_ids(session, market.branch_id)
    return below if actor.branch_ids is None else below & actor.branch_ids


def staff_choices(session: Session, actor: Actor, market: Market) -> list[User]:
    """Active field and marketing staff of the market's branch subtree, by username."""
    actor.require(Permission.plan_campaigns)
    stmt = (
        select(User)
        .where(col(User.is_active), col(User.role).in_([r.value for r in CAMPAIGN_ROLES]))
        .order_by(col(User.role), col(User.username))
    )
    scope = _market_scope(session, actor, market)
    if scope is not None:
        stmt = stmt.where(col(User.branch_id).in_(scope))
    return list(session.execute(stmt).scalars())


def free_units_near(
    session: Session,
    actor: Actor,
    market: Market,
    *,
    limit: int | None = 30,
    today: date | None = None,
) -> list[FreeUnit]:
    """In-stock units of the actor's scope that no open campaign has set aside, nearest to
    the market first (by their branch's place), at most `limit` (every one when None)."""
    actor.require(Permission.plan_campaigns)
    reserved = (
        select(col(CampaignUnit.terminal_id))
        .join(Campaign, col(Campaign.id) == col(CampaignUnit.campaign_id))
        .where(col(Campaign.ends_on) >= (today or today_local()))
    )
    stmt = (
        select(Terminal, Branch)
        .join(Branch, col(Branch.id) == col(Terminal.branch_id))
        .where(col(Terminal.state) == S.in_stock, col(Terminal.id).not_in(reserved))
    )
    if actor.branch_ids is not None:
        stmt = stmt.where(col(Terminal.branch_id).in_(actor.branch_ids))
    point = cov.centre(market)
    units = []
    for terminal, branch in session.execute(stmt):
        km = (
            round(cov.flat_km(point, (branch.lat, branch.lng)), 1)
            if point is not None and branch.lat is not None and branch.lng is not None
            else None
        )
        units.append(
            FreeUnit(
                sn=terminal.sn,
                model=terminal.model,
                branch_code=branch.code,
                branch_name=branch.name,
                km=km,
            )
        )
    units.sort(key=lambda u: (u.km is None, u.km or 0.0, u.sn))
    return units if limit is None else units[:limit]
