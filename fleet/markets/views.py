"""Markets and campaigns API: every /markets route (the table, coverage, opportunity
ranking), campaigns, prospects."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Response, UploadFile, status
from fastapi.responses import FileResponse
from sqlmodel import Session, SQLModel

from fleet.auth.dependencies import ActorDep
from fleet.core import files
from fleet.core.access import Permission
from fleet.core.paging import COUNTED, Page, cut, told
from fleet.core.requests import SessionDep
from fleet.inventory import service as inventory
from fleet.inventory.models import (
    Branch,
    Market,
    MarketCategory,
    MarketCreate,
    MarketPublic,
    MarketUpdate,
)
from fleet.markets import campaigns, exports, prospects, ranking, report, run
from fleet.markets import coverage as cov
from fleet.markets.models import (
    CampaignCreate,
    CampaignPhase,
    CampaignPublic,
    CampaignUpdate,
    OutcomeUpdate,
    PlacementCreate,
    ProspectPublic,
)

router = APIRouter()
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size.")]
Offset = Annotated[int, Query(ge=0, description="Rows to skip.")]
Sort = Annotated[str | None, Query(description="Field to sort by; prefix '-' for descending.")]
Search = Annotated[str | None, Query(description="Text contained in the code or name.")]
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
Category = Annotated[
    str | None, Query(description="Market category: appliances … farm_supplies, or 家电 … 农资.")
]
BranchFilter = Annotated[int | None, Query(description="Markets run by this branch's subtree.")]
AsOf = Annotated[date | None, Query(description="Scored as-of date; the latest when omitted.")]


class StaffList(SQLModel):
    usernames: list[str]


class UnitList(SQLModel):
    sns: list[str]


class ProspectAdd(SQLModel):
    merchant_codes: list[str] = []
    draw_from_market: bool = False


def markets_public(session: Session, rows: list[Market]) -> list[MarketPublic]:
    branches = inventory.codes(session, Branch, {m.branch_id for m in rows})
    return [
        MarketPublic.model_validate(m, update={"branch_code": branches.get(m.branch_id or 0)})
        for m in rows
    ]


# --- markets ------------------------------------------------------------------------------------


@router.get("/markets/ranking", response_model=list[ranking.RankedMarket], tags=["markets"])
def rank_markets(
    session: SessionDep,
    actor: ActorDep,
    category: Category = None,
    branch_id: BranchFilter = None,
    as_of: AsOf = None,
    radius_km: Annotated[
        float | None, Query(gt=0, description="Stock within this distance counts as nearby.")
    ] = None,
) -> list[ranking.RankedMarket]:
    """Your markets by opportunity (0–100), best first, each with its reason as a phrase (`why`:
    a code and its values) and in English words (`reason`): unserved merchants, how units of
    the same trade do, free units in stock nearby, less for saturated markets and markets
    campaigned in recently."""
    return ranking.rank_markets(
        session,
        actor,
        category=cov.parse_category(category),
        branch_id=branch_id,
        as_of=as_of,
        radius_km=radius_km,
    )


@router.get("/markets/coverage", response_model=list[cov.MarketCoverage], tags=["markets"])
def all_coverage(
    session: SessionDep,
    actor: ActorDep,
    category: Category = None,
    branch_id: BranchFilter = None,
    as_of: AsOf = None,
) -> list[cov.MarketCoverage]:
    """Coverage of every market you see (no trend; ask one market for its trend)."""
    markets = cov.visible_markets(
        session, actor, category=cov.parse_category(category), branch_id=branch_id
    )
    return cov.coverage(session, actor, markets, as_of=as_of)


@router.get("/markets/{market_id}/coverage", response_model=cov.MarketCoverage, tags=["markets"])
def market_coverage(
    session: SessionDep,
    actor: ActorDep,
    market_id: int,
    as_of: AsOf = None,
    weeks: Annotated[int | None, Query(ge=0, le=104, description="Weekly trend points.")] = None,
) -> cov.MarketCoverage:
    """One market: merchants known and with a unit, units and active units, 动户率,
    penetration, 30-day transactions per unit against the fleet, the nearest branch, and the
    week-by-week trend from the stored scores."""
    return cov.market_coverage(session, actor, market_id, as_of=as_of, weeks=weeks)


# --- markets: the table (kept by fleet.inventory), after the fixed paths above ------------


@router.get("/markets", response_model=Page[MarketPublic], tags=["markets"])
def list_markets(
    session: SessionDep,
    actor: ActorDep,
    q: Search = None,
    category: MarketCategory | None = None,
    branch_id: int | None = None,
    sort: Sort = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[MarketPublic]:
    """Wholesale markets run by your subtree, and those not assigned to any branch."""
    actor.require(Permission.read_inventory)
    rows, total = inventory.list_markets(
        session,
        actor,
        q=q,
        category=category,
        branch_id=branch_id,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return Page(items=markets_public(session, rows), total=total, limit=limit, offset=offset)


@router.post(
    "/markets", response_model=MarketPublic, status_code=status.HTTP_201_CREATED, tags=["markets"]
)
def create_market(session: SessionDep, actor: ActorDep, data: MarketCreate) -> MarketPublic:
    """Registers a wholesale market: a centre and radius, or a polygon of [lat, lng] points."""
    return markets_public(session, [inventory.create_market(session, actor, data)])[0]


@router.get("/markets/{market_id}", response_model=MarketPublic, tags=["markets"])
def get_market(session: SessionDep, actor: ActorDep, market_id: int) -> MarketPublic:
    """One market; 404 when another subtree runs it."""
    actor.require(Permission.read_inventory)
    return markets_public(session, [inventory.get_market(session, actor, market_id)])[0]


@router.patch("/markets/{market_id}", response_model=MarketPublic, tags=["markets"])
def update_market(
    session: SessionDep, actor: ActorDep, market_id: int, data: MarketUpdate
) -> MarketPublic:
    """Changes a market's details or extent."""
    market = inventory.get_market(session, actor, market_id)
    return markets_public(session, [inventory.update_market(session, actor, market, data)])[0]


