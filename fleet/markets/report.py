"""Did it work: a campaign's report (placed vs target, active 30 days later, cost per active
placement, the market's 动户率 before and after), and the public shapes of campaigns.

"Active 30 days later" follows the scoring rule: a unit placed on day P is active as of
P + 30 (`FLEET_ACTIVE_DAYS`) when it had a successful financial transaction on a day after P
and before P + 30, while still at the merchant. Placements younger than that are pending.
Usage is read from the per-day rollups up to the latest scored date.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

from fleet.auth.models import User
from fleet.core.config import get_settings
from fleet.core.i18n import texts_for
from fleet.core.phrases import say
from fleet.feeds.models import TerminalDay
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch, Market, Merchant, Placement, Terminal
from fleet.markets import coverage as cov
from fleet.markets.campaigns import phase
from fleet.markets.models import (
    Campaign,
    CampaignPlacement,
    CampaignProspect,
    CampaignPublic,
    CampaignStaff,
    CampaignUnit,
    ProspectPublic,
    ProspectStatus,
)
from fleet.markets.settings import MarketSettings, market_settings
from fleet.scoring import service as scoring
from fleet.scoring.models import TerminalScore
from fleet.scoring.rules import ACTIVE

VISITED = (ProspectStatus.visited, ProspectStatus.placed, ProspectStatus.declined)


class PlacementLine(SQLModel):
    sn: str
    merchant_code: str
    merchant_name: str
    placed_on: date
    staff_username: str | None
    state_now: str
    txn_first_30: int
    active_after_30: bool | None  # None: placed under 30 days before the data ends


class CampaignReport(SQLModel):
    campaign: CampaignPublic
    as_of: date  # usage is counted on the days before this date
    target: int
    placed: int
    placed_vs_target: float | None
    units_set_aside: int
    units_unused: int  # set aside and still in stock
    prospects: int
    prospects_by_status: dict[str, int]
    visits_made: int  # prospects visited, placed with or declined
    judged: int  # placements at least 30 days old
    active_after_30: int
    active_rate_after_30: float | None
    pending_30: int
    cost_per_unit_yuan: float
    cost_per_visit_yuan: float
    total_cost_yuan: float
    cost_per_active_yuan: float | None
    before: cov.TrendPoint | None  # the market on the last scored date up to the start
    after: cov.TrendPoint | None  # 30 days after the end (or the latest scored date since)
    active_rate_change: float | None
    placements: list[PlacementLine]
    # Why the market's rate fell, when it did (None otherwise): units new in the market since
    # `before` that are not active at `after` (they count in the rate from their first day,
    # the campaign's own among them), and units active at `before` that are not at `after`.
    fall_new_inactive: int | None = None
    fall_gone_quiet: int | None = None


def campaigns_public(
    session: Session, campaigns: list[Campaign], today: date | None = None
) -> list[CampaignPublic]:
    """The public shape of campaigns, counts and codes resolved in a few queries."""
    ids = [c.id or 0 for c in campaigns]
    markets = {
        m.id: m
        for m in session.execute(
            select(Market).where(col(Market.id).in_({c.market_id for c in campaigns}))
        ).scalars()
    }
    branches = inventory.codes(session, Branch, {c.branch_id for c in campaigns})
    staff: dict[int, list[str]] = defaultdict(list)
    for campaign_id, username in session.execute(
        select(col(CampaignStaff.campaign_id), col(User.username))
        .join(User, col(User.id) == col(CampaignStaff.user_id))
        .where(col(CampaignStaff.campaign_id).in_(ids))
        .order_by(col(User.username))
    ):
        staff[campaign_id].append(username)

    def counts(model: type[SQLModel]) -> dict[int, int]:
        key = col(model.campaign_id)  # type: ignore[attr-defined]
        stmt = select(key, func.count()).where(key.in_(ids)).group_by(key)
        return {i: int(n) for i, n in session.execute(stmt)}

    units, listed = counts(CampaignUnit), counts(CampaignProspect)
    placed = counts(CampaignPlacement)
    out = []
    for c in campaigns:
        market = markets[c.market_id]
        out.append(
            CampaignPublic(
                id=c.id or 0,
                name=c.name,
                market_id=c.market_id,
                market_code=market.code,
                market_name=market.name,
                category=market.category.value,
                branch_id=c.branch_id,
                branch_code=branches.get(c.branch_id or 0),
                starts_on=c.starts_on,
                ends_on=c.ends_on,
                phase=phase(c, today),
                target_placements=c.target_placements,
                notes=c.notes,
                staff=staff.get(c.id or 0, []),
                units_set_aside=units.get(c.id or 0, 0),
                prospects=listed.get(c.id or 0, 0),
                placed=placed.get(c.id or 0, 0),
            )
        )
    return out


def prospect_list(session: Session, campaign: Campaign) -> list[ProspectPublic]:
    """The campaign's prospects, best first (each reason also in English words, for the API)."""
    english = texts_for("en")
    rows = session.execute(
        select(CampaignProspect, Merchant, User.username)
        .join(Merchant, col(Merchant.id) == col(CampaignProspect.merchant_id))
        .outerjoin(User, col(User.id) == col(CampaignProspect.staff_id))
        .where(col(CampaignProspect.campaign_id) == campaign.id)
        .order_by(col(CampaignProspect.priority).desc(), col(Merchant.code))
    )
    return [
        ProspectPublic(
            merchant_id=m.id or 0,
            merchant_code=m.code,
            merchant_name=m.name,
            category=m.category,
            address=m.address,
            lat=m.lat,
            lng=m.lng,
            opening_hours=m.opening_hours,
            priority=p.priority,
            why=p.why,
            reason=say(p.why, english),
            source=p.source,
            status=p.status,
            staff_username=username,
        )
        for p, m, username in rows
    ]


