"""Hostile import files, built at test time: refused fast and within bounded memory, with the
limit named; an answer about a file of bad rows lists the first ones and says how many."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import Session

from fleet.core.errors import Invalid
from fleet.imports import service as imports
from tests.factories import SYSTEM
from tests.measured import Cost, run_fleet

MIB = 1 << 20
SHEET = "xl/worksheets/sheet1.xml"


def workbook_with(path: Path, sheet_xml: list[bytes], extra: dict[str, int] | None = None) -> Path:
    """A real workbook (made by openpyxl) whose first sheet is `sheet_xml`, written piece by
    piece, and with `extra` members of that many zero bytes."""
    made = io.BytesIO()
    book = Workbook()
    book.active.append(["sn", "branch_code"])  # type: ignore[union-attr]
    book.save(made)
    with zipfile.ZipFile(made) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for member in source.infolist():
            if member.filename != SHEET:
                out.writestr(member, source.read(member))
        with out.open(SHEET, "w") as sheet:
            for piece in sheet_xml:
                sheet.write(piece)
        for name, size in (extra or {}).items():
            with out.open(name, "w") as member_out:
                for _ in range(size // MIB):
                    member_out.write(bytes(MIB))
    return path


def refused(cost: Cost, setting: str) -> None:
    assert cost.returncode != 0, cost.stdout
    assert setting in cost.stderr, cost.stderr
    assert cost.seconds < 10, cost
    assert cost.peak_mb < 500, cost


def test_a_sheet_of_millions_of_rows_claiming_every_column(engine: object, tmp_path: Path) -> None:
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<dimension ref="A1:XFD1048576"/><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>sn</t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t>branch_code</t></is></c></row>'
    )
    rows = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 10_000
    bomb = workbook_with(tmp_path / "rows.xlsx", [head, *[rows] * 300, b"</sheetData></worksheet>"])
    assert bomb.stat().st_size < 2 * MIB
    refused(run_fleet("import", "terminals", str(bomb)), "FLEET_IMPORT_MAX_ROWS")


def test_a_member_that_unpacks_past_the_limit(engine: object, tmp_path: Path) -> None:
    sheet = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData/></worksheet>"
    )
    bomb = workbook_with(tmp_path / "big.xlsx", [sheet], {"xl/media/image1.png": 300 * MIB})
    assert bomb.stat().st_size < 2 * MIB
    refused(run_fleet("import", "terminals", str(bomb)), "FLEET_IMPORT_MAX_BYTES")


def test_an_answer_lists_the_first_bad_rows_and_counts_them_all(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "terminals.csv"
    path.write_text("sn,branch_code\n" + "".join(f"S{n},NOPE\n" for n in range(2000)))
    with pytest.raises(Invalid) as caught:
        imports.import_file(session, SYSTEM, "terminals", path)
    details = caught.value.details
    assert len(details["errors"]) == 100
    assert details["errors_total"] == details["bad_rows"] == 2000
    assert len(json.dumps(details)) < 20_000


def test_a_member_that_claims_to_be_small(engine: object, tmp_path: Path) -> None:
    """Sizes in a zip are only claims: a member that says 1 KB and unpacks to 300 MiB is
    refused while it is measured, before openpyxl reads anything."""
    bomb = workbook_with(tmp_path / "lying.xlsx", [b"<worksheet/>"], {"xl/media/a.bin": 300 * MIB})
    data = bytearray(bomb.read_bytes())
    claimed = (1024).to_bytes(4, "little")
    real = (300 * MIB).to_bytes(4, "little")
    # The uncompressed size in the member's local header and in the central directory.
    for signature, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (found := data.find(signature, start)) >= 0:
            if data[found + at : found + at + 4] == real:
                data[found + at : found + at + 4] = claimed
            start = found + 4
    bomb.write_bytes(bytes(data))
    with zipfile.ZipFile(bomb) as archive:
        assert archive.getinfo("xl/media/a.bin").file_size == 1024
    refused(run_fleet("import", "terminals", str(bomb)), "XLSX")
