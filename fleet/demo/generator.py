"""Deterministic demo data for the Linyi region: branches, staff, markets, merchants, terminals.

`generate` writes the five CSV files that `fleet import KIND FILE` reads. The same seed (and
scale and as-of date) gives byte-identical files: everything random comes from one
`random.Random(seed)`, nothing from the clock. Branches, staff and markets have fixed counts;
`scale` grows or shrinks merchants and terminals.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from fleet.core import sheets
from fleet.core.errors import Invalid
from fleet.core.geo import Datum, from_wgs84
from fleet.demo import names
from fleet.demo.org import DEMO_LOGINS, DEMO_PASSWORD, OrgBranch, build_branches, build_staff
from fleet.demo.region import Area, MarketFact, Region, flat_m, load_region, offset, qualifier
from fleet.inventory.models import BranchLevel, MerchantStatus, TerminalState

__all__ = ["DEFAULT_AS_OF", "DEFAULT_SEED", "DEMO_LOGINS", "DEMO_PASSWORD", "HEADERS", "generate"]

DEFAULT_SEED = 20261128
DEFAULT_AS_OF = date(2026, 11, 28)

# The columns of each file, in order; the keys are the import kinds.
HEADERS: dict[str, tuple[str, ...]] = {
    kind: tuple(columns.split(","))
    for kind, columns in (
        ("branches", "code,name,level,parent_code,address,lat,lng,coord_system"),
        ("staff", "username,full_name,role,branch_code,phone,language,password"),
        ("markets", "code,name,category,lat,lng,coord_system,radius_m,polygon,stalls,"
                    "approximate,address,branch_code"),
        ("merchants", "code,name,category,address,lat,lng,coord_system,opening_hours,"
                      "contact_name,phone,status,branch_code,market_code,staff_username"),
        ("terminals", "sn,model,branch_code,state,merchant_code,deployed_at"),
    )
}  # fmt: skip

MERCHANTS_AT_SCALE_1 = 3100
TERMINALS_AT_SCALE_1 = 2600
IN_MARKET_SHARE = 0.60
CLOSED_SHARE = 0.03
GCJ02_SHARE = 0.05
DEPLOYED_SHARE = 0.85
DEPLOYED_WITHIN_DAYS = 3 * 365
TERMINAL_MODELS = ("ABC-T300", "ABC-T500", "ABC-T200")
TERMINAL_MODEL_WEIGHTS = (5.0, 4.0, 1.0)
# Share of town shops (outside markets) by area; each county gets COUNTY_TOWN_WEIGHT.
TOWN_WEIGHT = {"lanshan": 16.0, "luozhuang": 9.0, "hedong": 9.0}
COUNTY_TOWN_WEIGHT = 7.0

_Shop = tuple[float, float, str, str, str, str]  # lat, lng, category, name, address, hours


@dataclass
class _Merchant:
    code: str
    status: MerchantStatus
    branch_code: str
    row: tuple[str, ...]


def _fmt(value: float) -> str:
    return f"{value:.6f}"


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = sheets.csv_writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    return path


def _market_rows(region: Region, county_of: dict[str, str]) -> list[tuple[object, ...]]:
    return [
        (m.code, m.name_zh, m.category.value, _fmt(m.lat), _fmt(m.lng), "wgs84",
         f"{m.radius_m:.0f}", "", m.stalls, "true" if m.approximate else "false", m.address,
         county_of[m.area])
        for m in region.markets
    ]  # fmt: skip


def _town_point(
    rng: random.Random, area: Area, markets: Sequence[MarketFact]
) -> tuple[float, float]:
    """A point 0.15-5.5 km around the area's seat, denser near it, outside every market."""
    for _ in range(20):
        dist = min(5500.0, 150.0 + abs(rng.gauss(0.0, 1700.0)))
        angle = rng.uniform(0.0, 2 * math.pi)
        point = offset(area.lat, area.lng, dist * math.cos(angle), dist * math.sin(angle))
        if all(flat_m(point, (m.lat, m.lng)) > m.radius_m + 50.0 for m in markets):
            break
    return point


def _market_shop(rng: random.Random, region: Region, market: MarketFact) -> _Shop:
    """A shop inside `market`, within 92% of its radius, selling its trade."""
    area = region.area(market.area)
    dist = market.radius_m * 0.92 * math.sqrt(rng.random())
    angle = rng.uniform(0.0, 2 * math.pi)
    lat, lng = offset(market.lat, market.lng, dist * math.cos(angle), dist * math.sin(angle))
    name = names.market_shop_name(rng, market.trade, qualifier(area))
    stall = f"{rng.choice('ABCDEF')}区{rng.randrange(1, 400)}号"
    hours = names.opening_hours(rng, market.trade if market.trade == "药材" else "market")
    return lat, lng, market.trade, name, f"{qualifier(area)}{market.name_zh}{stall}", hours