# --- campaigns ----------------------------------------------------------------------------------


def _one(session: Session, campaign: Any) -> CampaignPublic:
    return report.campaigns_public(session, [campaign])[0]


@router.get("/campaigns", response_model=list[CampaignPublic], tags=["campaigns"])
def list_campaigns(
    session: SessionDep,
    actor: ActorDep,
    market_id: int | None = None,
    phase: CampaignPhase | None = None,
) -> list[CampaignPublic]:
    """Campaigns of your subtree, newest first (marketing, admins, branch operations)."""
    found = campaigns.list_campaigns(session, actor, market_id=market_id, phase_=phase)
    return report.campaigns_public(session, found)


@router.post(
    "/campaigns",
    response_model=CampaignPublic,
    status_code=status.HTTP_201_CREATED,
    tags=["campaigns"],
)
def create_campaign(session: SessionDep, actor: ActorDep, data: CampaignCreate) -> CampaignPublic:
    """Plans a campaign in a market (marketing and admins): dates, target placements, staff,
    in-stock units set aside, and (by default) the market's merchants without a unit as
    prospects, scored and shared out among the staff."""
    return _one(session, campaigns.create_campaign(session, actor, data))


@router.get("/campaigns/candidates", response_model=list[run.CampaignCandidate], tags=["campaigns"])
def candidates(
    session: SessionDep,
    actor: ActorDep,
    day: Annotated[date, Query(description="The visit day.")],
) -> list[run.CampaignCandidate]:
    """The campaign visits due on a day in your subtree: what the visit lists take in."""
    campaigns.require_reader(actor)
    return run.campaign_candidates(session, branch_ids=actor.branch_ids, day=day)


@router.get("/campaigns/{campaign_id}", response_model=CampaignPublic, tags=["campaigns"])
def get_campaign(session: SessionDep, actor: ActorDep, campaign_id: int) -> CampaignPublic:
    """One campaign; 404 when another subtree runs it."""
    return _one(session, campaigns.get_campaign(session, actor, campaign_id))


