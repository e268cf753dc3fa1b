"""Export writes what import reads: export then import changes nothing, on CSV and XLSX."""

from __future__ import annotations

import csv
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete
from sqlmodel import Session

from fleet.auth import service as auth
from fleet.auth.models import ApiToken, User
from fleet.core.access import Role
from fleet.core.audit import AuditEntry
from fleet.core.errors import Invalid
from fleet.imports.service import KINDS, export_kind, import_file
from fleet.inventory import lifecycle
from fleet.inventory import service as inventory
from fleet.inventory.holders import MerchantHolder
from fleet.inventory.models import (
    Branch,
    BranchCreate,
    LifecycleEvent,
    Market,
    MarketCategory,
    MarketCreate,
    Merchant,
    MerchantCreate,
    MerchantStatus,
    Placement,
    Terminal,
    TerminalState,
)
from tests import factories as f
from tests.factories import SYSTEM
from tests.imports.util import audit_count, count, read_csv


def _world(session: Session, *, every_state: bool = True) -> None:
    """Two branches' worth of everything, plus the awkward cases an export must carry."""
    world = f.two_branches(session)
    inventory.create_branch(
        session,
        SYSTEM,
        BranchCreate(
            code="A0", name="未取整", parent_code="A", lat=35.123456789, lng=118.987654321
        ),
    )
    inventory.create_market(
        session,
        SYSTEM,
        MarketCreate(
            code="MKP",
            name="石材城",
            category=MarketCategory.stone,
            approximate=True,
            stalls=80,
            polygon=[[35.0, 118.0], [35.0, 118.0123456789], [35.0123456789, 118.0]],
        ),
    )
    inventory.create_merchant(
        session,
        SYSTEM,
        MerchantCreate(
            code="CX",
            name='=HYPERLINK("x")',
            branch_code="A1",
            lat=35.07,
            lng=118.37,
            phone="+86 139",
            category="五金, 工具",
            opening_hours="8:00-12:00,14:00-18:00",
            staff_username="field_a",
            status=MerchantStatus.closed,
        ),
    )
    inventory.create_merchant(
        session,
        SYSTEM,
        MerchantCreate(code="CY", name="没有坐标", branch_code="A1", address="没有坐标的地址"),
    )
    f.terminal(session, "SN-STOCK", "A1")
    if every_state:
        lifecycle.transition(
            session, SYSTEM, world.terminals["B1"], TerminalState.recovery_requested, reason="idle"
        )
    f.user(session, "marketing_b", Role.marketing, "B")
    session.flush()


def _export_all(session: Session, folder: Path, suffix: str) -> dict[str, Path]:
    paths = {kind: folder / f"{kind}{suffix}" for kind in KINDS}
    for kind, path in paths.items():
        export_kind(session, SYSTEM, kind, path)
    return paths


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_changes_nothing(session: Session, tmp_path: Path, suffix: str) -> None:
    _world(session)
    paths = _export_all(session, tmp_path, suffix)
    audits = audit_count(session)
    for kind in KINDS:
        report = import_file(session, SYSTEM, kind, paths[kind])
        changes = (report.created, report.updated, report.skipped, report.errors)
        assert changes == (0, 0, 0, []), kind
        assert report.unchanged == report.rows > 0
    assert audit_count(session) == audits


def test_an_export_loads_an_empty_database(session: Session, tmp_path: Path) -> None:
    _world(session, every_state=False)
    sizes = {kind: export_kind(session, SYSTEM, kind, tmp_path / f"{kind}.csv") for kind in KINDS}
    for model in (
        AuditEntry,
        LifecycleEvent,
        Placement,
        Terminal,
        MerchantHolder,
        Merchant,
        Market,
        ApiToken,
        User,
        Branch,
    ):
        session.execute(delete(model))
    for kind in KINDS:
        report = import_file(session, SYSTEM, kind, tmp_path / f"{kind}.csv")
        assert (kind, report.created) == (kind, sizes[kind])
    assert inventory.terminal_by_sn(session, SYSTEM, "SNA1").state is TerminalState.deployed
    (tmp_path / "again").mkdir()
    again = _export_all(session, tmp_path / "again", ".csv")
    for kind in KINDS:
        # The unrounded points come back rounded to 7 decimals, as every import does.
        first = (tmp_path / f"{kind}.csv").read_text(encoding="utf-8-sig")
        first = first.replace("35.123456789,118.987654321", "35.1234568,118.9876543")
        first = first.replace("0123456789", "0123457")
        assert again[kind].read_text(encoding="utf-8-sig") == first, kind


