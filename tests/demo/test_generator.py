"""The demo generator: deterministic, the right sizes, and data the importer's schemas accept."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest

from fleet.auth.models import UserCreate
from fleet.core.access import Role
from fleet.core.geo import distance_m, parse_datum, to_wgs84
from fleet.demo import DEMO_LOGINS, generate
from fleet.demo.generator import HEADERS
from fleet.inventory.hours import normalise_hours
from fleet.inventory.models import (
    BranchCreate,
    BranchLevel,
    MarketCategory,
    MarketCreate,
    MerchantCreate,
    MerchantStatus,
    TerminalCreate,
    TerminalState,
)

KINDS = ("branches", "staff", "markets", "merchants", "terminals")
# Linyi's extent, generously: every point should fall inside.
LAT_RANGE = (34.3, 36.2)
LNG_RANGE = (117.3, 119.3)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _load(paths: dict[str, Path]) -> dict[str, list[dict[str, str]]]:
    return {kind: _read(paths[kind]) for kind in KINDS}


def _wgs(row: dict[str, str]) -> tuple[float, float]:
    return to_wgs84(float(row["lat"]), float(row["lng"]), parse_datum(row["coord_system"]))


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, str]]]:
    return _load(generate(tmp_path_factory.mktemp("full")))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, str]]]:
    return _load(generate(tmp_path_factory.mktemp("small"), scale=0.05))


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=7, scale=0.05)
    b = generate(tmp_path / "b", seed=7, scale=0.05)
    assert sorted(a) == sorted(KINDS)
    for kind in KINDS:
        assert a[kind].read_bytes() == b[kind].read_bytes(), kind


def test_different_seed_gives_different_files(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=1, scale=0.05)
    b = generate(tmp_path / "b", seed=2, scale=0.05)
    assert a["merchants"].read_bytes() != b["merchants"].read_bytes()
    assert a["terminals"].read_bytes() != b["terminals"].read_bytes()


def test_headers_are_exact(tmp_path: Path) -> None:
    paths = generate(tmp_path, scale=0.05)
    for kind in KINDS:
        first = paths[kind].read_text(encoding="utf-8").splitlines()[0]
        assert first == ",".join(HEADERS[kind])


def test_sizes_at_scale_one(full: dict[str, list[dict[str, str]]]) -> None:
    assert 35 <= len(full["branches"]) <= 45
    assert 55 <= len(full["staff"]) <= 70
    assert len(full["markets"]) >= 10
    assert len(full["merchants"]) >= 3000
    terminals = full["terminals"]
    assert len(terminals) >= 2500
    deployed = [t for t in terminals if t["state"] == TerminalState.deployed.value]
    assert 0.8 <= len(deployed) / len(terminals) <= 0.9
    in_market = [m for m in full["merchants"] if m["market_code"]]
    assert 0.55 <= len(in_market) / len(full["merchants"]) <= 0.65


def test_scale_shrinks_only_merchants_and_terminals(
    full: dict[str, list[dict[str, str]]], small: dict[str, list[dict[str, str]]]
) -> None:
    for kind in ("branches", "staff", "markets"):
        assert len(small[kind]) == len(full[kind])
    assert len(small["merchants"]) < len(full["merchants"]) / 10
    assert len(small["terminals"]) < len(full["terminals"]) / 10


def test_branch_tree(full: dict[str, list[dict[str, str]]]) -> None:
    branches = {b["code"]: b for b in full["branches"]}
    assert len(branches) == len(full["branches"])
    levels = [b["level"] for b in branches.values()]
    assert levels.count(BranchLevel.city.value) == 1
    assert levels.count(BranchLevel.county.value) == 12
    for b in branches.values():
        BranchCreate.model_validate(b | {"parent_code": b["parent_code"] or None})
        parent = branches.get(b["parent_code"])
        if b["level"] == BranchLevel.city.value:
            assert parent is None
        elif b["level"] == BranchLevel.county.value:
            assert parent is not None and parent["level"] == BranchLevel.city.value
        else:
            assert parent is not None and parent["level"] == BranchLevel.county.value


def test_staff_roles_and_logins(full: dict[str, list[dict[str, str]]]) -> None:
    branches = {b["code"]: b for b in full["branches"]}
    staff = {s["username"]: s for s in full["staff"]}
    assert len(staff) == len(full["staff"])
    for s in staff.values():
        UserCreate.model_validate({k: v for k, v in s.items() if v != ""})
        level = branches[s["branch_code"]]["level"]
        expected = {
            Role.admin.value: BranchLevel.city.value,
            Role.marketing.value: BranchLevel.city.value,
            Role.branch_ops.value: BranchLevel.county.value,
            Role.field.value: BranchLevel.outlet.value,
            Role.service.value: BranchLevel.outlet.value,
        }[s["role"]]
        assert level == expected, s
    roles = [s["role"] for s in staff.values()]
    assert roles.count(Role.admin.value) == 1
    assert roles.count(Role.branch_ops.value) == 12
    for username, password, seen in DEMO_LOGINS:
        assert username in staff and staff[username]["password"] == password and seen
    signs_in = {u for u, s in staff.items() if s["password"]}
    assert signs_in == {u for u, _, _ in DEMO_LOGINS} | {
        u for u, s in staff.items() if s["role"] == Role.branch_ops.value
    }
    assert staff["ops_lanshan"]["role"] == Role.branch_ops.value
    assert branches[staff["ops_lanshan"]["branch_code"]]["name"] == "兰山支行"
    lanshan = staff["ops_lanshan"]["branch_code"]
    assert branches[staff["field_lanshan_1"]["branch_code"]]["parent_code"] == lanshan
    assert staff["marketing_1"]["role"] == Role.marketing.value
    # After-sales: two of the bank's own in 兰山, and the contractor's technicians.
    assert roles.count(Role.service.value) == 4
    assert branches[staff["service_lanshan_1"]["branch_code"]]["parent_code"] == lanshan
    assert staff["service_yinling_1"]["role"] == Role.service.value


def test_markets_valid_and_every_category_present(full: dict[str, list[dict[str, str]]]) -> None:
    branches = {b["code"]: b for b in full["branches"]}
    for m in full["markets"]:
        MarketCreate.model_validate(
            m | {"polygon": None, "stalls": m["stalls"] or None, "approximate": m["approximate"]}
        )
        assert m["approximate"] == "true"
        assert float(m["radius_m"]) > 0
        assert branches[m["branch_code"]]["level"] == BranchLevel.county.value
    categories = {m["category"] for m in full["markets"]}
    assert categories == {c.value for c in MarketCategory}


def test_merchants_valid(small: dict[str, list[dict[str, str]]]) -> None:
    outlets = {b["code"] for b in small["branches"] if b["level"] == BranchLevel.outlet.value}
    staff = {s["username"]: s for s in small["staff"]}
    codes = [m["code"] for m in small["merchants"]]
    assert len(set(codes)) == len(codes)
    for m in small["merchants"]:
        MerchantCreate.model_validate(
            m | {"market_code": m["market_code"] or None, "lat": m["lat"], "lng": m["lng"]}
        )
        assert normalise_hours(m["opening_hours"]) == m["opening_hours"]
        assert m["status"] in {MerchantStatus.open.value, MerchantStatus.closed.value}
        assert m["branch_code"] in outlets
        assert staff[m["staff_username"]]["branch_code"] == m["branch_code"]
        assert staff[m["staff_username"]]["role"] == Role.field.value


def test_merchant_shares(full: dict[str, list[dict[str, str]]]) -> None:
    merchants = full["merchants"]
    closed = sum(m["status"] == MerchantStatus.closed.value for m in merchants)
    gcj = sum(m["coord_system"] == "gcj02" for m in merchants)
    assert 0.01 <= closed / len(merchants) <= 0.06
    assert 0.02 <= gcj / len(merchants) <= 0.08
    assert {m["coord_system"] for m in merchants} == {"wgs84", "gcj02"}


def test_market_merchants_lie_within_the_radius(full: dict[str, list[dict[str, str]]]) -> None:
    markets = {m["code"]: m for m in full["markets"]}
    in_market = [m for m in full["merchants"] if m["market_code"]]
    assert in_market
    for m in in_market:
        market = markets[m["market_code"]]
        centre = (float(market["lat"]), float(market["lng"]))
        assert distance_m(_wgs(m), centre) <= float(market["radius_m"]), m


def test_all_coordinates_near_linyi(full: dict[str, list[dict[str, str]]]) -> None:
    for kind in ("branches", "markets", "merchants"):
        for row in full[kind]:
            lat, lng = _wgs(row)
            assert LAT_RANGE[0] < lat < LAT_RANGE[1], (kind, row)
            assert LNG_RANGE[0] < lng < LNG_RANGE[1], (kind, row)


def test_terminals_deploy_to_distinct_open_merchants(
    full: dict[str, list[dict[str, str]]],
) -> None:
    merchants = {m["code"]: m for m in full["merchants"]}
    outlets = {b["code"] for b in full["branches"] if b["level"] == BranchLevel.outlet.value}
    sns = [t["sn"] for t in full["terminals"]]
    assert len(set(sns)) == len(sns)
    hosts: list[str] = []
    as_of = date(2026, 11, 28)
    for t in full["terminals"]:
        assert t["sn"].startswith("LY") and len(t["sn"]) == 12 and t["sn"][2:].isdigit()
        assert t["branch_code"] in outlets
        TerminalCreate.model_validate(
            t
            | {"merchant_code": t["merchant_code"] or None, "deployed_at": t["deployed_at"] or None}
        )
        if t["state"] == TerminalState.deployed.value:
            merchant = merchants[t["merchant_code"]]
            assert merchant["status"] == MerchantStatus.open.value
            assert t["branch_code"] == merchant["branch_code"]
            deployed = date.fromisoformat(t["deployed_at"])
            assert as_of - timedelta(days=3 * 366) <= deployed <= as_of
            hosts.append(t["merchant_code"])
        else:
            assert t["state"] == TerminalState.in_stock.value
            assert t["merchant_code"] == "" and t["deployed_at"] == ""
    assert len(set(hosts)) == len(hosts)


def test_as_of_bounds_deployment_dates(tmp_path: Path) -> None:
    as_of = date(2024, 1, 31)
    rows = _read(generate(tmp_path, scale=0.05, as_of=as_of)["terminals"])
    dates = [date.fromisoformat(t["deployed_at"]) for t in rows if t["deployed_at"]]
    assert dates and max(dates) <= as_of
    assert min(dates) >= as_of - timedelta(days=3 * 366)