@router.patch("/campaigns/{campaign_id}", response_model=CampaignPublic, tags=["campaigns"])
def update_campaign(
    session: SessionDep, actor: ActorDep, campaign_id: int, data: CampaignUpdate
) -> CampaignPublic:
    """Changes a campaign's name, dates, target or notes."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    return _one(session, campaigns.update_campaign(session, actor, campaign, data))


@router.delete(
    "/campaigns/{campaign_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["campaigns"]
)
def delete_campaign(session: SessionDep, actor: ActorDep, campaign_id: int) -> Response:
    """Deletes a campaign that has placed nothing (409 otherwise)."""
    campaigns.delete_campaign(session, actor, campaigns.get_campaign(session, actor, campaign_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/campaigns/{campaign_id}/staff", response_model=CampaignPublic, tags=["campaigns"])
def set_staff(
    session: SessionDep, actor: ActorDep, campaign_id: int, data: StaffList
) -> CampaignPublic:
    """Sets the campaign's staff; open prospects are shared out among them again."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    campaigns.set_staff(session, actor, campaign, data.usernames)
    return _one(session, campaign)


@router.post("/campaigns/{campaign_id}/units", response_model=CampaignPublic, tags=["campaigns"])
def set_aside(
    session: SessionDep, actor: ActorDep, campaign_id: int, data: UnitList
) -> CampaignPublic:
    """Sets in-stock units aside for the campaign (409 for a unit not in stock or set aside
    by another campaign that has not ended)."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    campaigns.set_aside(session, actor, campaign, data.sns)
    return _one(session, campaign)


@router.delete(
    "/campaigns/{campaign_id}/units/{sn}", response_model=CampaignPublic, tags=["campaigns"]
)
def release_unit(session: SessionDep, actor: ActorDep, campaign_id: int, sn: str) -> CampaignPublic:
    """Gives a set-aside unit back to the stock pool."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    campaigns.release_unit(session, actor, campaign, sn)
    return _one(session, campaign)


@router.get(
    "/campaigns/{campaign_id}/prospects", response_model=list[ProspectPublic], tags=["campaigns"]
)
def list_prospects(session: SessionDep, actor: ActorDep, campaign_id: int) -> list[ProspectPublic]:
    """The campaign's prospects, best first, with reason, status and assigned staff member."""
    return report.prospect_list(session, campaigns.get_campaign(session, actor, campaign_id))


@router.post(
    "/campaigns/{campaign_id}/prospects", response_model=list[ProspectPublic], tags=["campaigns"]
)
def add_prospects(
    session: SessionDep, actor: ActorDep, campaign_id: int, data: ProspectAdd
) -> list[ProspectPublic]:
    """Adds merchants by code, and/or the market's merchants without a unit."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    campaigns.require_planner(actor)  # also when nothing is asked for (no service checks then)
    if data.merchant_codes:
        campaigns.add_prospects_by_code(session, actor, campaign, data.merchant_codes)
    if data.draw_from_market:
        campaigns.draw_prospects(session, actor, campaign)
    return report.prospect_list(session, campaign)


@router.post("/campaigns/{campaign_id}/prospects/import", tags=["campaigns"])
def import_campaign_prospects(
    session: SessionDep,
    actor: ActorDep,
    campaign_id: int,
    file: Annotated[UploadFile, File()],
) -> dict[str, Any]:
    """Imports branch records of prospects (as `POST /prospects/import`) and puts every
    merchant without a unit among them on the campaign's list."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    campaigns.require_planner(actor)
    with files.upload_folder() as folder:
        path = files.save_upload(file, folder, limit=MAX_UPLOAD_BYTES)
        result = prospects.import_prospects(session, actor, path, filename=path.name)
    free = campaigns.without_unit(session, result.merchant_ids)
    added = campaigns.add_prospects(session, actor, campaign, free, source="import")
    return {**result.to_dict(), "added_to_campaign": added}


