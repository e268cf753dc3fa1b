"""Running a campaign: what the staff should visit (`campaign_candidates`, for the visit lists),
placing units for it, and recording what each visit came to."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Field, Session, SQLModel, col, select

from fleet.auth.models import User
from fleet.core.access import Actor, Role
from fleet.core.config import get_settings
from fleet.core.db import utcnow
from fleet.core.errors import Invalid, NotFound
from fleet.core.i18n import texts_for
from fleet.core.phrases import phrase, say
from fleet.inventory import lifecycle
from fleet.inventory import service as inventory
from fleet.inventory.models import (
    AT_MERCHANT,
    Branch,
    Market,
    Merchant,
    MerchantStatus,
    Placement,
    Terminal,
    TerminalState,
)
from fleet.inventory.scope import visible
from fleet.markets.campaigns import audit_campaign, require_runner, set_aside_one, staff_ids
from fleet.markets.models import (
    Campaign,
    CampaignPlacement,
    CampaignProspect,
    CampaignUnit,
    ProspectStatus,
)


class CampaignCandidate(SQLModel):
    """A prospect to visit for a running campaign, with the set-aside unit to bring (if any)."""

    campaign_id: int
    campaign_name: str
    market_id: int
    market_code: str
    market_name: str
    merchant_id: int
    merchant_code: str
    merchant_name: str
    address: str | None
    lat: float | None
    lng: float | None
    opening_hours: str
    priority: int  # 0-100
    why: dict[str, Any] = Field(description="Why visit: a phrase, a code and its values.")
    reason: str = Field(default="", description="Why visit, in words (English).")
    staff_id: int | None
    staff_username: str | None
    # The set-aside unit reserved for this visit, and the branch it is kept at.
    terminal_id: int | None = None
    terminal_sn: str | None = None
    unit_branch_code: str | None = None


def campaign_candidates(
    session: Session, *, branch_ids: frozenset[int] | None, day: date
) -> list[CampaignCandidate]:
    """Prospects to visit on `day` for the campaigns running then, best first.

    For the visit lists: each open prospect (pending, open, holding no unit) of a campaign
    whose dates include `day`, with its assigned staff member and, in priority order, one of
    the campaign's set-aside units still in stock. `branch_ids` (None: all) keeps those whose
    campaign, merchant or assigned staff member belongs to one of those branches.
    """
    running = list(
        session.execute(
            select(Campaign)
            .where(col(Campaign.starts_on) <= day, col(Campaign.ends_on) >= day)
            .order_by(col(Campaign.id))
        ).scalars()
    )
    out: list[CampaignCandidate] = []
    for campaign in running:
        out += _candidates_of(session, campaign, branch_ids)
    out.sort(key=lambda c: (-c.priority, c.campaign_id, c.merchant_code))
    return out


def _candidates_of(
    session: Session, campaign: Campaign, branch_ids: frozenset[int] | None
) -> list[CampaignCandidate]:
    market = session.get(Market, campaign.market_id)
    holding = select(col(Terminal.merchant_id)).where(
        col(Terminal.state).in_(sorted(s.value for s in AT_MERCHANT)),
        col(Terminal.merchant_id).is_not(None),
    )
    rows = list(
        session.execute(
            select(CampaignProspect, Merchant)
            .join(Merchant, col(Merchant.id) == col(CampaignProspect.merchant_id))
            .where(
                col(CampaignProspect.campaign_id) == campaign.id,
                col(CampaignProspect.status) == ProspectStatus.pending,
                col(Merchant.status) == MerchantStatus.open,
                col(Merchant.id).not_in(holding),
            )
            .order_by(col(CampaignProspect.priority).desc(), col(Merchant.code))
        )
    )
    users = {
        u.id: u
        for u in session.execute(
            select(User).where(col(User.id).in_({p.staff_id for p, _ in rows}))
        ).scalars()
    }
    units = list(
        session.execute(
            select(col(Terminal.id), col(Terminal.sn), col(Branch.code))
            .join(CampaignUnit, col(CampaignUnit.terminal_id) == col(Terminal.id))
            .join(Branch, col(Branch.id) == col(Terminal.branch_id))
            .where(
                col(CampaignUnit.campaign_id) == campaign.id,
                col(Terminal.state) == TerminalState.in_stock,
            )
            .order_by(col(Terminal.sn))
        )
    )
    english = texts_for("en")
    out = []
    for prospect, merchant in rows:
        user = users.get(prospect.staff_id)
        if branch_ids is not None and not (
            campaign.branch_id in branch_ids
            or merchant.branch_id in branch_ids
            or (user is not None and user.branch_id in branch_ids)
        ):
            continue
        # Units go to the best prospects first; the rest are visited to qualify them.
        unit = units.pop(0) if units else (None, None, None)
        why = prospect.why or phrase("prospect_campaign", campaign=campaign.name)
        out.append(
            CampaignCandidate(
                campaign_id=campaign.id or 0,
                campaign_name=campaign.name,
                market_id=campaign.market_id,
                market_code=market.code if market else "",
                market_name=market.name if market else "",
                merchant_id=merchant.id or 0,
                merchant_code=merchant.code,
                merchant_name=merchant.name,
                address=merchant.address,
                lat=merchant.lat,
                lng=merchant.lng,
                opening_hours=merchant.opening_hours,
                priority=prospect.priority,
                why=why,
                reason=say(why, english),
                staff_id=prospect.staff_id,
                staff_username=user.username if user else None,
                terminal_id=unit[0],
                terminal_sn=unit[1],
                unit_branch_code=unit[2],
            )
        )
    return out


def record_outcome(
    session: Session, actor: Actor, campaign: Campaign, merchant_id: int, status: ProspectStatus
) -> CampaignProspect:
    """Records what a visit to a prospect came to (placing a unit records `placed` itself)."""
    require_runner(session, actor, campaign)
    prospect = session.get(CampaignProspect, (campaign.id, merchant_id))
    if prospect is None:
        raise NotFound(
            "merchant {merchant} is not on campaign {campaign}'s list",
            merchant=merchant_id,
            campaign=campaign.id,
        )
    if status is ProspectStatus.placed:
        raise Invalid("record a placement by placing the unit: POST /campaigns/{id}/placements")
    prospect.status, prospect.updated_at = status, utcnow()
    session.add(prospect)
    session.flush()
    audit_campaign(
        session, actor, campaign, "outcome", merchant_id=merchant_id, status=status.value
    )
    return prospect


def _local_day(at: datetime) -> date:
    return at.astimezone(ZoneInfo(get_settings().feed_timezone)).date()


def place_unit(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    *,
    sn: str,
    merchant_code: str,
    at: datetime | None = None,
    staff_username: str | None = None,
) -> CampaignPlacement:
    """Places a unit with a merchant for the campaign: in_stock -> deployed, linked to it.

    The unit is one set aside for the campaign, or an in-stock unit the actor sees (then set
    aside now). The merchant is on the campaign's list or in its market.
    """
    require_runner(session, actor, campaign)
    at = at or utcnow()
    if not campaign.starts_on <= _local_day(at) <= campaign.ends_on:
        raise Invalid(
            "campaign {campaign} runs {starts} to {ends}; a placement on {day} is outside it",
            campaign=campaign.id,
            starts=campaign.starts_on,
            ends=campaign.ends_on,
            day=_local_day(at),
        )
    terminal = session.execute(select(Terminal).where(col(Terminal.sn) == sn)).scalar_one_or_none()
    if terminal is None:
        raise NotFound("terminal {key} not found", key=sn)
    if session.get(CampaignUnit, (campaign.id, terminal.id)) is None:
        visible(actor, terminal, what="terminal", key=sn)
        set_aside_one(session, actor, campaign, terminal)
    merchant = inventory.get_or_none(session, Merchant, code=merchant_code)
    if merchant is None:
        raise NotFound("merchant {key} not found", key=merchant_code)
    prospect = session.get(CampaignProspect, (campaign.id, merchant.id))
    if prospect is None and merchant.market_id != campaign.market_id:
        raise Invalid(
            "merchant {code} is neither on campaign {campaign}'s list nor in its market",
            code=merchant_code,
            campaign=campaign.id,
        )
    staff = staff_ids(session, campaign.id)
    staff_id = _placing_staff(session, actor, staff, staff_username, prospect)
    # The campaign authorises this one move of this unit to this merchant, whoever runs it.
    mover = Actor(actor.username, Role.admin if actor.role is Role.admin else Role.branch_ops,
                  actor.user_id, None)  # fmt: skip
    lifecycle.transition(
        session,
        mover,
        terminal,
        TerminalState.deployed,
        merchant_code=merchant.code,
        at=at,
        reason=phrase("campaign_placed", campaign=campaign.name),
    )
    placement = session.execute(
        select(Placement).where(
            col(Placement.terminal_id) == terminal.id, col(Placement.ended_at).is_(None)
        )
    ).scalar_one()
    link = CampaignPlacement(
        placement_id=placement.id or 0,
        campaign_id=campaign.id or 0,
        terminal_id=terminal.id or 0,
        merchant_id=merchant.id or 0,
        staff_id=staff_id,
        placed_at=at,
    )
    session.add(link)
    if prospect is None:
        prospect = CampaignProspect(
            campaign_id=campaign.id or 0, merchant_id=merchant.id or 0, source="placement"
        )
    prospect.status, prospect.updated_at = ProspectStatus.placed, utcnow()
    prospect.staff_id = prospect.staff_id or staff_id
    session.add(prospect)
    session.flush()
    audit_campaign(
        session, actor, campaign, "place", unit=sn, merchant=merchant.code, at=at.isoformat()
    )
    return link


def _placing_staff(
    session: Session,
    actor: Actor,
    staff: list[int],
    username: str | None,
    prospect: CampaignProspect | None,
) -> int | None:
    """Who placed it: the staff member named, else the actor if on the campaign, else the
    prospect's assigned staff member."""
    if username:
        user = session.execute(
            select(User).where(col(User.username) == username)
        ).scalar_one_or_none()
        if user is None or user.id not in staff:
            raise Invalid("{username} is not on this campaign's staff", username=username)
        return user.id
    if actor.user_id in staff:
        return actor.user_id
    return prospect.staff_id if prospect else None