def test_export_columns_and_values(session: Session, tmp_path: Path) -> None:
    _world(session)
    assert export_kind(session, SYSTEM, "branches", tmp_path / "b.csv") == 6
    branches = read_csv(tmp_path / "b.csv")
    assert branches[0] == [
        "code",
        "name",
        "level",
        "parent_code",
        "address",
        "lat",
        "lng",
        "coord_system",
    ]
    assert [r[0] for r in branches[1:]] == ["LY", "A", "B", "A0", "A1", "B1"]  # parents first
    assert branches[4][5:] == ["35.123456789", "118.987654321", "wgs84"]

    export_kind(session, SYSTEM, "staff", tmp_path / "s.csv")
    staff = read_csv(tmp_path / "s.csv")
    assert staff[0][-1] == "password" and {r[-1] for r in staff[1:]} == {""}

    export_kind(session, SYSTEM, "markets", tmp_path / "m.csv")
    mkp = next(r for r in read_csv(tmp_path / "m.csv") if r[0] == "MKP")
    assert mkp[7] == "[[35.0,118.0],[35.0,118.0123456789],[35.0123456789,118.0]]"

    export_kind(session, SYSTEM, "terminals", tmp_path / "t.csv")
    terminals = {r[0]: r for r in read_csv(tmp_path / "t.csv")}
    assert terminals["sn"] == [
        "sn",
        "model",
        "branch_code",
        "state",
        "merchant_code",
        "deployed_at",
    ]
    assert terminals["SN-STOCK"][3:] == ["in_stock", "", ""]
    assert terminals["SNB1"][3:5] == ["recovery_requested", "CB1"]
    placed = lifecycle.placements(session, inventory.terminal_by_sn(session, SYSTEM, "SNA1"))[0]
    beijing = timezone(timedelta(hours=8))
    assert terminals["SNA1"][5] == placed.started_at.astimezone(beijing).strftime(
        "%Y-%m-%d %H:%M:%S"
    )


def test_xlsx_keeps_formula_like_text_as_text(session: Session, tmp_path: Path) -> None:
    _world(session)
    export_kind(session, SYSTEM, "merchants", tmp_path / "m.xlsx")
    sheet = load_workbook(tmp_path / "m.xlsx").worksheets[0]
    assert sheet.title == "merchants"
    names = [row[1].value for row in sheet.iter_rows(min_row=2)]
    assert '\'=HYPERLINK("x")' in names
    assert next(c for c in sheet["B"] if c.value == '\'=HYPERLINK("x")').data_type == "s"


def test_export_shows_only_what_the_actor_sees(session: Session, tmp_path: Path) -> None:
    _world(session)
    ops_a = auth.actor_for(session, _user(session, "branch_ops_a"))
    export_kind(session, ops_a, "merchants", tmp_path / "m.csv")
    assert sorted(r[0] for r in read_csv(tmp_path / "m.csv")[1:]) == ["CA1", "CX", "CY"]
    export_kind(session, ops_a, "markets", tmp_path / "k.csv")
    assert sorted(r[0] for r in read_csv(tmp_path / "k.csv")[1:]) == ["MKA1", "MKP"]
    with pytest.raises(Invalid, match=r"use a \.csv or \.xlsx file"):
        export_kind(session, SYSTEM, "merchants", tmp_path / "m.json")
    assert count(session, Merchant) == 4


def _user(session: Session, username: str) -> User:
    return inventory.staff_by_username(session, SYSTEM, username)


HOSTILE_NAMES = ['=HYPERLINK("http://x","a")', "+1", "@x", "-x", "\tlead", "'=quoted", "-12.5"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_formula_like_text_is_written_inert_and_imports_back_unchanged(
    session: Session, tmp_path: Path, suffix: str
) -> None:
    """OWASP's rule: a cell starting with = + - @ tab or CR gets a quote in front; import
    takes exactly that quote off again, and a negative number stays a number."""
    f.two_branches(session)
    for n, name in enumerate(HOSTILE_NAMES):
        inventory.create_merchant(
            session, SYSTEM, MerchantCreate(code=f"H{n}", name=name, branch_code="A1")
        )
    session.flush()
    path = tmp_path / f"m{suffix}"
    export_kind(session, SYSTEM, "merchants", path)
    if suffix == ".csv":
        lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
        written = {r[0]: r[1] for r in csv.reader(lines[1:])}
    else:
        sheet = load_workbook(path).worksheets[0]
        written = {r[0]: r[1] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert [written[f"H{n}"] for n in range(len(HOSTILE_NAMES))] == [
        '\'=HYPERLINK("http://x","a")',
        "'+1",
        "'@x",
        "'-x",
        "'\tlead",
        "''=quoted",
        "-12.5",
    ]
    report = import_file(session, SYSTEM, "merchants", path)
    assert (report.created, report.updated, report.errors) == (0, 0, [])
    assert report.unchanged == report.rows
    stored = [inventory.get_or_none(session, Merchant, code=f"H{n}") for n in range(7)]
    assert [m.name for m in stored if m] == HOSTILE_NAMES
