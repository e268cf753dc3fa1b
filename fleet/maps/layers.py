"""The layers' payload: the rows of fleet.maps.data turned into compact, datum-shifted JSON.

Points are sent column-wise (one array per field) and drawn by fleet-layers.js, which builds
popups only when one is opened: this is what keeps 100,000 terminals under 15 MB and quick.
Every coordinate is shifted here from stored WGS-84 to the base map's datum.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from fleet.core.geo import Datum, from_wgs84
from fleet.maps import labels
from fleet.maps.labels import Lang
from fleet.maps.presets import Presets
from fleet.scoring.rules import ACTIVE

# Index of each status in the payload, and so in the legend; "unscored" has no score row.
STATUSES = ("active", "declining", "idle", "dormant", "never_used", "new", "unscored")
STATES = ("deployed", "recovery_requested", "recovery_approved")
_ACTIVE_INDEX = frozenset(STATUSES.index(s.value) for s in ACTIVE)
_ACTIVE_KEYS = frozenset(s.value for s in ACTIVE)
# Status text (None: not scored) and lifecycle state text → their index in the payload.
_STATUS_INDEX: dict[str | None, int] = {key: i for i, key in enumerate(STATUSES)}
_STATUS_INDEX[None] = STATUSES.index("unscored")
_STATE_INDEX = {key: i for i, key in enumerate(STATES)}
_M_PER_DEG = 111_320.0


class Shift:
    """Moves stored WGS-84 points onto a base map drawn in `datum` (6 decimals, ~10 cm)."""

    def __init__(self, datum: Datum) -> None:
        self.datum = datum

    def __call__(self, lat: float, lng: float) -> tuple[float, float]:
        y, x = from_wgs84(lat, lng, self.datum)
        return round(y, 6), round(x, 6)

    def many(self, lats: list[float], lngs: list[float]) -> tuple[list[float], list[float]]:
        """The same for whole columns (rounding with numpy: 100,000 points in milliseconds)."""
        if self.datum is not Datum.wgs84:
            points = [from_wgs84(y, x, self.datum) for y, x in zip(lats, lngs, strict=True)]
            lats, lngs = [p[0] for p in points], [p[1] for p in points]
        return (
            np.round(np.asarray(lats, dtype=float), 6).tolist(),
            np.round(np.asarray(lngs, dtype=float), 6).tolist(),
        )


def shifter(datum: Datum) -> Shift:
    """The shift from stored WGS-84 to `datum`."""
    return Shift(datum)


class Bounds:
    """The south-west and north-east corners of everything drawn."""

    def __init__(self) -> None:
        self.box: list[float] | None = None

    def add(self, lat: float, lng: float) -> None:
        if self.box is None:
            self.box = [lat, lng, lat, lng]
        else:
            b = self.box
            b[0], b[1], b[2], b[3] = min(b[0], lat), min(b[1], lng), max(b[2], lat), max(b[3], lng)

    def corners(self) -> list[list[float]] | None:
        return None if self.box is None else [self.box[:2], self.box[2:]]


def terminal_columns(rows: Sequence[Any], shift: Shift, bounds: Bounds) -> dict[str, Any]:
    """Terminals placed on the map, column-wise, with counts by status and the unplaced."""
    placed = [r for r in rows if r[6] is not None and r[7] is not None]
    keys = ("id", "lat", "lng", "s", "st", "sn", "name", "phone", "days", "c30")
    if not placed:
        return {**{k: [] for k in keys}, "by_status": {}, "unplaced": len(rows)}
    ids, sns, states, _branches, names, phones, lats, lngs, statuses, days, c30 = (
        list(column) for column in zip(*placed, strict=True)
    )
    lat, lng = shift.many(lats, lngs)
    bounds.add(min(lat), min(lng))
    bounds.add(max(lat), max(lng))
    s = [_STATUS_INDEX[status] for status in statuses]
    counts = Counter(s)
    return {
        "id": ids,
        "lat": lat,
        "lng": lng,
        "s": s,
        "st": [_STATE_INDEX.get(state, 0) for state in states],
        "sn": sns,
        "name": names,
        "phone": [p or "" for p in phones],
        "days": days,
        "c30": [c or 0 for c in c30],
        "by_status": {STATUSES[i]: n for i, n in sorted(counts.items())},
        "unplaced": len(rows) - len(placed),
    }


def hexagons(terminals: dict[str, Any], radius_m: float) -> dict[str, Any]:
    """Terminals binned into pointy-top hexagons: centre, terminals, active, transactions."""
    lat = np.asarray(terminals["lat"], dtype=float)
    if lat.size == 0:
        return {
            "radius_m": radius_m,
            "kx": _M_PER_DEG,
            "lat": [],
            "lng": [],
            "n": [],
            "a": [],
            "v": [],
        }
    lng = np.asarray(terminals["lng"], dtype=float)
    # A local plane: metres east and north at the data's mean latitude (a city is small enough).
    kx = _M_PER_DEG * math.cos(math.radians(float(lat.mean())))
    x, y = lng * kx, lat * _M_PER_DEG
    q = (math.sqrt(3) / 3 * x - y / 3) / radius_m
    r = (2 / 3 * y) / radius_m
    # Round fractional axial coordinates to the hexagon that holds the point (cube rounding).
    cx, cz = np.round(q), np.round(r)
    cy = np.round(-q - r)
    dx, dy, dz = np.abs(cx - q), np.abs(cy + q + r), np.abs(cz - r)
    fix_x = (dx > dy) & (dx > dz)
    fix_z = ~fix_x & (dz >= dy)
    cx = np.where(fix_x, -cy - cz, cx)
    cz = np.where(fix_z, -cx - cy, cz)
    cells, inverse = np.unique(np.stack([cx, cz], axis=1), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    active = np.isin(np.asarray(terminals["s"]), list(_ACTIVE_INDEX)).astype(np.int64)
    n = np.bincount(inverse, minlength=len(cells))
    a = np.bincount(inverse, weights=active, minlength=len(cells))
    v = np.bincount(
        inverse, weights=np.asarray(terminals["c30"], dtype=float), minlength=len(cells)
    )
    centre_x = radius_m * math.sqrt(3) * (cells[:, 0] + cells[:, 1] / 2)
    centre_y = radius_m * 1.5 * cells[:, 1]
    return {
        "radius_m": radius_m,
        "kx": kx,
        "lat": np.round(centre_y / _M_PER_DEG, 6).tolist(),
        "lng": np.round(centre_x / kx, 6).tolist(),
        "n": n.astype(int).tolist(),
        "a": a.astype(int).tolist(),
        "v": v.astype(int).tolist(),
    }


def market_items(
    rows: Sequence[Any],
    coverage: dict[int, tuple[int, int, int, int]],
    presets: Presets,
    lang: Lang,
    shift: Shift,
    bounds: Bounds,
) -> list[dict[str, Any]]:
    """Markets with their extent (polygon or circle), trade label and coverage figures."""
    default_radius = float(presets.layers.get("market_default_radius_m", 300))
    items = []
    for mid, code, name, category, lat, lng, radius_m, polygon, stalls, approximate in rows:
        shape = [shift(v[0], v[1]) for v in polygon] if polygon else None
        if shape:
            centre = (
                sum(v[0] for v in shape) / len(shape),
                sum(v[1] for v in shape) / len(shape),
            )
        elif lat is not None and lng is not None:
            centre = shift(lat, lng)
        else:
            continue
        for y, x in shape or [centre]:
            bounds.add(y, x)
        merchants, covered, deployed, active = coverage.get(mid, (0, 0, 0, 0))
        trade = category.value if hasattr(category, "value") else str(category)
        items.append(
            {
                "id": mid,
                "code": code,
                "name": name,
                "trade": labels.trade(trade, lang),
                "color": presets.trade_colors.get(trade, presets.trade_colors.get("other")),
                "lat": round(centre[0], 6),
                "lng": round(centre[1], 6),
                "radius": None if shape else float(radius_m or default_radius),
                "polygon": [list(v) for v in shape] if shape else None,
                "stalls": stalls,
                "approximate": bool(approximate),
                "merchants": merchants,
                "with_terminal": covered,
                "deployed": deployed,
                "active": active,
            }
        )
    return items


def branch_items(
    rows: Sequence[Any],
    terminal_rows: Sequence[Any],
    presets: Presets,
    lang: Lang,
    shift: Shift,
    bounds: Bounds,
) -> list[dict[str, Any]]:
    """Branches with a location, their service radius, and their own terminals' figures."""
    radius_by_level = presets.layers.get("branch_radius_m", {})
    deployed: Counter[int] = Counter()
    active: Counter[int] = Counter()
    for row in terminal_rows:
        deployed[row[3]] += 1
        if row[8] in _ACTIVE_KEYS:
            active[row[3]] += 1
    items = []
    for bid, code, name, level, lat, lng, _parent in rows:
        if lat is None or lng is None:
            continue
        y, x = shift(lat, lng)
        bounds.add(y, x)
        items.append(
            {
                "code": code,
                "name": name,
                "level": labels.LEVEL[lang].get(level.value, level.value),
                "lat": y,
                "lng": x,
                "radius": float(radius_by_level.get(level.value, 0)),
                "deployed": deployed[bid],
                "active": active[bid],
            }
        )
    return items


def white_columns(rows: Sequence[Any], shift: Shift, bounds: Bounds) -> dict[str, list[Any]]:
    """Open merchants without a terminal, column-wise."""
    if not rows:
        return {k: [] for k in ("id", "code", "name", "phone", "lat", "lng")}
    ids, codes, names, phones, lats, lngs = (list(c) for c in zip(*rows, strict=True))
    lat, lng = shift.many(lats, lngs)
    bounds.add(min(lat), min(lng))
    bounds.add(max(lat), max(lng))
    phones = [p or "" for p in phones]
    return {"id": ids, "code": codes, "name": names, "phone": phones, "lat": lat, "lng": lng}