def _before_after(
    stored: list[date], campaign: Campaign, window: int
) -> tuple[date | None, date | None]:
    before = max((d for d in stored if d <= campaign.starts_on), default=None)
    settled = [d for d in stored if d >= campaign.ends_on + timedelta(days=window)]
    later = [d for d in stored if d > campaign.ends_on]
    after = settled[0] if settled else (later[-1] if later else None)
    return before, after


def _why_fell(session: Session, market_id: int, before: date, after: date) -> tuple[int, int]:
    """Behind a fall of the market's rate from `before` to `after`: units new in the market
    since `before` and not active at `after`, and units active at `before` but not at
    `after` (fallen idle or dormant)."""

    def statuses(day: date) -> dict[int, bool]:
        rows = session.execute(
            select(col(TerminalScore.terminal_id), col(TerminalScore.status)).where(
                col(TerminalScore.market_id) == market_id, col(TerminalScore.as_of) == day
            )
        )
        return {terminal: status in ACTIVE for terminal, status in rows}

    then, now = statuses(before), statuses(after)
    new_inactive = sum(1 for t, active in now.items() if t not in then and not active)
    gone_quiet = sum(1 for t, active in now.items() if then.get(t) and not active)
    return new_inactive, gone_quiet


def campaign_report(
    session: Session,
    campaign: Campaign,
    *,
    settings: MarketSettings | None = None,
    today: date | None = None,
) -> CampaignReport:
    """The campaign's outcome, as of the latest scored date."""
    settings = settings or market_settings()
    window = get_settings().active_days
    zone = ZoneInfo(get_settings().feed_timezone)
    stored = scoring.stored_as_ofs(session)
    as_of = stored[-1] if stored else scoring.today_local()
    lines = _placement_lines(session, campaign, as_of, window, zone)
    statuses = Counter(
        session.execute(
            select(col(CampaignProspect.status)).where(
                col(CampaignProspect.campaign_id) == campaign.id
            )
        ).scalars()
    )
    unused = session.execute(
        select(func.count())
        .select_from(CampaignUnit)
        .join(Terminal, col(Terminal.id) == col(CampaignUnit.terminal_id))
        .where(col(CampaignUnit.campaign_id) == campaign.id, col(Terminal.state) == "in_stock")
    ).scalar_one()
    public = campaigns_public(session, [campaign], today)[0]
    placed = len(lines)
    judged = [line for line in lines if line.active_after_30 is not None]
    active = sum(1 for line in judged if line.active_after_30)
    visits = max(placed, sum(statuses[s] for s in VISITED))
    total = placed * settings.campaign_cost_per_unit_yuan + visits * (
        settings.campaign_cost_per_visit_yuan
    )
    before_day, after_day = _before_after(stored, campaign, window)
    points = cov.points(session, campaign.market_id, [d for d in (before_day, after_day) if d])
    before = points.get(before_day) if before_day else None
    after = points.get(after_day) if after_day else None
    change = (
        round(after.active_rate - before.active_rate, 4)
        if before and after and before.active_rate is not None and after.active_rate is not None
        else None
    )
    new_inactive = gone_quiet = None
    if change is not None and change < 0 and before_day and after_day:
        new_inactive, gone_quiet = _why_fell(session, campaign.market_id, before_day, after_day)
    return CampaignReport(
        fall_new_inactive=new_inactive,
        fall_gone_quiet=gone_quiet,
        campaign=public,
        as_of=as_of,
        target=campaign.target_placements,
        placed=placed,
        placed_vs_target=(
            round(placed / campaign.target_placements, 4) if campaign.target_placements else None
        ),
        units_set_aside=public.units_set_aside,
        units_unused=int(unused),
        prospects=sum(statuses.values()),
        prospects_by_status={s.value: statuses.get(s, 0) for s in ProspectStatus},
        visits_made=visits,
        judged=len(judged),
        active_after_30=active,
        active_rate_after_30=round(active / len(judged), 4) if judged else None,
        pending_30=placed - len(judged),
        cost_per_unit_yuan=settings.campaign_cost_per_unit_yuan,
        cost_per_visit_yuan=settings.campaign_cost_per_visit_yuan,
        total_cost_yuan=round(total, 2),
        cost_per_active_yuan=round(total / active, 2) if active else None,
        before=before,
        after=after,
        active_rate_change=change,
        placements=lines,
    )