@router.patch(
    "/campaigns/{campaign_id}/prospects/{merchant_id}",
    response_model=list[ProspectPublic],
    tags=["campaigns"],
)
def record_outcome(
    session: SessionDep, actor: ActorDep, campaign_id: int, merchant_id: int, data: OutcomeUpdate
) -> list[ProspectPublic]:
    """Records what a visit came to: visited, declined or pending again."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    run.record_outcome(session, actor, campaign, merchant_id, data.status)
    return [p for p in report.prospect_list(session, campaign) if p.merchant_id == merchant_id]


@router.post(
    "/campaigns/{campaign_id}/placements",
    response_model=report.PlacementLine,
    status_code=status.HTTP_201_CREATED,
    tags=["campaigns"],
)
def place_unit(
    session: SessionDep, actor: ActorDep, campaign_id: int, data: PlacementCreate
) -> report.PlacementLine:
    """Places a unit with a merchant for the campaign: the unit goes from in stock to deployed
    (a lifecycle move with its event and audit entry) and the placement is linked to the
    campaign. Marketing, admins and the campaign's staff."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    run.place_unit(
        session,
        actor,
        campaign,
        sn=data.sn,
        merchant_code=data.merchant_code,
        at=data.at,
        staff_username=data.staff_username,
    )
    lines = report.campaign_report(session, campaign).placements
    return next(line for line in lines if line.sn == data.sn)


@router.get(
    "/campaigns/{campaign_id}/report", response_model=report.CampaignReport, tags=["campaigns"]
)
def campaign_report(
    session: SessionDep, actor: ActorDep, campaign_id: int
) -> report.CampaignReport:
    """Placed against target, units active 30 days after placement, cost per active placement
    (FLEET_CAMPAIGN_COST_PER_UNIT_YUAN, FLEET_CAMPAIGN_COST_PER_VISIT_YUAN), and the market's
    动户率 before and after."""
    return report.campaign_report(session, campaigns.get_campaign(session, actor, campaign_id))


@router.get("/campaigns/{campaign_id}/export", response_class=FileResponse, tags=["campaigns"])
def export_campaign(session: SessionDep, actor: ActorDep, campaign_id: int) -> FileResponse:
    """The report as an XLSX workbook with Chinese headers (汇总, 布放明细, 意向商户)."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    return files.download(
        f"campaign-{campaign.id}.xlsx",
        lambda path: exports.write_campaign_xlsx(session, campaign, path),
    )


# --- prospects ----------------------------------------------------------------------------------


@router.post("/prospects/import", tags=["prospects"])
def import_prospects(
    session: SessionDep, actor: ActorDep, file: Annotated[UploadFile, File()]
) -> dict[str, Any]:
    """Imports branch records of merchants without a unit (CSV or XLSX, English or Chinese
    headers): code 商户编号, name 商户名称, category 行业, address 地址, lat 纬度, lng 经度,
    coord_system 坐标系, opening_hours 营业时间, contact_name 联系人, phone 联系电话,
    branch_code 所属网点编号, staff_username 客户经理工号, counter_visits_month 月均柜面现金次数,
    avg_cash_yuan 平均现金金额. New merchants are created (name and branch_code needed); a
    file with a bad row imports nothing and lists every bad row."""
    with files.upload_folder() as folder:
        path = files.save_upload(file, folder, limit=MAX_UPLOAD_BYTES)
        return prospects.import_prospects(session, actor, path, filename=path.name).to_dict()


@router.get(
    "/prospects", response_model=list[prospects.ProspectRow], tags=["prospects"], responses=COUNTED
)
def list_prospects_all(
    session: SessionDep,
    actor: ActorDep,
    response: Response,
    market_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[prospects.ProspectRow]:
    """Merchants of your subtree with branch records and no unit, scored 0–100, best first:
    the first `limit`; the X-Total-Count header says how many there are."""
    actor.require(Permission.read_inventory)
    ranked = prospects.ranked_prospects(session, actor, market_id=market_id)
    return told(response, cut(ranked, limit))