def _town_shop(rng: random.Random, region: Region, area: Area) -> _Shop:
    """A grocer, pharmacy, restaurant, farm-supplies shop... around a district or county seat."""
    lat, lng = _town_point(rng, area, region.markets)
    weights = [centre if area.kind == "district" else county
               for _, centre, county in names.TOWN_CATEGORIES]  # fmt: skip
    category = rng.choices([c for c, _, _ in names.TOWN_CATEGORIES], weights)[0]
    name = names.town_shop_name(rng, category, area.short)
    address = names.street_address(rng, qualifier(area))
    return lat, lng, category, name, address, names.opening_hours(rng, category)


def _merchants(
    region: Region, outlets: list[OrgBranch], n: int, rng: random.Random
) -> list[_Merchant]:
    """`n` merchants, about 60% inside markets; each with its nearest outlet and an officer."""
    market_weights = [m.radius_m**2 for m in region.markets]
    area_weights = [TOWN_WEIGHT.get(a.code, COUNTY_TOWN_WEIGHT) for a in region.areas]
    out: list[_Merchant] = []
    for i in range(1, n + 1):
        if rng.random() < IN_MARKET_SHARE:
            market = rng.choices(region.markets, market_weights)[0]
            market_code = market.code
            lat, lng, category, name, address, hours = _market_shop(rng, region, market)
        else:
            market_code = ""
            area = rng.choices(region.areas, area_weights)[0]
            lat, lng, category, name, address, hours = _town_shop(rng, region, area)
        status = MerchantStatus.closed if rng.random() < CLOSED_SHARE else MerchantStatus.open
        outlet = min(outlets, key=lambda b: flat_m((lat, lng), (b.lat, b.lng)))
        staff = rng.choice(outlet.field_staff)
        # A few merchants come as GCJ-02 (as from an AMap lookup) to exercise conversion.
        datum = Datum.gcj02 if rng.random() < GCJ02_SHARE else Datum.wgs84
        lat, lng = from_wgs84(lat, lng, datum)
        code = f"M{i:06d}"
        row = (code, name, category, address, _fmt(lat), _fmt(lng), datum.value, hours,
               names.person_name(rng), names.contact_phone(rng), status.value, outlet.code,
               market_code, staff)  # fmt: skip
        out.append(_Merchant(code, status, outlet.code, row))
    return out


def _terminals(
    merchants: list[_Merchant], outlets: list[OrgBranch], n: int, as_of: date,
    rng: random.Random,
) -> list[tuple[str, ...]]:  # fmt: skip
    """`n` units, ~85% deployed at distinct open merchants, the rest in stock at outlets."""
    open_merchants = [m for m in merchants if m.status is MerchantStatus.open]
    n_deployed = min(round(n * DEPLOYED_SHARE), len(open_merchants))
    hosts = rng.sample(open_merchants, n_deployed)
    seen: set[str] = set()
    rows: list[tuple[str, ...]] = []
    for k in range(n):
        sn = f"LY{rng.randrange(10**10):010d}"
        while sn in seen:
            sn = f"LY{rng.randrange(10**10):010d}"
        seen.add(sn)
        model = rng.choices(TERMINAL_MODELS, TERMINAL_MODEL_WEIGHTS)[0]
        if k < n_deployed:
            host = hosts[k]
            deployed = as_of - timedelta(days=rng.randint(0, DEPLOYED_WITHIN_DAYS))
            rows.append((sn, model, host.branch_code, TerminalState.deployed.value, host.code,
                         deployed.isoformat()))  # fmt: skip
        else:
            outlet = rng.choice(outlets)
            rows.append((sn, model, outlet.code, TerminalState.in_stock.value, "", ""))
    rows.sort()
    return rows


def generate(
    out_dir: Path,
    *,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    as_of: date = DEFAULT_AS_OF,
    region_path: Path | None = None,
) -> dict[str, Path]:
    """Writes branches/staff/markets/merchants/terminals CSV files into `out_dir`.

    Returns each file's path by import kind ("branches", "staff", "markets", "merchants",
    "terminals"). Deterministic in (seed, scale, as_of, region file); no deployment date is
    later than `as_of` or more than three years before it.
    """
    if not scale > 0:
        raise Invalid("scale must be positive, not {scale}", scale=scale)
    region = load_region(region_path)
    rng = random.Random(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    branches = build_branches(region, rng)
    staff = build_staff(branches, rng)
    outlets = [b for b in branches if b.level is BranchLevel.outlet]
    county_of = {b.area: b.code for b in branches if b.level is BranchLevel.county}
    merchants = _merchants(region, outlets, max(1, round(MERCHANTS_AT_SCALE_1 * scale)), rng)
    n_terminals = max(1, round(TERMINALS_AT_SCALE_1 * scale))
    tables: dict[str, Sequence[Sequence[object]]] = {
        "branches": [b.row() for b in branches],
        "staff": staff,
        "markets": _market_rows(region, county_of),
        "merchants": [m.row for m in merchants],
        "terminals": _terminals(merchants, outlets, n_terminals, as_of, rng),
    }
    return {kind: _write(out_dir / f"{kind}.csv", HEADERS[kind], rows)
            for kind, rows in tables.items()}  # fmt: skip
