"""Which merchants belong to a market: those whose location lies inside its extent.

A merchant's market is derived from its location when it is created or moved
(`service.market_at`); this module does the same from the market's side, when a market is
registered or its extent changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from fleet.core import audit
from fleet.core.access import Actor
from fleet.core.db import utcnow
from fleet.inventory import extent
from fleet.inventory.models import Market, Merchant

_M_PER_DEG_LAT = 111_320.0
EXTENT_FIELDS = frozenset({"lat", "lng", "radius_m", "polygon"})


@dataclass
class Extent:
    """A copy of a market's extent, taken before it changes."""

    lat: float | None
    lng: float | None
    radius_m: float | None
    polygon: list[list[float]] | None

    @classmethod
    def of(cls, market: Market) -> Extent:
        polygon = [list(v) for v in market.polygon] if market.polygon else None
        return cls(market.lat, market.lng, market.radius_m, polygon)


@dataclass
class MembershipChange:
    """Merchant codes that joined or left the market."""

    joined: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)


def _bounds(market: extent.HasExtent) -> tuple[float, float, float, float] | None:
    """(south, north, west, east) around the extent, a little generous; None without one."""
    if market.polygon:
        lats = [v[0] for v in market.polygon]
        lngs = [v[1] for v in market.polygon]
        pad = 1e-4
        return min(lats) - pad, max(lats) + pad, min(lngs) - pad, max(lngs) + pad
    if market.lat is None or market.lng is None or not market.radius_m:
        return None
    dlat = market.radius_m * 1.02 / _M_PER_DEG_LAT
    dlng = dlat / max(0.01, math.cos(math.radians(market.lat)))
    return market.lat - dlat, market.lat + dlat, market.lng - dlng, market.lng + dlng


def _holder(markets: list[Market], lat: float, lng: float) -> int | None:
    """The id of the smallest market holding the point, as `service.market_at` picks it."""
    holding = [m for m in markets if extent.contains(m, lat, lng)]
    best = min(holding, key=extent.area_m2, default=None)
    return best.id if best else None


def reassign_members(
    session: Session, actor: Actor, market: Market, *, previous: Extent | None = None
) -> MembershipChange:
    """Re-derives the market of merchants inside the market's extent, or that it no longer holds.

    A merchant that was inside the previous extent and is outside the new one gets the
    market that holds it now (or none). One assigned by hand to a market whose extent never
    held it (`market_code` on import) is left alone: only location-derived membership moves.
    """
    session.flush()
    bounds = _bounds(market)
    near = col(Merchant.market_id) == market.id
    if bounds is not None:
        south, north, west, east = bounds
        inside_box = and_(
            col(Merchant.lat).between(south, north), col(Merchant.lng).between(west, east)
        )
        near = or_(near, inside_box)
    merchants = list(
        session.execute(
            select(Merchant).where(near, col(Merchant.lat).is_not(None)).order_by(col(Merchant.id))
        ).scalars()
    )
    change = MembershipChange()
    if not merchants:
        return change
    markets = list(session.execute(select(Market)).scalars())
    for merchant in merchants:
        lat, lng = merchant.lat, merchant.lng
        if lat is None or lng is None:
            continue
        inside = extent.contains(market, lat, lng)
        if merchant.market_id == market.id and not inside:
            if previous is not None and not extent.contains(previous, lat, lng):
                continue  # assigned by hand, never by this extent
            new_id = _holder(markets, lat, lng)
        elif inside and merchant.market_id != market.id:
            new_id = _holder(markets, lat, lng)
        else:
            continue
        if new_id == merchant.market_id:
            continue
        (change.joined if new_id == market.id else change.left).append(merchant.code)
        old_id = merchant.market_id
        merchant.market_id, merchant.updated_at = new_id, utcnow()
        session.add(merchant)
        audit.record(
            session,
            actor=actor,
            action="update",
            entity="merchant",
            entity_id=merchant.code,
            branch_id=merchant.branch_id,
            changes={"market_id": [old_id, new_id], "reason": f"extent of market {market.code}"},
        )
    session.flush()
    return change
