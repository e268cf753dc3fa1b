"""Campaigns: plan one in a market (dates, target, staff, units set aside, prospects), and run
it (prospects assigned to staff, units placed and linked to the campaign).

Marketing and admins plan and run campaigns; branch operations read them; the staff on a
campaign may also place its units and record outcomes. A campaign belongs to its market's
responsible branch, and is seen by that branch's subtree, as the market is.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from fleet.core import audit
from fleet.core.access import Actor, Permission
from fleet.core.db import utcnow
from fleet.core.errors import Conflict, Forbidden, Invalid, NotFound
from fleet.inventory import service as inventory
from fleet.inventory.models import (
    AT_MERCHANT,
    Market,
    Merchant,
    MerchantStatus,
    Terminal,
    TerminalState,
)
from fleet.inventory.scope import visible
from fleet.markets import prospects as prospect_scores
from fleet.markets.models import (
    Campaign,
    CampaignCreate,
    CampaignPhase,
    CampaignPlacement,
    CampaignProspect,
    CampaignStaff,
    CampaignUnit,
    CampaignUpdate,
    ProspectStatus,
)
from fleet.scoring.service import today_local

_AT_MERCHANT = sorted(s.value for s in AT_MERCHANT)


def require_reader(actor: Actor) -> None:
    actor.require(Permission.read_campaigns)


def require_planner(actor: Actor) -> None:
    actor.require(Permission.plan_campaigns)


def staff_ids(session: Session, campaign_id: int | None) -> list[int]:
    stmt = select(col(CampaignStaff.user_id)).where(col(CampaignStaff.campaign_id) == campaign_id)
    return sorted(session.execute(stmt).scalars())


def require_runner(session: Session, actor: Actor, campaign: Campaign) -> None:
    """Planners, and the staff on this campaign, may place its units and record outcomes."""
    if actor.can(Permission.plan_campaigns) or actor.user_id in staff_ids(session, campaign.id):
        return
    raise Forbidden(
        "only marketing, admins and its staff may run campaign {campaign}", campaign=campaign.id
    )


def phase(campaign: Campaign, today: date | None = None) -> CampaignPhase:
    today = today or today_local()
    if today < campaign.starts_on:
        return CampaignPhase.planned
    return CampaignPhase.running if today <= campaign.ends_on else CampaignPhase.finished


def get_campaign(session: Session, actor: Actor, campaign_id: int) -> Campaign:
    """One campaign; 404 when it is outside the actor's subtree, or when the actor may not
    read campaigns and is not on this one's staff: the same answer as for a campaign that does
    not exist, so that no one learns which ids do."""
    found = session.get(Campaign, campaign_id)
    if (
        found is not None
        and not actor.can(Permission.read_campaigns)
        and actor.user_id not in staff_ids(session, found.id)
    ):
        found = None
    return visible(actor, found, what="campaign", key=campaign_id)


def list_campaigns(
    session: Session,
    actor: Actor,
    *,
    market_id: int | None = None,
    phase_: CampaignPhase | None = None,
    today: date | None = None,
) -> list[Campaign]:
    """Campaigns of the actor's subtree, newest first."""
    require_reader(actor)
    stmt = select(Campaign).order_by(col(Campaign.starts_on).desc(), col(Campaign.id).desc())
    if actor.branch_ids is not None:
        stmt = stmt.where(
            col(Campaign.branch_id).in_(actor.branch_ids) | col(Campaign.branch_id).is_(None)
        )
    if market_id is not None:
        stmt = stmt.where(col(Campaign.market_id) == market_id)
    found = list(session.execute(stmt).scalars())
    return [c for c in found if phase_ is None or phase(c, today) is phase_]


def audit_campaign(
    session: Session, actor: Actor, campaign: Campaign, action: str, **changes: Any
) -> None:
    """An audit entry for a change to the campaign or its lists."""
    audit.record(
        session,
        actor=actor,
        action=action,
        entity="campaign",
        entity_id=campaign.id,
        branch_id=campaign.branch_id,
        changes=changes,
    )


# --- plan ---------------------------------------------------------------------------------------


