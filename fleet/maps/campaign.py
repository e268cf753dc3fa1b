"""The map of a market campaign: the market's extent, its prospects coloured by outcome
(placed, visited, pending, declined), the units placed for it with their state and usage
status, and the branches holding the units set aside for it.

Access is the campaign API's: the campaign's branch subtree, 404 outside it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import String, and_, false, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from fleet.core.access import Actor
from fleet.core.config import Settings
from fleet.core.i18n import local_day, texts_for
from fleet.inventory.models import Branch, Merchant, Terminal, TerminalState
from fleet.maps import assets, data, labels, layers, page, presets
from fleet.maps.coverage import RenderedMap
from fleet.maps.labels import Lang
from fleet.markets import campaigns, report
from fleet.markets.models import Campaign, CampaignPlacement, CampaignUnit
from fleet.scoring.models import TerminalScore

LAYER_KINDS = ("market", "prospects", "placed", "set_aside")
PROSPECT_STATUSES = ("placed", "visited", "pending", "declined")
DEFAULT_PROSPECT_COLORS = {
    "placed": "#2f9e44",
    "visited": "#f59f00",
    "pending": "#1c7ed6",
    "declined": "#c92a2a",
}


def _placements(session: Session, campaign: Campaign) -> list[Any]:
    """sn, state, merchant code, name, lat, lng, placed_at, status (latest scored date)."""
    as_of = data.latest_as_of(session)
    score = (
        and_(
            col(TerminalScore.terminal_id) == col(Terminal.id),
            col(TerminalScore.as_of) == as_of,
        )
        if as_of is not None
        else false()
    )
    stmt = (
        sa_select(
            col(Terminal.sn),
            type_coerce(col(Terminal.state), String),
            col(Merchant.code),
            col(Merchant.name),
            col(Merchant.lat),
            col(Merchant.lng),
            col(CampaignPlacement.placed_at),
            type_coerce(col(TerminalScore.status), String),
        )
        .join(Terminal, col(Terminal.id) == col(CampaignPlacement.terminal_id))
        .join(Merchant, col(Merchant.id) == col(CampaignPlacement.merchant_id))
        .outerjoin(TerminalScore, score)
        .where(col(CampaignPlacement.campaign_id) == campaign.id)
        .order_by(col(CampaignPlacement.placed_at), col(Terminal.sn))
    )
    return list(session.execute(stmt).all())


def _set_aside(session: Session, campaign: Campaign) -> list[tuple[Branch, int, int]]:
    """Branches holding the units set aside: (branch, units set aside, of them still in stock)."""
    stmt = (
        select(col(Terminal.branch_id), col(Terminal.state))
        .join(CampaignUnit, col(CampaignUnit.terminal_id) == col(Terminal.id))
        .where(col(CampaignUnit.campaign_id) == campaign.id)
    )
    total: Counter[int] = Counter()
    stock: Counter[int] = Counter()
    for branch_id, state in session.execute(stmt).all():
        total[branch_id] += 1
        if state == TerminalState.in_stock:
            stock[branch_id] += 1
    found = session.execute(select(Branch).where(col(Branch.id).in_(list(total)))).scalars()
    return [(b, total[b.id or 0], stock[b.id or 0]) for b in sorted(found, key=lambda b: b.code)]


def campaign_payload(
    session: Session,
    campaign: Campaign,
    *,
    base: presets.BaseMap,
    lang: Lang,
    style: presets.Presets,
) -> dict[str, Any]:
    """The campaign's market, prospects, placed units and set-aside branches, datum-shifted."""
    text = labels.TEXT[lang]
    words = texts_for(lang)
    shift = layers.shifter(base.datum)
    bounds = layers.Bounds()
    market = campaigns.market_of(session, campaign)
    row = (
        market.id,
        market.code,
        market.name,
        market.category,
        market.lat,
        market.lng,
        market.radius_m,
        market.polygon,
        market.stalls,
        market.approximate,
    )
    markets = layers.market_items([row], {}, style, lang, shift, bounds)
    colors = {**DEFAULT_PROSPECT_COLORS, **style.layers.get("prospect_colors", {})}

    prospects, unplaced = [], 0
    by_status: Counter[str] = Counter()
    for p in report.prospect_list(session, campaign):
        by_status[p.status.value] += 1
        if p.lat is None or p.lng is None:
            unplaced += 1
            continue
        y, x = shift(p.lat, p.lng)
        bounds.add(y, x)
        prospects.append(
            {
                "code": p.merchant_code,
                "name": p.merchant_name,
                "address": p.address,
                "lat": y,
                "lng": x,
                "status": p.status.value,
                "priority": p.priority,
                "reason": words.phrase(p.why),
                "staff": p.staff_username,
            }
        )
    placed = []
    for sn, state, code, name, lat, lng, placed_at, status in _placements(session, campaign):
        if lat is None or lng is None:
            continue
        y, x = shift(lat, lng)
        bounds.add(y, x)
        key = status or "unscored"
        placed.append(
            {
                "sn": sn,
                "code": code,
                "name": name,
                "lat": y,
                "lng": x,
                "placed_on": local_day(placed_at).isoformat(),
                "state": labels.STATE[lang].get(state, state),
                "status": labels.STATUS[lang].get(key, key),
                "color": style.status_colors.get(key, style.status_colors["unscored"]),
            }
        )
    held = []
    for branch, units, in_stock in _set_aside(session, campaign):
        if branch.lat is None or branch.lng is None:
            continue
        y, x = shift(branch.lat, branch.lng)
        bounds.add(y, x)
        held.append(
            {
                "code": branch.code,
                "name": branch.name,
                "lat": y,
                "lng": x,
                "units": units,
                "in_stock": in_stock,
            }
        )
    return {
        "kind": "campaign",
        "lang": lang,
        "title": f"{text['campaign_title']} · {campaign.name}",
        "campaign": {
            "id": campaign.id,
            "name": campaign.name,
            "starts_on": campaign.starts_on.isoformat(),
            "ends_on": campaign.ends_on.isoformat(),
            "target": campaign.target_placements,
            "market": market.name,
        },
        "datum": base.datum.value,
        "text": text,
        "markets": markets,
        "prospect_statuses": [
            {
                "key": key,
                "label": labels.PROSPECT[lang][key],
                "color": colors[key],
                "count": by_status[key],
            }
            for key in PROSPECT_STATUSES
        ],
        "prospects": prospects,
        "unplaced": unplaced,
        "placed": placed,
        "set_aside": held,
        "bounds": bounds.corners(),
        "max_zoom": base.max_zoom,
        "bases": [],
        "style": {"branch_color": style.layers["branch_color"]},
    }


def render(
    session: Session,
    actor: Actor,
    campaign_id: int,
    *,
    base: str | None = None,
    lang: Lang = "zh",
    mode: assets.Mode = assets.Mode.served,
    base_href: Callable[[str], str] | None = None,
    settings: Settings | None = None,
) -> RenderedMap:
    """The map page of campaign `campaign_id`; 404 outside the caller's subtree."""
    start = page.MapPage.start(
        base=base, lang=lang, mode=mode, base_href=base_href, settings=settings
    )
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    payload = campaign_payload(session, campaign, base=start.chosen, lang=lang, style=start.style)
    text = labels.TEXT[lang]
    overlays = [(kind, text[f"layer_c_{kind}"], True) for kind in LAYER_KINDS]
    html = start.html(payload, overlays)
    counts = {
        "prospects": len(payload["prospects"]),
        "unplaced": payload["unplaced"],
        "placed": len(payload["placed"]),
        "set_aside_branches": len(payload["set_aside"]),
        **{f"prospect_{p['key']}": p["count"] for p in payload["prospect_statuses"]},
    }
    return RenderedMap(html=html, title=payload["title"], counts=counts)