def _placement_lines(
    session: Session, campaign: Campaign, as_of: date, window: int, zone: ZoneInfo
) -> list[PlacementLine]:
    rows = list(
        session.execute(
            select(  # type: ignore[call-overload]
                CampaignPlacement,
                Placement.ended_at,
                Terminal.sn,
                Terminal.state,
                Merchant.code,
                Merchant.name,
                User.username,
            )
            .join(Placement, col(Placement.id) == col(CampaignPlacement.placement_id))
            .join(Terminal, col(Terminal.id) == col(CampaignPlacement.terminal_id))
            .join(Merchant, col(Merchant.id) == col(CampaignPlacement.merchant_id))
            .outerjoin(User, col(User.id) == col(CampaignPlacement.staff_id))
            .where(col(CampaignPlacement.campaign_id) == campaign.id)
            .order_by(col(CampaignPlacement.placed_at), col(Terminal.sn))
        )
    )
    if not rows:
        return []
    placed_days = [link.placed_at.astimezone(zone).date() for link, *_ in rows]
    usage: dict[int, dict[date, int]] = defaultdict(dict)
    for terminal_id, day, count in session.execute(
        select(
            col(TerminalDay.terminal_id), col(TerminalDay.day), col(TerminalDay.txn_count)
        ).where(
            col(TerminalDay.terminal_id).in_({link.terminal_id for link, *_ in rows}),
            col(TerminalDay.day) >= min(placed_days),
            col(TerminalDay.day) < max(placed_days) + timedelta(days=window),
            col(TerminalDay.txn_count) > 0,
        )
    ):
        usage[terminal_id][day] = int(count)
    lines = []
    for (link, ended_at, sn, state, code, name, username), placed_on in zip(
        rows, placed_days, strict=True
    ):
        judge_day = placed_on + timedelta(days=window)
        ended_on = ended_at.astimezone(zone).date() if ended_at else None
        days = {
            d: n
            for d, n in usage[link.terminal_id].items()
            if placed_on <= d < judge_day and (ended_on is None or d <= ended_on)
        }
        active: bool | None = None
        if judge_day <= as_of:
            gone = ended_on is not None and ended_on < judge_day
            active = not gone and any(d > placed_on for d in days)
        lines.append(
            PlacementLine(
                sn=sn,
                merchant_code=code,
                merchant_name=name,
                placed_on=placed_on,
                staff_username=username,
                state_now=getattr(state, "value", str(state)),
                txn_first_30=sum(days.values()),
                active_after_30=active,
            )
        )
    return lines
