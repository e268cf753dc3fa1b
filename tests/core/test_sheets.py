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
        ('=HYPERLINK("http://evil")', "s"),
        ("bellshop", "s"),
        (42, "n"),
    ]
