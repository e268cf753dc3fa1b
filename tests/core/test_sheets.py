"""Every workbook fleet writes keeps text as text and survives control characters."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from fleet.core import sheets


@pytest.mark.parametrize("write_only", [False, True])
def test_text_is_never_a_formula_and_control_characters_go(
    tmp_path: Path, write_only: bool
) -> None:
    workbook = Workbook(write_only=write_only)
    sheet = workbook.create_sheet("s") if write_only else workbook.active
    sheets.append(sheet, ['=HYPERLINK("http://evil")', "bell\x07shop", 42, None])
    path = tmp_path / "out.xlsx"
    workbook.save(path)
    row = next(load_workbook(path)["s" if write_only else "Sheet"].iter_rows())
    assert [(c.value, c.data_type) for c in row[:3]] == [
        ('\'=HYPERLINK("http://evil")', "s"),
        ("bellshop", "s"),
        (42, "n"),
    ]


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ('=HYPERLINK("http://x","a")', '\'=HYPERLINK("http://x","a")'),
        ("+1", "'+1"),
        ("@x", "'@x"),
        ("-x", "'-x"),
        ("\tlead", "'\tlead"),
        ("\rcr", "'\rcr"),
        ("'=x", "''=x"),
        ("'plain", "'plain"),
        ("-12.5", "-12.5"),
        ("-1e5", "-1e5"),
        ("商户", "商户"),
        ("", ""),
    ],
)
def test_inert_quotes_live_cells_and_uninert_undoes_exactly_that(text: str, written: str) -> None:
    assert sheets.inert(text) == written
    assert sheets.uninert(written) == text


def test_every_csv_writer_of_fleet_writes_inert_cells() -> None:
    """One writer for every CSV fleet writes: none calls csv.writer itself."""
    package = Path(sheets.__file__).parents[1]
    direct = [
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        if p.name != "sheets.py"
        and any(w in p.read_text(encoding="utf-8") for w in ("csv.writer(", "csv.DictWriter("))
    ]
    assert direct == []
