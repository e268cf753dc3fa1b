"""Writing rows into spreadsheets (CSV and Excel) safely: the one rule for every file fleet
writes (exports, rejects files, revisit lists, campaign reports).

Text is always inert: a cell that starts with "=", "+", "-", "@", a tab or a carriage return
is written with a single quote in front (OWASP's rule against formula injection), so that a
merchant named `=HYPERLINK(…)` is never run by Excel when a user opens the file. A text that
already starts with quotes before one of those characters gets one more, so that reading a
file back (`uninert`, used by import) gives back exactly the text that was written. Numbers
stay numbers: a value of a numeric type is never quoted, nor is a text that is a plain
negative number (`-12.5`), which Excel reads as a number, not a formula. Control characters
(which arrive from feeds and API calls) are dropped from Excel cells, because openpyxl
refuses the whole file over one of them. A moment with its time zone (as the database keeps
them, in UTC) is written as Beijing time, the day and hour the pages show.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from fleet.core.i18n import local_moment

# What makes a cell a formula in Excel, LibreOffice or Google Sheets, after any quotes.
_LIVE = re.compile(r"'*[=+\-@\t\r]")
_QUOTED = re.compile(r"'+[=+\-@\t\r]")
_NEGATIVE_NUMBER = re.compile(r"-\d+(\.\d+)?([eE][+-]?\d+)?")


def inert(value: str) -> str:
    """`value` as a cell that no spreadsheet runs as a formula."""
    if _LIVE.match(value) and not _NEGATIVE_NUMBER.fullmatch(value):
        return "'" + value
    return value


def uninert(value: str) -> str:
    """The text `inert` was given: drops the one quote it adds."""
    return value[1:] if _QUOTED.match(value) else value


def local(value: Any) -> Any:
    """A zoned moment as Beijing wall-clock time (spreadsheets keep no zone); else `value`."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return local_moment(value).replace(tzinfo=None)
    return value


def csv_cell(value: Any) -> Any:
    """`value` ready for a CSV writer: text made inert, a moment in Beijing time."""
    return inert(value) if isinstance(value, str) else local(value)


class InertWriter:
    """A `csv.writer` whose every text cell goes through `inert`."""

    def __init__(self, out: Any, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: Any, **options: Any) -> InertWriter:
    """The CSV writer for every file fleet writes (see the module's docstring)."""
    return InertWriter(out, **options)


def cell(worksheet: Any, value: Any) -> Any:
    """`value` ready for `worksheet.append` (a write-only sheet or an ordinary one)."""
    if not isinstance(value, str):
        return local(value)
    value = inert(ILLEGAL_CHARACTERS_RE.sub("", value))
    if not value.startswith("="):
        return value
    text = WriteOnlyCell(worksheet, value=value)
    text.data_type = "s"
    return text


def append(worksheet: Any, values: Iterable[Any]) -> None:
    """Appends one row, each value through `cell`."""
    worksheet.append([cell(worksheet, value) for value in values])
