"""Reading and writing tables as CSV (UTF-8 or GBK) or XLSX (the first sheet)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from fleet.core import sheets
from fleet.core.config import get_settings
from fleet.core.errors import Invalid
from fleet.imports.values import cell_text

FORMATS = (".csv", ".xlsx")
# Cells read per row of a workbook: every kind has far fewer columns. A cell in the sheet's
# last column (XFD) would otherwise make a row of 16,384 cells.
MAX_COLUMNS = 100
_ROW_TAG_BYTES = 20


def _row_tags(xml: bytes) -> int:
    """Row start tags in a piece of a sheet's XML, with or without a namespace prefix (and
    the odd <rowBreaks>: an upper bound is all the limit needs). Counted, not parsed: fast."""
    return xml.count(b"<row") + xml.count(b":row")


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


class TooManyRows(Invalid):
    """A file with more rows than the limit it was read with; `limit` says it."""

    def __init__(self, message: str, *, file: str, limit: int) -> None:
        super().__init__(message, file=file, limit=limit)
        self.limit = limit


def _too_many(name: str, limit: int) -> TooManyRows:
    return TooManyRows(
        "{file} has more than {limit} rows (FLEET_IMPORT_MAX_ROWS); nothing was imported",
        file=name,
        limit=limit,
    )


def read_table(path: Path, name: str, *, max_rows: int | None = None) -> Table:
    """The header and the non-blank rows of a CSV or XLSX file, within the import limits
    (FLEET_IMPORT_MAX_BYTES unpacked, FLEET_IMPORT_MAX_ROWS, or `max_rows` when lower),
    checked as the file is read."""
    settings = get_settings()
    limit = min(settings.import_max_rows, max_rows or settings.import_max_rows)
    if file_format(name) == ".xlsx":
        _check_zip(path, name, settings.import_max_bytes, limit + 1)
        rows = _read_xlsx(path, name, limit + 1)
    else:
        _check_size(path, name, settings.import_max_bytes)
        rows = _read_csv(path, name)
    numbered = []
    for number, cells in enumerate(rows, start=1):
        if number > limit + 1:  # the header, then the rows
            raise _too_many(name, limit)
        numbered.append((number, cells))
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


def _too_large(name: str, limit: int) -> Invalid:
    return Invalid(
        "{file} unpacks to more than {mb} MB (FLEET_IMPORT_MAX_BYTES); nothing was imported",
        file=name,
        mb=f"{limit / (1 << 20):.3g}",
    )


def _not_a_workbook(name: str) -> Invalid:
    # Python's own words ("File is not a zip file") mean nothing to the reader, in English.
    return Invalid(
        "cannot read {file} as an XLSX workbook: it is damaged or not an Excel file "
        "(open it in Excel and save it as .xlsx)",
        file=name,
    )


def _check_size(path: Path, name: str, limit: int) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise Invalid("cannot read {file}: {problem}", file=name, problem=exc.strerror) from None
    if size > limit:
        raise _too_large(name, limit)


def _check_zip(path: Path, name: str, limit: int, max_rows: int) -> None:
    """An XLSX is a zip: the sizes its members declare, then the bytes they really unpack to
    (read and counted, never kept), must stay within `limit` before openpyxl opens it; and
    no sheet may hold more than `max_rows` rows (openpyxl would take minutes to find out)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if sum(member.file_size for member in members) > limit:
                raise _too_large(name, limit)
            unpacked = 0
            for member in members:
                rows, tail = 0, b""
                sheet = member.filename.startswith("xl/worksheets/")
                with archive.open(member) as stream:
                    while chunk := stream.read(1 << 20):
                        unpacked += len(chunk)
                        if unpacked > limit:
                            raise _too_large(name, limit)
                        if sheet:
                            # A tag across two reads is found with the tail of the first;
                            # one wholly inside that tail was counted already.
                            rows += _row_tags(tail + chunk) - _row_tags(tail)
                            tail = (tail + chunk)[-_ROW_TAG_BYTES:]
                if rows > max_rows:
                    raise _too_many(name, max_rows - 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError):
        raise _not_a_workbook(name) from None


def _read_csv(path: Path, name: str) -> Iterator[list[str]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Invalid("cannot read {file}: {problem}", file=name, problem=exc.strerror) from None
    content = _decode(data, name)
    first_line = content.split("\n", 1)[0]
    # Some exports use tabs; a header with tabs and no commas is read that way.
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        for row in csv.reader(io.StringIO(content), delimiter=delimiter):
            yield [sheets.uninert(c.strip()) for c in row]
    except csv.Error as exc:
        raise Invalid("cannot read {file} as CSV: {problem}", file=name, problem=exc) from None


def _read_xlsx(path: Path, name: str, max_rows: int) -> Iterator[list[str]]:
    """The first sheet's rows, trailing empty cells left off; at most one past `max_rows`
    (so the caller sees there are more) and MAX_COLUMNS cells of each."""
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError):
        raise _not_a_workbook(name) from None
    try:
        sheet = workbook.worksheets[0]
        # The sheet's own claim of its size is not trusted (a claimed A1:XFD1048576 is padded).
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()
        for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS, max_row=max_rows + 1):
            cells = [sheets.uninert(cell_text(c)) for c in row]
            while cells and cells[-1] == "":
                cells.pop()
            yield cells
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
