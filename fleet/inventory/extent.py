"""A market's extent: a polygon of WGS-84 [lat, lng] vertices, or a centre and a radius."""

from __future__ import annotations

import math
from typing import Protocol

from fleet.core.errors import Invalid
from fleet.core.geo import distance_m

_M_PER_DEG_LAT = 111_320.0


class HasExtent(Protocol):
    lat: float | None
    lng: float | None
    radius_m: float | None
    polygon: list[list[float]] | None


def check_polygon(polygon: list[list[float]]) -> None:
    if len(polygon) < 3:
        raise Invalid("a market polygon needs at least 3 [lat, lng] vertices")
    for vertex in polygon:
        if len(vertex) != 2 or not (-90 <= vertex[0] <= 90 and -180 <= vertex[1] <= 180):
            raise Invalid("polygon vertex {vertex} is not a [lat, lng] pair", vertex=vertex)


def _in_polygon(polygon: list[list[float]], lat: float, lng: float) -> bool:
    # Ray casting; markets are a few hundred metres across, so lat/lng act as plane coordinates.
    inside = False
    j = len(polygon) - 1
    for i in range(len(polygon)):
        yi, xi = polygon[i]
        yj, xj = polygon[j]
        if (yi > lat) != (yj > lat) and lng < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def contains(market: HasExtent, lat: float, lng: float) -> bool:
    """Whether the point lies inside the market's extent."""
    if market.polygon:
        return _in_polygon(market.polygon, lat, lng)
    if market.lat is None or market.lng is None or not market.radius_m:
        return False
    # A cheap flat-earth look first: the exact geodesic is ~100x slower and rarely needed.
    dy = (lat - market.lat) * _M_PER_DEG_LAT
    dx = (lng - market.lng) * _M_PER_DEG_LAT * math.cos(math.radians(market.lat))
    if math.hypot(dx, dy) > market.radius_m * 1.01 + 5:
        return False
    return distance_m((market.lat, market.lng), (lat, lng)) <= market.radius_m


def area_m2(market: HasExtent) -> float:
    """The extent's approximate area, used to prefer the smaller of two overlapping markets."""
    if market.polygon:
        lat0 = sum(v[0] for v in market.polygon) / len(market.polygon)
        kx = _M_PER_DEG_LAT * math.cos(math.radians(lat0))
        pts = [(v[1] * kx, v[0] * _M_PER_DEG_LAT) for v in market.polygon]
        pairs = zip(pts, pts[1:] + pts[:1], strict=True)
        twice = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairs)
        return abs(twice) / 2
    return math.pi * (market.radius_m or 0.0) ** 2
