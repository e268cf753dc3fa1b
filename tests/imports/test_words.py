"""Import in the pages' words: values as the pages show them (营业中, 已布放, 家电 …) are read
from the one catalogue, and every reason a row is refused is a code with values, said in
Chinese or English where it is shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session

from fleet.core.errors import BadValue
from fleet.core.i18n import texts_for
from fleet.imports.kinds import placement_start
from fleet.imports.service import import_file
from fleet.imports.values import local_text, moment
from fleet.inventory import service as inventory
from tests import factories as f
from tests.factories import SYSTEM
from tests.imports.util import write_csv

ZH, EN = texts_for("zh"), texts_for("en")


def test_chinese_words_of_the_pages_are_accepted(session: Session, tmp_path: Path) -> None:
    f.branch(session, "A1")
    markets = write_csv(
        tmp_path / "markets.csv",
        ["市场编号", "市场名称", "类别", "纬度", "经度", "半径米"],
        [["MK1", "兰山家电城", "家电", "35.06", "118.36", "300"]],
    )
    merchants = write_csv(
        tmp_path / "merchants.csv",
        ["商户编号", "商户名称", "所属网点编号", "状态"],
        [["C1", "老王五金", "A1", "营业中"], ["C2", "小李石材", "A1", "已关店"]],
    )
    terminals = write_csv(
        tmp_path / "terminals.csv",
        ["终端号", "所属网点编号", "状态", "商户编号"],
        [["SN1", "A1", "已布放", "C1"], ["SN2", "A1", "在库", ""]],
    )
    for kind, path in (("markets", markets), ("merchants", merchants), ("terminals", terminals)):
        assert import_file(session, SYSTEM, kind, path).created >= 1
    assert inventory.merchant_by_code(session, SYSTEM, "C1").status == "open"
    assert inventory.merchant_by_code(session, SYSTEM, "C2").status == "closed"
    deployed = inventory.terminal_by_sn(session, SYSTEM, "SN1")
    assert deployed.state == "deployed"


def test_every_reason_is_said_in_chinese_without_english(session: Session, tmp_path: Path) -> None:
    f.branch(session, "A1")
    path = write_csv(
        tmp_path / "merchants.csv",
        ["code", "name", "branch_code", "lat", "lng", "opening_hours", "status"],
        [
            ["C1", "", "A1", "abc", "118", "", ""],
            ["C2", "n", "ZZ", "35", "", "25:00-26:00", "busy"],
            ["C1", "n", "A1", "135", "118", "", ""],
            ["C3", "n", "ZZ", "", "", "", ""],
        ],
    )
    report = import_file(session, SYSTEM, "merchants", path, skip_bad=True)
    said = [(error.row, ZH.reason(error.reason)) for error in report.errors]
    assert (2, "必须填写") in said
    assert (2, "“abc”不是数字") in said
    assert (5, "未找到网点 ZZ") in said
    assert (3, "“busy”不是有效的商户状态，可填：营业中、已关店、已搬迁") in said
    assert (4, "C1 与第 2 行重复") in said
    assert (4, "应不大于 90（填的是 135）") in said
    for _, text in said:  # no English, only the file's own values
        for value in ("busy", "abc", "ZZ", "C1"):
            text = text.replace(value, "")
        assert not any("a" <= ch.lower() <= "z" for ch in text), text
    # In English pages the values are words too; the API and the rejects file give codes.
    english = [EN.reason(error.reason) for error in report.errors]
    busy = "'busy' is not a valid merchant status; use one of: "
    assert busy + "open, closed down, moved away" in english
    assert busy + "open, closed, moved" in [str(error.reason) for error in report.errors]


def test_dates_as_chinese_spreadsheets_and_the_pages_write_them(
    session: Session, tmp_path: Path
) -> None:
    """A CSV saved by Excel on Chinese Windows writes 2026/11/1 and 2026/11/1 9:05; the pages
    show 2026年11月1日; codes typed with the input method's full-width letters (ＬＹ０１) are the
    same codes. All were refused ("not a date", "branch ＬＹ０１ not found")."""
    f.branch(session, "A1")
    f.merchant(session, "C1", "A1")
    f.merchant(session, "C2", "A1")
    f.merchant(session, "C3", "A1")
    path = write_csv(
        tmp_path / "terminals.csv",
        ["终端号", "所属网点编号", "状态", "商户编号", "布放日期"],
        [
            ["SN1", "A1", "已布放", "C1", "2026/11/1"],
            ["SN2", "Ａ１", "已布放", "Ｃ２", "2026年11月2日"],
            ["SN3", "A1", "已布放", "C3", "2026/11/3 9:05"],
        ],
    )
    report = import_file(session, SYSTEM, "terminals", path, skip_bad=True)
    assert [str(e) for e in report.errors] == [] and report.created == 3
    placed = {
        sn: local_text(placement_start(session, inventory.terminal_by_sn(session, SYSTEM, sn)))  # type: ignore[arg-type]
        for sn in ("SN1", "SN2", "SN3")
    }
    assert placed == {
        "SN1": "2026-11-01 00:00:00",
        "SN2": "2026-11-02 00:00:00",
        "SN3": "2026-11-03 09:05:00",
    }
    assert inventory.terminal_by_sn(session, SYSTEM, "SN2").branch_id == (
        inventory.terminal_by_sn(session, SYSTEM, "SN1").branch_id
    )
    for wrong in ("2026/13/1", "2026年2月30日", "2026/11/1 25:00"):
        with pytest.raises(BadValue):
            moment(wrong)


def test_a_long_code_excel_turned_into_a_number_is_refused_with_what_to_do(
    session: Session, tmp_path: Path
) -> None:
    """A 15-digit merchant number (银联商户号) opened in Excel and saved as CSV becomes
    1.02370E+14, and in a workbook a number whose last digits are gone: stored, they were
    codes of no merchant (or, worse, another one's). Both are refused, saying what to do."""
    from openpyxl import Workbook

    f.branch(session, "A1")
    path = write_csv(
        tmp_path / "merchants.csv",
        ["商户编号", "商户名称", "所属网点编号"],
        [["1.02370E+14", "老王五金", "A1"], ["102370153990123", "小李石材", "A1"]],
    )
    report = import_file(session, SYSTEM, "merchants", path, skip_bad=True)
    assert report.created == 1
    assert [(e.row, e.column) for e in report.errors] == [(2, "code")]
    assert ZH.reason(report.errors[0].reason) == (
        "“1.02370E+14”是被 Excel 改成科学计数法的长数字，原来的编号已丢失："
        "请把该列设为“文本”后重新填写"
    )
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["商户编号", "商户名称", "所属网点编号"])
    sheet.append([1.0237015399012346e18, "张记建材", "A1"])  # as Excel keeps 19 digits
    workbook = tmp_path / "merchants.xlsx"
    book.save(workbook)
    report = import_file(session, SYSTEM, "merchants", workbook, skip_bad=True)
    assert report.created == 0 and [(e.row, e.column) for e in report.errors] == [(2, "code")]
