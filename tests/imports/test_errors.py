"""Bad files: every bad row reported, nothing written; or, with skip_bad, a rejects file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from fleet.auth import service as auth
from fleet.core.access import Role
from fleet.core.errors import Forbidden, Invalid
from fleet.imports.service import RowError, import_file
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch, Merchant, Terminal
from tests import factories as f
from tests.factories import SYSTEM
from tests.imports.util import audit_count, count, outcome, read_csv, write_csv

HEADER = [
    "code",
    "name",
    "branch_code",
    "lat",
    "lng",
    "coord_system",
    "opening_hours",
    "status",
    "market_code",
]
ROWS = [
    ["C1", "老王五金", "A1", "35.06", "118.36", "", "", "", "MK1"],
    ["C2", "", "A1", "abc", "118", "", "", "", ""],
    ["C3", "n", "ZZ", "", "", "", "", "", ""],
    ["C4", "n", "A1", "35", "", "", "", "", ""],
    ["C5", "n", "A1", "", "", "", "25:00-26:00", "", ""],
    ["C6", "n", "A1", "", "", "", "", "busy", ""],
    ["C1", "again", "A1", "", "", "", "", "", ""],
    ["C7", "n", "A1", "31", "121", "mars", "", "", ""],
    ["C8", "n", "A1", "", "", "", "", "", "MK9"],
    ["C9", "n", "A1", "135", "118", "", "", "", ""],
    ["C10", "小李石材", "A1", "", "", "", "", "停业", ""],
]
EXPECTED = [
    (3, "name", "a value is required"),
    (3, "lat", "'abc' is not a number"),
    (4, "branch_code", "branch ZZ not found"),
    (5, "lng", "lng is missing while lat is given"),
    (6, "opening_hours", "opening hours '25:00-26:00' hold an impossible time"),
    (7, "status", "'busy' is not a valid merchant status; use one of: open, closed, moved"),
    (8, "code", "code C1 already appears on row 2"),
    (9, "coord_system", "unknown coordinate system 'mars'; use wgs84, gcj02 or bd09"),
    (10, "market_code", "market MK9 not found"),
    (11, "lat", "input should be less than or equal to 90 (got 135)"),
]


@pytest.fixture
def outlet(session: Session) -> Branch:
    branch = f.branch(session, "A1")
    f.market(session, "MK1", "A1")
    return branch


def test_a_bad_file_imports_nothing_and_reports_every_bad_row(
    session: Session, tmp_path: Path, outlet: Branch
) -> None:
    path = write_csv(tmp_path / "merchants.csv", HEADER, ROWS)
    audits = audit_count(session)
    with pytest.raises(Invalid) as caught:
        import_file(session, SYSTEM, "merchants", path)
    error = caught.value
    assert error.message == (
        "merchants.csv: 9 of 11 rows have errors, so nothing was imported; "
        "first: row 3, column name: a value is required"
    )
    assert [(e["row"], e["column"], e["reason"]) for e in error.details["errors"]] == EXPECTED
    # The counts say what the good rows would have done; nothing was written.
    assert (error.details["rows"], error.details["created"], error.details["bad_rows"]) == (
        11,
        2,
        9,
    )
    assert count(session, Merchant) == 0
    assert audit_count(session) == audits


def test_skip_bad_imports_the_good_rows_and_writes_rejects(
    session: Session, tmp_path: Path, outlet: Branch
) -> None:
    path = write_csv(tmp_path / "merchants.csv", HEADER, ROWS)
    rejects = tmp_path / "rejects.csv"
    report = import_file(session, SYSTEM, "merchants", path, skip_bad=True, rejects_path=rejects)
    assert (report.rows, *outcome(report)) == (11, 2, 0, 0, 9)
    assert [(e.row, e.column, str(e.reason)) for e in report.errors] == EXPECTED
    assert report.rejects_path == str(rejects)
    assert sorted(m.code for m in session.exec(select(Merchant)).all()) == ["C1", "C10"]
    assert rejects.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads UTF-8
    lines = read_csv(rejects)
    assert lines[0] == [*HEADER, "row", "column", "reason"]
    assert lines[1] == [*ROWS[1], "3", "name; lat", "a value is required; 'abc' is not a number"]
    assert [line[-3] for line in lines[1:]] == ["3", "4", "5", "6", "7", "8", "9", "10", "11"]


def test_a_corrected_rejects_file_imports_as_it_is(
    session: Session, tmp_path: Path, outlet: Branch
) -> None:
    path = write_csv(tmp_path / "merchants.csv", HEADER, ROWS[:3])
    rejects = tmp_path / "rejects.csv"
    import_file(session, SYSTEM, "merchants", path, skip_bad=True, rejects_path=rejects)
    lines = read_csv(rejects)
    lines[1][1], lines[1][3] = "修好了", "35.1"  # name and lat of C2
    lines[2][2] = "A1"  # branch of C3
    fixed = write_csv(tmp_path / "fixed.csv", lines[0], lines[1:])
    report = import_file(session, SYSTEM, "merchants", fixed)
    assert outcome(report) == (2, 0, 0, 0)
    assert inventory.merchant_by_code(session, SYSTEM, "C2").name == "修好了"


def test_skip_bad_without_bad_rows_writes_an_empty_rejects_file(
    session: Session, tmp_path: Path, outlet: Branch
) -> None:
    path = write_csv(tmp_path / "merchants.csv", HEADER, ROWS[:1])
    rejects = tmp_path / "rejects.csv"
    rejects.write_text("stale")
    report = import_file(session, SYSTEM, "merchants", path, skip_bad=True, rejects_path=rejects)
    assert report.skipped == 0 and read_csv(rejects) == [[*HEADER, "row", "column", "reason"]]


def test_header_problems_are_row_1(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "b.csv", ["code", "nmae", "网点编号"], [["A", "x", "A"]])
    with pytest.raises(Invalid) as caught:
        import_file(session, SYSTEM, "branches", path, skip_bad=True)
    assert [RowError(**e) for e in caught.value.details["errors"]] == [
        RowError(
            1,
            "nmae",
            "unknown column 'nmae' for branches; known: code (网点编号), name (网点名称), "
            "level (层级), parent_code (上级网点编号), address (地址), lat (纬度), lng (经度), "
            "coord_system (坐标系)",
        ),
        RowError(1, "网点编号", "column code (网点编号) appears twice ('code' and '网点编号')"),
        RowError(1, "name", "required column name (网点名称) is missing"),
    ]
    assert caught.value.message == (
        "b.csv: row 1, column nmae: unknown column 'nmae' for branches; known: code (网点编号), "
        "name (网点名称), level (层级), parent_code (上级网点编号), address (地址), lat (纬度), "
        "lng (经度), coord_system (坐标系) (and 2 more problem(s) with the header)"
    )
    assert count(session, Branch) == 0


def test_values_under_a_blank_header_are_not_lost(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "b.csv", ["code", "name", ""], [["A", "x", "oops"], ["B", "y"]])
    report = import_file(session, SYSTEM, "branches", path, skip_bad=True)
    assert [str(e) for e in report.errors] == [
        "row 2: cell C2 has a value but its column has no header"
    ]
    assert report.created == 1


def test_empty_and_unreadable_files(session: Session, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(Invalid, match="the first row must name the columns"):
        import_file(session, SYSTEM, "branches", empty)
    fake = tmp_path / "fake.xlsx"
    fake.write_text("code,name\n")
    with pytest.raises(Invalid, match=r"cannot read fake\.xlsx as an XLSX workbook"):
        import_file(session, SYSTEM, "branches", fake)
    with pytest.raises(Invalid, match=r"save it from Excel as \.xlsx"):
        import_file(session, SYSTEM, "branches", fake, filename="old.xls")


def test_a_parent_later_in_the_file_is_named(session: Session, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "b.csv",
        ["code", "name", "parent_code"],
        [["A1", "网点", "A"], ["A", "支行", "LY"], ["LY", "分行", ""]],
    )
    report = import_file(session, SYSTEM, "branches", path, skip_bad=True)
    assert [str(e) for e in report.errors] == [
        "row 2, column parent_code: branch A not found; it is on row 3: put it before the rows "
        "that refer to it",
        "row 3, column parent_code: branch LY not found; it is on row 4: put it before the rows "
        "that refer to it",
    ]
    assert report.created == 1


def test_a_child_of_a_bad_row_says_so(session: Session, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "b.csv",
        ["code", "name", "level", "parent_code"],
        [["A", "支行", "town", ""], ["A1", "网点", "outlet", "A"]],
    )
    with pytest.raises(Invalid) as caught:
        import_file(session, SYSTEM, "branches", path)
    assert [e["reason"] for e in caught.value.details["errors"]] == [
        "'town' is not a valid level; use one of: city, county, outlet",
        "branch A not found; its row 2 has errors",
    ]


def test_terminal_rows_that_contradict_themselves(session: Session, tmp_path: Path) -> None:
    f.branch(session, "A1")
    f.merchant(session, "C1", "A1")
    f.merchant(session, "SHUT", "A1", status="closed")
    path = write_csv(
        tmp_path / "t.csv",
        ["sn", "branch_code", "state", "merchant_code", "deployed_at"],
        [
            ["SN1", "A1", "faulty", "", ""],
            ["SN2", "A1", "in_stock", "C1", ""],
            ["SN3", "A1", "deployed", "", ""],
            ["SN4", "A1", "", "C1", "2999-01-01"],
            ["SN5", "A1", "", "", "2024-01-01"],
            ["SN6", "A1", "deployed", "SHUT", ""],
            ["SN7", "A1", "", "", "31/12/2024"],
        ],
    )
    with pytest.raises(Invalid) as caught:
        import_file(session, SYSTEM, "terminals", path)
    assert [str(RowError(**e)) for e in caught.value.details["errors"]] == [
        "row 2, column state: a new terminal starts in_stock or deployed; faulty is reached "
        "through the lifecycle after it is registered",
        "row 3, column merchant_code: a terminal that is in_stock is at no merchant; leave "
        "merchant_code empty",
        "row 4, column merchant_code: a deployed terminal needs merchant_code",
        "row 5, column deployed_at: deployed_at is in the future",
        "row 6, column deployed_at: deployed_at needs merchant_code",
        "row 7: merchant SHUT is closed; place units only with open merchants",
        "row 8, column deployed_at: '31/12/2024' is not a date or date-time (use 2024-05-31 or "
        "2024-05-31 14:30)",
    ]
    assert count(session, Terminal) == 0


def test_scope_and_permissions_apply(session: Session, tmp_path: Path) -> None:
    world = f.two_branches(session)
    ops_a = auth.actor_for(session, world.users["branch_ops_a"])
    path = write_csv(
        tmp_path / "m.csv",
        ["code", "name", "branch_code"],
        [["NEW", "新商户", "B1"], ["CB1", "别人的", "A1"], ["CA1", "自己的", "A1"]],
    )
    report = import_file(session, ops_a, "merchants", path, skip_bad=True)
    assert [str(e) for e in report.errors] == [
        "row 2, column branch_code: branch B1 not found",
        "row 3, column code: merchant CB1 already exists outside your branches",
    ]
    assert outcome(report) == (0, 1, 0, 2)
    field = auth.actor_for(session, world.users["field_a"])
    with pytest.raises(Forbidden):
        import_file(session, field, "merchants", path)
    with pytest.raises(Forbidden):  # branch_ops may import, but not branches
        import_file(session, ops_a, "branches", path)
    assert auth.actor_for(session, world.users["admin"]).role is Role.admin
