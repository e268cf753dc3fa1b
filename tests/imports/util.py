"""Helpers for import tests: write files the way users' tools do, and count what was stored."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func, select
from sqlmodel import Session

from fleet.core.audit import AuditEntry


def write_csv(
    path: Path, header: list[str], rows: list[list[Any]], *, encoding: str = "utf-8"
) -> Path:
    """A CSV file in `encoding` (utf-8, utf-8-sig or gbk)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    """An XLSX workbook whose first sheet holds the table, with typed cells as given."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def count(session: Session, model: Any) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def audit_count(session: Session) -> int:
    return count(session, AuditEntry)


def outcome(report: Any) -> tuple[int, int, int, int]:
    """(created, updated, unchanged, skipped)."""
    return report.created, report.updated, report.unchanged, report.skipped