def create_campaign(session: Session, actor: Actor, data: CampaignCreate) -> Campaign:
    """Plans a campaign in a market, with its staff, set-aside units and prospects."""
    require_planner(actor)
    market = inventory.market_by_code(session, actor, data.market_code)
    campaign = Campaign(
        name=data.name,
        market_id=market.id or 0,
        branch_id=market.branch_id,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        target_placements=data.target_placements,
        notes=data.notes,
        created_by_id=actor.user_id,
    )
    session.add(campaign)
    session.flush()
    audit_campaign(session, actor, campaign, "create", **data.model_dump(mode="json"))
    if data.staff_usernames:
        set_staff(session, actor, campaign, data.staff_usernames)
    if data.unit_sns:
        set_aside(session, actor, campaign, data.unit_sns)
    if data.draw_prospects:
        draw_prospects(session, actor, campaign)
    return campaign


def update_campaign(
    session: Session, actor: Actor, campaign: Campaign, data: CampaignUpdate
) -> Campaign:
    """Changes a campaign's name, dates, target or notes."""
    require_planner(actor)
    updates = data.model_dump(exclude_unset=True)
    starts = updates.get("starts_on") or campaign.starts_on
    ends = updates.get("ends_on") or campaign.ends_on
    if ends < starts:
        raise Invalid("ends_on is before starts_on")
    changed = audit.diff(campaign, {k: v for k, v in updates.items() if v is not None})
    if changed:
        campaign.updated_at = utcnow()
        session.add(campaign)
        session.flush()
        audit_campaign(session, actor, campaign, "update", **changed)
    return campaign


def delete_campaign(session: Session, actor: Actor, campaign: Campaign) -> None:
    """Removes a campaign that has placed nothing; its set-aside units go back to the pool."""
    require_planner(actor)
    placed = session.execute(
        select(func.count()).where(col(CampaignPlacement.campaign_id) == campaign.id)
    ).scalar_one()
    if placed:
        raise Conflict(
            "campaign {campaign} has placed {placed} units; it cannot be deleted",
            campaign=campaign.id,
            placed=placed,
        )
    for table in (CampaignStaff, CampaignUnit, CampaignProspect):
        session.execute(delete(table).where(col(table.campaign_id) == campaign.id))
    audit_campaign(session, actor, campaign, "delete", name=campaign.name)
    session.delete(campaign)
    session.flush()


def set_staff(session: Session, actor: Actor, campaign: Campaign, usernames: list[str]) -> None:
    """Makes `usernames` the campaign's staff, and shares its prospects out among them."""
    require_planner(actor)
    users = [inventory.staff_by_username(session, actor, name) for name in dict.fromkeys(usernames)]
    session.execute(delete(CampaignStaff).where(col(CampaignStaff.campaign_id) == campaign.id))
    for user in users:
        session.add(CampaignStaff(campaign_id=campaign.id or 0, user_id=user.id or 0))
    session.flush()
    audit_campaign(session, actor, campaign, "set_staff", staff=[u.username for u in users])
    assign_staff(session, campaign)


def reserved_elsewhere(session: Session, terminal_id: int, campaign: Campaign) -> Campaign | None:
    """Another campaign, not yet ended, that has set this unit aside."""
    stmt = (
        select(Campaign)
        .join(CampaignUnit, col(CampaignUnit.campaign_id) == col(Campaign.id))
        .where(
            col(CampaignUnit.terminal_id) == terminal_id,
            col(Campaign.id) != campaign.id,
            col(Campaign.ends_on) >= today_local(),
        )
    )
    return session.execute(stmt).scalars().first()


def set_aside_one(session: Session, actor: Actor, campaign: Campaign, terminal: Terminal) -> None:
    if terminal.state is not TerminalState.in_stock:
        raise Conflict(
            "terminal {sn} is {state}, not in stock", sn=terminal.sn, state=terminal.state
        )
    other = reserved_elsewhere(session, terminal.id or 0, campaign)
    if other is not None:
        raise Conflict(
            "terminal {sn} is set aside for campaign {campaign} ({name})",
            sn=terminal.sn,
            campaign=other.id,
            name=other.name,
        )
    if session.get(CampaignUnit, (campaign.id, terminal.id)) is None:
        session.add(CampaignUnit(campaign_id=campaign.id or 0, terminal_id=terminal.id or 0))


def set_aside(session: Session, actor: Actor, campaign: Campaign, sns: list[str]) -> int:
    """Sets in-stock units aside for the campaign; returns how many it now has."""
    require_planner(actor)
    for sn in dict.fromkeys(sns):
        set_aside_one(session, actor, campaign, inventory.terminal_by_sn(session, actor, sn))
    session.flush()
    audit_campaign(session, actor, campaign, "set_aside", units=list(dict.fromkeys(sns)))
    return session.execute(
        select(func.count()).where(col(CampaignUnit.campaign_id) == campaign.id)
    ).scalar_one()


