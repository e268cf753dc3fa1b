"""Writing rows into Excel sheets (openpyxl) safely: the one rule for every workbook fleet
writes (exports, revisit lists, campaign reports).

Text is always text: a merchant name that starts with "=" is stored as a string, never as a
formula that Excel would run when the file is opened. Control characters (which arrive from
feeds and API calls) are dropped from the cell, because openpyxl refuses the whole file over
one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE


def cell(worksheet: Any, value: Any) -> Any:
    """`value` ready for `worksheet.append` (a write-only sheet or an ordinary one)."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not value.startswith("="):
        return value
    text = WriteOnlyCell(worksheet, value=value)
    text.data_type = "s"
    return text


def append(worksheet: Any, values: Iterable[Any]) -> None:
    """Appends one row, each value through `cell`."""
    worksheet.append([cell(worksheet, value) for value in values])
