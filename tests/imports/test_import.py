"""Importing good files: every kind, Chinese headers in GBK, XLSX, coordinates, re-imports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from fleet.auth import service as auth
from fleet.auth.models import User
from fleet.core.access import Role
from fleet.core.audit import AuditEntry
from fleet.core.errors import Invalid
from fleet.core.geo import gcj02_to_bd09
from fleet.imports.service import KINDS, import_file
from fleet.inventory import lifecycle
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch, Market, Merchant, Terminal, TerminalState
from tests import factories as f
from tests.factories import SYSTEM
from tests.imports.util import audit_count, count, outcome, write_csv, write_xlsx

WGS = (31.1774276, 121.5272106)
GCJ = (31.17530398364597, 121.531541859215)


def test_kinds_are_listed_in_load_order() -> None:
    assert KINDS == ("branches", "staff", "markets", "merchants", "terminals")


def test_branches_csv_builds_the_tree_parents_first(session: Session, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "branches.csv",
        ["code", "name", "level", "parent_code", "address", "lat", "lng"],
        [
            ["LY", "临沂分行", "city", "", "", "", ""],
            ["A", "兰山支行", "county", "LY", "", "", ""],
            ["A1", "兰山网点", "outlet", "A", "临沂市兰山区1号", "35.05", "118.35"],
        ],
    )
    report = import_file(session, SYSTEM, "branches", path)
    assert (report.rows, *outcome(report)) == (3, 3, 0, 0, 0)
    assert report.errors == [] and report.rejects_path is None
    a1 = inventory.branch_by_code(session, SYSTEM, "A1")
    assert a1.parent_id == inventory.branch_by_code(session, SYSTEM, "A").id
    assert (a1.lat, a1.lng, a1.address) == (35.05, 118.35, "临沂市兰山区1号")
    assert audit_count(session) == 3  # one audited create per row


def test_staff_csv_sets_passwords_only_where_given(session: Session, tmp_path: Path) -> None:
    f.branch(session, "A1")
    path = write_csv(
        tmp_path / "staff.csv",
        ["username", "full_name", "role", "branch_code", "phone", "language", "password"],
        [
            ["zhang", "张三", "客户经理", "A1", "13800000000", "zh", "s3cret-pass"],
            ["li", "李四", "branch_ops", "A1", "", "en", ""],
        ],
    )
    report = import_file(session, SYSTEM, "staff", path)
    assert outcome(report) == (2, 0, 0, 0)
    zhang = auth.authenticate(session, "zhang", "s3cret-pass")
    assert (zhang.role, zhang.full_name, zhang.phone) == (Role.field, "张三", "13800000000")
    li = inventory.staff_by_username(session, SYSTEM, "li")
    assert li.hashed_password is None and li.language == "en" and li.role is Role.branch_ops


def test_password_on_an_existing_user_is_ignored(session: Session, tmp_path: Path) -> None:
    f.branch(session, "A1")
    user = f.user(session, "zhang", Role.field, "A1")
    stored_hash = user.hashed_password
    path = write_csv(
        tmp_path / "staff.csv",
        ["username", "branch_code", "role", "password"],
        [["zhang", "A1", "field", "x"]],
    )  # too short, and ignored anyway
    report = import_file(session, SYSTEM, "staff", path)
    assert outcome(report) == (0, 0, 1, 0)
    assert user.hashed_password == stored_hash


def test_markets_csv_with_radius_or_polygon(session: Session, tmp_path: Path) -> None:
    f.branch(session, "A1")
    polygon = "[[35.0,118.0],[35.0,118.01],[35.01,118.01]]"
    path = write_csv(
        tmp_path / "markets.csv",
        [
            "code",
            "name",
            "category",
            "lat",
            "lng",
            "radius_m",
            "polygon",
            "stalls",
            "approximate",
            "address",
            "branch_code",
        ],
        [
            ["MK1", "五金城", "五金", "35.06", "118.36", "400", "", "120", "是", "", "A1"],
            ["MK2", "石材市场", "stone", "", "", "", polygon, "", "false", "", ""],
        ],
    )
    report = import_file(session, SYSTEM, "markets", path)
    assert outcome(report) == (2, 0, 0, 0)
    mk1 = inventory.market_by_code(session, SYSTEM, "MK1")
    assert (mk1.category.value, mk1.radius_m, mk1.stalls, mk1.approximate) == (
        "hardware",
        400.0,
        120,
        True,
    )
    assert mk1.branch_id == inventory.branch_by_code(session, SYSTEM, "A1").id
    mk2 = inventory.market_by_code(session, SYSTEM, "MK2")
    assert mk2.polygon == [[35.0, 118.0], [35.0, 118.01], [35.01, 118.01]]
    assert mk2.branch_id is None and mk2.approximate is False


def test_merchants_csv_links_market_and_staff(session: Session, tmp_path: Path) -> None:
    f.branch(session, "A1")
    f.market(session, "MK1", "A1")
    f.user(session, "zhang", Role.field, "A1")
    path = write_csv(
        tmp_path / "merchants.csv",
        [
            "code",
            "name",
            "category",
            "address",
            "lat",
            "lng",
            "opening_hours",
            "contact_name",
            "phone",
            "status",
            "branch_code",
            "market_code",
            "staff_username",
        ],
        [
            [
                "C1",
                "老王五金",
                "五金",
                "五金城A区3号",
                "35.06",
                "118.36",
                "8:00 - 18:00",
                "王",
                "0539-1234",
                "营业",
                "A1",
                "MK1",
                "zhang",
            ],
            ["C2", "小李石材", "", "", "35.5", "118.9", "", "", "", "停业", "A1", "", ""],
        ],
    )
    report = import_file(session, SYSTEM, "merchants", path)
    assert outcome(report) == (2, 0, 0, 0)
    c1 = inventory.merchant_by_code(session, SYSTEM, "C1")
    assert c1.opening_hours == "08:00-18:00" and c1.status.value == "open"
    assert c1.market_id == inventory.market_by_code(session, SYSTEM, "MK1").id
    assert c1.staff_id == inventory.staff_by_username(session, SYSTEM, "zhang").id
    c2 = inventory.merchant_by_code(session, SYSTEM, "C2")
    assert (c2.status.value, c2.category, c2.opening_hours, c2.market_id) == (
        "closed",
        "other",
        "08:00-18:00",
        None,
    )


def test_terminals_csv_in_stock_and_deployed(session: Session, tmp_path: Path) -> None:
    f.branch(session, "A1")
    f.merchant(session, "C1", "A1")
    path = write_csv(
        tmp_path / "terminals.csv",
        ["sn", "model", "branch_code", "state", "merchant_code", "deployed_at"],
        [
            ["SN1", "T100", "A1", "", "", ""],
            ["SN2", "T100", "A1", "deployed", "C1", "2024-05-31 08:30"],
            ["SN3", "T200", "A1", "", "C1", "2024-06-01"],
        ],
    )
    report = import_file(session, SYSTEM, "terminals", path)
    assert outcome(report) == (3, 0, 0, 0)
    sn1, sn2, sn3 = (inventory.terminal_by_sn(session, SYSTEM, sn) for sn in ("SN1", "SN2", "SN3"))
    assert sn1.state is TerminalState.in_stock and sn1.merchant_id is None
    assert sn2.state is TerminalState.deployed and sn3.state is TerminalState.deployed
    # No offset means Beijing time: 08:30 +08:00 is 00:30 UTC.
    assert lifecycle.placements(session, sn2)[0].started_at == datetime(
        2024, 5, 31, 0, 30, tzinfo=UTC
    )
    assert lifecycle.placements(session, sn3)[0].started_at == datetime(
        2024, 5, 31, 16, 0, tzinfo=UTC
    )


def test_chinese_headers_in_a_gbk_file(session: Session, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "网点.csv",
        ["机构号", "机构名称", "层级", "上级机构号", "地址", "纬度", "经度", "坐标系"],
        [
            ["LY", "临沂分行", "分行", "", "临沂市", "", "", ""],
            ["A", "兰山支行", "支行", "LY", "兰山区", "", "", ""],
            ["A1", "兰山营业部", "网点", "A", "兰山区", "35.05", "118.35", "WGS84"],
        ],
        encoding="gbk",
    )
    report = import_file(session, SYSTEM, "branches", path)
    assert outcome(report) == (3, 0, 0, 0)
    assert [
        b.level.value
        for b in (inventory.branch_by_code(session, SYSTEM, c) for c in ("LY", "A", "A1"))
    ] == ["city", "county", "outlet"]
    assert inventory.branch_by_code(session, SYSTEM, "A").name == "兰山支行"


def test_headers_ignore_case_spaces_and_a_bom(session: Session, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "b.csv",
        [" Code ", "NAME", "Parent Code"],
        [["LY", "临沂", ""]],
        encoding="utf-8-sig",
    )
    assert import_file(session, SYSTEM, "branches", path).created == 1


def test_xlsx_with_typed_cells(session: Session, tmp_path: Path) -> None:
    f.branch(session, "A1")
    f.merchant(session, "1001", "A1")
    path = write_xlsx(
        tmp_path / "terminals.xlsx",
        ["终端号", "型号", "所属网点编号", "状态", "商户编号", "布放日期"],
        [
            ["SN1", "T100", "A1", None, 1001, datetime(2024, 5, 31, 8, 30)],
            [900001, "T100", "A1", "in_stock", None, None],
            [None, None, None, None, None, None],  # blank rows are left out
        ],
    )
    report = import_file(session, SYSTEM, "terminals", path)
    assert (report.rows, *outcome(report)) == (2, 2, 0, 0, 0)
    sn1 = inventory.terminal_by_sn(session, SYSTEM, "SN1")
    assert sn1.merchant_id == inventory.merchant_by_code(session, SYSTEM, "1001").id
    assert inventory.terminal_by_sn(session, SYSTEM, "900001").state is TerminalState.in_stock


def test_filename_decides_the_format(session: Session, tmp_path: Path) -> None:
    upload = write_csv(tmp_path / "upload.tmp", ["code", "name"], [["LY", "临沂"]])
    report = import_file(session, SYSTEM, "branches", upload, filename="branches.CSV")
    assert report.created == 1
    with pytest.raises(Invalid, match=r"use a \.csv or \.xlsx file"):
        import_file(session, SYSTEM, "branches", upload)
    with pytest.raises(Invalid, match="unknown kind 'shops'"):
        import_file(session, SYSTEM, "shops", upload, filename="x.csv")


@pytest.mark.parametrize(
    ("datum", "point", "tolerance"),
    [
        ("gcj02", GCJ, 0.0),
        ("GCJ-02", GCJ, 0.0),
        ("bd09", gcj02_to_bd09(*GCJ), 1e-6),  # BD-09 formulas round-trip to ~5 cm
        ("wgs84", WGS, 0.0),
    ],
)
def test_coordinates_are_stored_as_wgs84(
    session: Session, tmp_path: Path, datum: str, point: tuple[float, float], tolerance: float
) -> None:
    path = write_csv(
        tmp_path / "b.csv",
        ["code", "name", "lat", "lng", "coord_system"],
        [["SH", "上海", repr(point[0]), repr(point[1]), datum]],
    )
    import_file(session, SYSTEM, "branches", path)
    branch = inventory.branch_by_code(session, SYSTEM, "SH")
    assert branch.lat == pytest.approx(WGS[0], abs=tolerance)
    assert branch.lng == pytest.approx(WGS[1], abs=tolerance)
    assert round(branch.lat or 0, 7) == branch.lat  # rounded to 7 decimals


def test_market_polygon_is_converted_too(session: Session, tmp_path: Path) -> None:
    polygon = f"[[{GCJ[0]},{GCJ[1]}],[{GCJ[0]},{GCJ[1] + 0.01}],[{GCJ[0] + 0.01},{GCJ[1]}]]"
    path = write_csv(
        tmp_path / "m.csv",
        ["code", "name", "polygon", "coord_system"],
        [["MK", "市场", polygon, "gcj02"]],
    )
    import_file(session, SYSTEM, "markets", path)
    market = inventory.market_by_code(session, SYSTEM, "MK")
    assert market.polygon is not None and market.polygon[0] == list(WGS)


def test_reimporting_a_file_changes_nothing(session: Session, tmp_path: Path) -> None:
    f.branch(session, "A1")
    path = write_csv(
        tmp_path / "merchants.csv",
        ["code", "name", "branch_code", "lat", "lng", "coord_system", "opening_hours"],
        [
            ["C1", "老王五金", "A1", repr(GCJ[0]), repr(GCJ[1]), "gcj02", "8:00-18:00"],
            ["C2", "小李石材", "A1", "", "", "", ""],
        ],
    )
    first = import_file(session, SYSTEM, "merchants", path)
    audits = audit_count(session)
    again = import_file(session, SYSTEM, "merchants", path)
    assert outcome(first) == (2, 0, 0, 0)
    assert (again.rows, *outcome(again)) == (2, 0, 0, 2, 0)
    assert audit_count(session) == audits


def test_update_writes_only_changed_cells_and_keeps_blank_ones(
    session: Session, tmp_path: Path
) -> None:
    f.branch(session, "A1")
    f.merchant(session, "C1", "A1", phone="0539-1", contact_name="王")
    path = write_csv(
        tmp_path / "m.csv",
        ["code", "name", "branch_code", "phone", "contact_name"],
        [["C1", "新名字", "A1", "", "王"]],
    )
    report = import_file(session, SYSTEM, "merchants", path)
    assert outcome(report) == (0, 1, 0, 0)
    merchant = inventory.merchant_by_code(session, SYSTEM, "C1")
    assert (merchant.name, merchant.phone, merchant.lat) == ("新名字", "0539-1", 35.07)
    updates = select(AuditEntry).where(AuditEntry.action == "update")
    entries = [e for e in session.exec(updates).all() if e.entity_id == "C1"]
    assert [e.changes for e in entries] == [{"name": ["商户C1", "新名字"]}]


def test_branch_parent_defined_earlier_in_the_same_file(session: Session, tmp_path: Path) -> None:
    f.branch(session, "LY", level="city")
    path = write_csv(
        tmp_path / "b.csv",
        ["code", "name", "parent_code"],
        [["A", "兰山", "LY"], ["A1", "兰山一", "A"], ["A2", "兰山二", "A"]],
    )
    assert import_file(session, SYSTEM, "branches", path).created == 3
    assert count(session, Branch) == 4


def test_terminal_model_and_branch_update_but_state_goes_through_lifecycle(
    session: Session, tmp_path: Path
) -> None:
    f.branch(session, "A1")
    f.branch(session, "A2")
    f.merchant(session, "C1", "A1")
    terminal = f.terminal(session, "SN1", "A1", "C1")
    path = write_csv(
        tmp_path / "t.csv",
        ["sn", "model", "branch_code", "state", "merchant_code"],
        [["SN1", "T200", "A2", "deployed", "C1"]],
    )
    assert outcome(import_file(session, SYSTEM, "terminals", path)) == (0, 1, 0, 0)
    assert (terminal.model, terminal.branch_id) == (
        "T200",
        inventory.branch_by_code(session, SYSTEM, "A2").id,
    )
    lifecycle.transition(session, SYSTEM, terminal, TerminalState.recovery_requested)
    # The file still says deployed: refused, with the way to do it.
    with pytest.raises(Invalid) as caught:
        import_file(session, SYSTEM, "terminals", path)
    [error] = caught.value.details["errors"]
    assert (error["row"], error["column"]) == (2, "state")
    assert error["reason"] == (
        f"terminal SN1 is recovery_requested, not deployed; state changes go through the "
        f"lifecycle: POST /api/v1/terminals/{terminal.id}/transitions"
    )
    assert terminal.state is TerminalState.recovery_requested


def test_rows_count_every_outcome(session: Session, tmp_path: Path) -> None:
    f.branch(session, "A1")
    f.branch(session, "A2")
    path = write_csv(
        tmp_path / "b.csv",
        ["code", "name"],
        [["A1", "网点A1"], ["A2", "改名"], ["A3", "新"], ["", ""], ["A4", ""]],
    )
    report = import_file(session, SYSTEM, "branches", path, skip_bad=True)
    assert (report.rows, *outcome(report)) == (4, 1, 1, 1, 1)
    assert report.rows == report.created + report.updated + report.unchanged + report.skipped
    assert count(session, User) == 0 and count(session, Market) == 0
    assert count(session, Merchant) == 0 and count(session, Terminal) == 0
