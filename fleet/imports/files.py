"""Reading and writing tables as CSV (UTF-8 or GBK) or XLSX (the first sheet)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from fleet.core import sheets
from fleet.core.errors import Invalid
from fleet.imports.values import cell_text

FORMATS = (".csv", ".xlsx")


@dataclass
class Table:
    headers: list[str]
    # (row number as the user sees it, cells); the header is row 1, blank rows are left out.
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def file_format(name: str) -> str:
    """ ".csv" or ".xlsx" from a file name; Invalid for anything else."""
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        if suffix == ".xls":
            raise Invalid(
                "cannot read {file}: use a .csv or .xlsx file (save it from Excel as .xlsx)",
                file=repr(name),
            )
        raise Invalid("cannot read {file}: use a .csv or .xlsx file", file=repr(name))
    return suffix


def read_table(path: Path, name: str) -> Table:
    """The header and the non-blank rows of a CSV or XLSX file."""
    rows = _read_xlsx(path, name) if file_format(name) == ".xlsx" else _read_csv(path, name)
    numbered = [(number, cells) for number, cells in enumerate(rows, start=1)]
    if not numbered or not any(numbered[0][1]):
        raise Invalid("{file}: the first row must name the columns, and it is empty", file=name)
    _, headers = numbered[0]
    return Table(headers=headers, rows=[(n, cells) for n, cells in numbered[1:] if any(cells)])


def _decode(data: bytes, name: str) -> str:
    # Excel on Chinese Windows saves CSV as GBK; GB18030 is its superset.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Invalid("cannot read {file}: it is neither UTF-8 nor GBK text", file=name)


def _read_csv(path: Path, name: str) -> list[list[str]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Invalid("cannot read {file}: {problem}", file=name, problem=exc.strerror) from None
    content = _decode(data, name)
    first_line = content.split("\n", 1)[0]
    # Some exports use tabs; a header with tabs and no commas is read that way.
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        return [
            [sheets.uninert(c.strip()) for c in row]
            for row in csv.reader(io.StringIO(content), delimiter=delimiter)
        ]
    except csv.Error as exc:
        raise Invalid("cannot read {file} as CSV: {problem}", file=name, problem=exc) from None


def _read_xlsx(path: Path, name: str) -> list[list[str]]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise Invalid(
            "cannot read {file} as an XLSX workbook: {problem}", file=name, problem=exc
        ) from None
    try:
        sheet = workbook.worksheets[0]
        return [
            [sheets.uninert(cell_text(c)) for c in row] for row in sheet.iter_rows(values_only=True)
        ]
    finally:
        workbook.close()


def write_table(
    path: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str = "data"
) -> None:
    """Writes CSV (UTF-8 with BOM, so Excel opens it right) or XLSX, by the path's suffix."""
    if file_format(path.name) == ".xlsx":
        _write_xlsx(path, headers, rows, sheet)
    else:
        write_csv(path, headers, rows)


def write_csv(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Writes CSV in UTF-8 with a BOM (without it, Excel reads Chinese text as garbage)."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = sheets.csv_writer(out)
        writer.writerow(headers)
        writer.writerows([_csv_value(c) for c in row] for row in rows)


def _csv_value(value: Any) -> Any:
    # Text as it is, spaces included (the writer makes it inert); numbers, dates and
    # booleans as a user would type them (a negative number is never quoted).
    return value if isinstance(value, str) else cell_text(value)


def _write_xlsx(
    path: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str
) -> None:
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    worksheet.append(list(headers))
    for row in rows:
        sheets.append(worksheet, row)
    workbook.save(path)
