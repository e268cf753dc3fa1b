"""The demo bank's organisation: branch tree (city branch, sub-branches, outlets) and staff.

All invented: the names follow one bank-neutral style (临沂分行, 兰山支行, 兰山支行城西分理处),
and outlets sit at made-up offsets from the district/county seats or the markets they serve.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from fleet.core.access import Role
from fleet.core.errors import Listed, Reason
from fleet.demo import names
from fleet.demo.region import Region, offset, qualifier
from fleet.inventory.models import BranchLevel

DEMO_PASSWORD = "fleet-demo"

# (username, password, what they see) - printed by `fleet demo`, in the reader's language.
DEMO_LOGINS: list[tuple[str, str, Reason]] = [
    ("admin", DEMO_PASSWORD, Reason("everything: all branches, users, roles and feed sources")),
    ("ops_lanshan", DEMO_PASSWORD,
     Reason("operations of {branch} and its outlets: KPIs, recovery approvals, visit assignment",
            branch="兰山支行")),
    ("field_lanshan_1", DEMO_PASSWORD,
     Reason("field officer at {branch}: today's visit list and route", branch="兰山支行营业室")),
    ("marketing_1", DEMO_PASSWORD,
     Reason("marketing, city-wide: market ranking and campaigns")),
    ("service_lanshan_1", DEMO_PASSWORD,
     Reason("after-sales at {branch}: today's fault tickets in route order, swaps, restores",
            branch="兰山支行营业室")),
    ("service_yinling_1", DEMO_PASSWORD,
     Reason("technician of {contractor} (re-hired retirees, a contractor): {areas} only",
            contractor="临沂银龄售后服务队", areas=Listed(("罗庄支行", "河东支行")))),
]  # fmt: skip

CITY_CODE = "LY00"
MARKETING_STAFF = 3
# Outlets per district/county: (name suffix, anchor, km east, km north). The anchor is the
# area's seat ("") or a market code. The sub-branch shares a building with its first outlet.
OUTLET_PLAN: dict[str, tuple[tuple[str, str, float, float], ...]] = {
    "lanshan": (
        ("营业室", "", 0.3, 0.2),
        ("商城分理处", "LYM02", 0.0, -0.55),
        ("城西分理处", "", -4.0, 1.0),
        ("城北分理处", "", 0.5, 4.0),
        ("城南分理处", "", -0.5, -2.0),
    ),
    "luozhuang": (("营业室", "", 0.0, 0.6), ("城东分理处", "", 1.8, -0.4),
                  ("城南分理处", "", -0.5, -1.8)),
    "hedong": (("营业室", "", -0.6, 0.3), ("城东分理处", "", 1.8, -0.3),
               ("城北分理处", "", 0.3, 2.0)),
    "pingyi": (("营业室", "", -0.6, 0.3), ("郑城分理处", "LYM16", 0.4, 0.3),
               ("流峪分理处", "LYM17", 0.4, -0.3)),
}  # fmt: skip
COUNTY_OUTLETS = (("营业室", "", -0.8, 0.3), ("城东分理处", "", 1.6, -0.2))
FIELD_PER_OUTLET = {"lanshan": 3, "luozhuang": 2, "hedong": 2}
FIELD_AT_MARKET_OUTLET = 5  # 兰山支行商城分理处 serves the market belt
# After-sales staff (售后): the bank's own in 兰山 (at its first two outlets), and the
# contractor's technicians (fleet.demo.aftersales) at the first outlet of the counties it covers.
SERVICE_STAFF = (("lanshan", 1, "lanshan"), ("lanshan", 2, "lanshan"),
                 ("luozhuang", 1, "yinling"), ("hedong", 1, "yinling"))  # fmt: skip


@dataclass
class OrgBranch:
    code: str
    name: str
    level: BranchLevel
    parent_code: str
    address: str
    lat: float
    lng: float
    area: str = ""
    field_staff: list[str] = field(default_factory=list)

    def row(self) -> tuple[str, ...]:
        return (self.code, self.name, self.level.value, self.parent_code, self.address,
                f"{self.lat:.6f}", f"{self.lng:.6f}", "wgs84")  # fmt: skip


def build_branches(region: Region, rng: random.Random) -> list[OrgBranch]:
    """The city branch, then each sub-branch (in region order) followed by its outlets."""
    lat, lng = offset(*region.centre, -350.0, -250.0)
    city_address = names.street_address(rng, "临沂市兰山区")
    out = [OrgBranch(CITY_CODE, "临沂分行", BranchLevel.city, "", city_address, lat, lng)]
    markets = {m.code: m for m in region.markets}
    for i, area in enumerate(region.areas, start=1):
        county = f"LY{i:02d}"
        outlets = []
        plan = OUTLET_PLAN.get(area.code, COUNTY_OUTLETS)
        for j, (suffix, anchor, east, north) in enumerate(plan, start=1):
            base = (markets[anchor].lat, markets[anchor].lng) if anchor else (area.lat, area.lng)
            lat, lng = offset(*base, east * 1000.0, north * 1000.0)
            address = names.street_address(rng, qualifier(area))
            name = f"{area.short}支行{suffix}"
            outlets.append(OrgBranch(f"{county}{j:02d}", name, BranchLevel.outlet, county,
                                     address, lat, lng, area.code))  # fmt: skip
        first = outlets[0]
        lat, lng = offset(first.lat, first.lng, 40.0, 30.0)
        out.append(OrgBranch(county, f"{area.short}支行", BranchLevel.county, CITY_CODE,
                             first.address, lat, lng, area.code))  # fmt: skip
        out.extend(outlets)
    return out


def build_staff(branches: list[OrgBranch], rng: random.Random) -> list[tuple[str, ...]]:
    """Staff rows; fills each outlet's `field_staff`.

    The demo logins and every sub-branch's operations user get DEMO_PASSWORD; the rest have
    none, as staff do until an admin sets one (argon2 costs ~0.1 s a hash, so this keeps the
    demo quick).
    """
    can_sign_in = {username for username, _, _ in DEMO_LOGINS}
    used: set[str] = set()
    rows: list[tuple[str, ...]] = []

    def add(username: str, role: Role, branch: str) -> None:
        full_name = names.person_name(rng)
        while full_name in used:
            full_name = names.person_name(rng)
        phone = names.mobile(rng)
        while phone in used:
            phone = names.mobile(rng)
        used.update((full_name, phone))
        password = DEMO_PASSWORD if username in can_sign_in or role is Role.branch_ops else ""
        rows.append((username, full_name, role.value, branch, phone, "zh", password))

    add("admin", Role.admin, CITY_CODE)
    for k in range(1, MARKETING_STAFF + 1):
        add(f"marketing_{k}", Role.marketing, CITY_CODE)
    for branch in branches:
        if branch.level is BranchLevel.county:
            add(f"ops_{branch.area}", Role.branch_ops, branch.code)
    counters: dict[str, int] = {}
    for branch in branches:
        if branch.level is not BranchLevel.outlet:
            continue
        count = FIELD_PER_OUTLET.get(branch.area, 1)
        if branch.name.endswith("商城分理处"):
            count = FIELD_AT_MARKET_OUTLET
        for _ in range(count):
            counters[branch.area] = counters.get(branch.area, 0) + 1
            username = f"field_{branch.area}_{counters[branch.area]}"
            add(username, Role.field, branch.code)
            branch.field_staff.append(username)
    # Added last, so that the names drawn before stay as they were.
    outlets: dict[str, list[OrgBranch]] = {}
    for branch in branches:
        if branch.level is BranchLevel.outlet:
            outlets.setdefault(branch.area, []).append(branch)
    service: dict[str, int] = {}
    for area, nth, team in SERVICE_STAFF:
        service[team] = service.get(team, 0) + 1
        add(f"service_{team}_{service[team]}", Role.service, outlets[area][nth - 1].code)
    return rows
