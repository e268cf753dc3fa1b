"""The demo region's hand-curated facts (data/linyi/region.json), loaded into plain objects."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from fleet.core.errors import Invalid
from fleet.inventory.models import MarketCategory

# The source checkout keeps the region next to the package: <repo>/data/linyi/region.json.
REGION_PATH = Path(__file__).resolve().parents[2] / "data" / "linyi" / "region.json"


@dataclass(frozen=True)
class Area:
    """A district or county: where a sub-branch sits."""

    code: str  # pinyin slug, e.g. "lanshan"
    kind: str  # "district" or "county"
    name_zh: str  # 兰山区
    short: str  # 兰山
    lat: float
    lng: float


@dataclass(frozen=True)
class MarketFact:
    code: str
    name_zh: str
    category: MarketCategory
    trade: str  # what its shops sell, in Chinese (五金, 建材, ...)
    area: str  # Area.code
    lat: float
    lng: float
    radius_m: float
    stalls: int | None
    approximate: bool
    address: str
    generated: bool


@dataclass(frozen=True)
class Region:
    name_zh: str
    centre: tuple[float, float]
    areas: tuple[Area, ...]
    markets: tuple[MarketFact, ...]

    def area(self, code: str) -> Area:
        for area in self.areas:
            if area.code == code:
                return area
        raise Invalid("region has no district or county {code}", code=repr(code))


def load_region(path: Path | None = None) -> Region:
    path = path or REGION_PATH
    if not path.is_file():
        raise Invalid("demo region file not found: {path}", path=path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    areas = tuple(
        Area(a["code"], a["kind"], a["name_zh"], a["short"], float(a["lat"]), float(a["lng"]))
        for a in raw["areas"]
    )
    known = {a.code for a in areas}
    markets = []
    for m in raw["markets"]:
        if m["area"] not in known:
            raise Invalid(
                "market {code} names unknown area {area}", code=m["code"], area=repr(m["area"])
            )
        markets.append(
            MarketFact(
                code=m["code"],
                name_zh=m["name_zh"],
                category=MarketCategory(m["category"]),
                trade=m["trade"],
                area=m["area"],
                lat=float(m["lat"]),
                lng=float(m["lng"]),
                radius_m=float(m["radius_m"]),
                stalls=m.get("stalls"),
                approximate=bool(m.get("approximate", False)),
                address=m.get("address", ""),
                generated=bool(m.get("generated", False)),
            )
        )
    centre = raw["city_centre"]
    return Region(
        name_zh=raw["region"],
        centre=(float(centre["lat"]), float(centre["lng"])),
        areas=areas,
        markets=tuple(markets),
    )


def qualifier(area: Area) -> str:
    """The place prefix of a legal name: 临沂市兰山区 for a district, 平邑县 for a county."""
    return f"临沂市{area.name_zh}" if area.kind == "district" else area.name_zh


def offset(lat: float, lng: float, east_m: float, north_m: float) -> tuple[float, float]:
    """The point `east_m` east and `north_m` north of (lat, lng), on a local flat earth."""
    return (
        lat + north_m / 110_574.0,
        lng + east_m / (111_320.0 * math.cos(math.radians(lat))),
    )


def flat_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Equirectangular distance in metres: plenty for picking the nearest of a few points."""
    dy = (a[0] - b[0]) * 110_574.0
    dx = (a[1] - b[1]) * 111_320.0 * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(dx, dy)