def release_unit(session: Session, actor: Actor, campaign: Campaign, sn: str) -> None:
    """Gives a set-aside unit back to the stock pool."""
    require_planner(actor)
    terminal = inventory.terminal_by_sn(session, actor, sn)
    unit = session.get(CampaignUnit, (campaign.id, terminal.id))
    if unit is None:
        raise NotFound(
            "terminal {sn} is not set aside for campaign {campaign}", sn=sn, campaign=campaign.id
        )
    session.delete(unit)
    session.flush()
    audit_campaign(session, actor, campaign, "release", unit=sn)


def without_unit(session: Session, merchant_ids: list[int]) -> list[int]:
    holding = set(
        session.execute(
            select(col(Terminal.merchant_id)).where(
                col(Terminal.merchant_id).in_(merchant_ids), col(Terminal.state).in_(_AT_MERCHANT)
            )
        ).scalars()
    )
    return [m for m in merchant_ids if m not in holding]


def add_prospects(
    session: Session, actor: Actor, campaign: Campaign, merchant_ids: list[int], *, source: str
) -> int:
    """Puts merchants on the campaign's list (scored now); returns how many were new to it."""
    require_planner(actor)
    listed = set(
        session.execute(
            select(col(CampaignProspect.merchant_id)).where(
                col(CampaignProspect.campaign_id) == campaign.id
            )
        ).scalars()
    )
    new = [m for m in dict.fromkeys(merchant_ids) if m not in listed]
    scores = prospect_scores.score_prospects(session, new)
    for merchant_id in new:
        score = scores.get(merchant_id)
        session.add(
            CampaignProspect(
                campaign_id=campaign.id or 0,
                merchant_id=merchant_id,
                priority=score.priority if score else 0,
                why=score.why if score else {},
                source=source,
            )
        )
    session.flush()
    if new:
        audit_campaign(session, actor, campaign, "add_prospects", source=source, merchants=len(new))
        assign_staff(session, campaign)
    return len(new)


def add_prospects_by_code(
    session: Session, actor: Actor, campaign: Campaign, codes: list[str]
) -> int:
    """Puts merchants (by code, in the actor's subtree) on the list."""
    ids = [inventory.merchant_by_code(session, actor, code).id or 0 for code in codes]
    return add_prospects(session, actor, campaign, ids, source="manual")


def draw_prospects(session: Session, actor: Actor, campaign: Campaign) -> int:
    """Puts the market's open merchants that hold no unit on the list."""
    open_here = list(
        session.execute(
            select(col(Merchant.id))
            .where(
                col(Merchant.market_id) == campaign.market_id,
                col(Merchant.status) == MerchantStatus.open,
            )
            .order_by(col(Merchant.id))
        ).scalars()
    )
    return add_prospects(
        session, actor, campaign, without_unit(session, open_here), source="market"
    )


def assign_staff(session: Session, campaign: Campaign) -> None:
    """Shares the open prospects out among the campaign's staff, best first: each goes to the
    merchant's own officer when on the campaign, else to whoever has fewest; kept once made."""
    staff = staff_ids(session, campaign.id)
    rows = list(
        session.execute(
            select(CampaignProspect, col(Merchant.staff_id))
            .join(Merchant, col(Merchant.id) == col(CampaignProspect.merchant_id))
            .where(col(CampaignProspect.campaign_id) == campaign.id)
            .order_by(col(CampaignProspect.priority).desc(), col(Merchant.code))
        )
    )
    load: Counter[int] = Counter({s: 0 for s in staff})
    for prospect, _ in rows:
        if prospect.staff_id is not None and prospect.staff_id not in staff:
            prospect.staff_id = None  # no longer on the campaign
            session.add(prospect)
        elif prospect.staff_id is not None:
            load[prospect.staff_id] += 1
    for prospect, officer in rows:
        if prospect.staff_id is not None or not staff:
            continue
        if prospect.status in (ProspectStatus.placed, ProspectStatus.declined):
            continue
        chosen = officer if officer in load else min(staff, key=lambda s: (load[s], s))
        prospect.staff_id = chosen
        load[chosen] += 1
        session.add(prospect)
    session.flush()


def market_of(session: Session, campaign: Campaign) -> Market:
    market = session.get(Market, campaign.market_id)
    if market is None:  # pragma: no cover - a foreign key keeps it
        raise NotFound("market {key} not found", key=campaign.market_id)
    return market
