"""Import and export of branches, staff, markets, merchants and terminals (CSV or XLSX).

An import checks every row and writes nothing unless all are good; with skip_bad it writes
the good rows and puts the bad ones, with their reasons, in a rejects file. Records are
matched by natural key and written through the inventory and auth services, so every
change is audited and a row equal to what is stored writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from fleet.core.access import Actor, Permission
from fleet.core.config import get_settings
from fleet.core.db import attempt
from fleet.core.errors import FleetError, Invalid, NotFound, Reason
from fleet.imports import columns, files
from fleet.imports.export import EXPORTERS, WITH_CONTACTS
from fleet.imports.kinds import KINDS as SPECS
from fleet.imports.kinds import Kind, Row, RowProblem, is_visible
from fleet.imports.rows import parse_row
from fleet.inventory import contacts
from fleet.inventory import service as inventory
from fleet.inventory.geocode import Geocoder
from fleet.inventory.models import Merchant
from fleet.inventory.scope import visible

KINDS = ("branches", "staff", "markets", "merchants", "terminals")  # also the order of a full load


@dataclass
class RowError:
    row: int  # as the user sees it: the header is row 1, the first data row is 2
    column: str | None
    reason: Reason  # said in the reader's language where it is shown (Texts.reason)

    def __str__(self) -> str:
        return str(self.said())

    def said(self) -> Reason:
        """Where and why, as a reason ("row 3, column name: a value is required")."""
        if self.column:
            return Reason(
                "row {row}, column {column}: {reason}",
                row=self.row,
                column=self.column,
                reason=self.reason,
            )
        return Reason("row {row}: {reason}", row=self.row, reason=self.reason)


@dataclass
class ImportReport:
    """What an import did. When it fails, the counts say what the good rows would have done."""

    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    ungeocoded: list[str] = field(default_factory=list)
    rejects_path: str | None = None
    # Said where shown (str() is the English): the geocoder's trouble.
    warnings: list[Reason] = field(default_factory=list)

    @property
    def bad_rows(self) -> int:
        return len({e.row for e in self.errors})

    def to_dict(self, *, every: bool = False) -> dict[str, Any]:
        """The report as an answer: the first FLEET_IMPORT_ERRORS_LISTED problems (every one
        with `every`), and how many there are in all (a file of bad rows would otherwise
        answer megabytes)."""
        listed = None if every else get_settings().import_errors_listed
        return {
            **{k: v for k, v in asdict(self).items() if k not in ("errors", "warnings")},
            "warnings": [str(w) for w in self.warnings],
            "errors": problem_list(self.errors[:listed]),
            "errors_total": len(self.errors),
            "bad_rows": self.bad_rows,
        }


def problem_list(errors: list[RowError]) -> list[dict[str, Any]]:
    """Problems as an answer lists them: row, column and reason (English)."""
    return [{"row": e.row, "column": e.column, "reason": str(e.reason)} for e in errors]


def kind_spec(kind: str) -> Kind:
    if kind not in SPECS:
        raise Invalid(
            "unknown kind {kind}; use one of: {kinds}", kind=repr(kind), kinds=", ".join(KINDS)
        )
    return SPECS[kind]


class FileRefused(Invalid):
    """An import refused whole: its message says the first problem; `problems` has every one
    (row, column, reason), for a page to list, and `row_reasons` the listed ones as codes and
    values, beside the JSON details (English): the command line says each in the reader's
    language."""

    def __init__(self, message: str, report: ImportReport, **values: object) -> None:
        super().__init__(message, details=report.to_dict(), **values)
        self.problems = list(report.errors)
        listed = get_settings().import_errors_listed
        self.row_reasons = [e.said() for e in report.errors[:listed]]


def import_file(
    session: Session,
    actor: Actor,
    kind: str,
    path: Path,
    *,
    skip_bad: bool = False,
    rejects_path: Path | None = None,
    filename: str | None = None,
    say: Callable[[Reason], str] | None = None,
) -> ImportReport:
    """Imports a CSV or XLSX file of `kind`: every row or none, or the good rows with skip_bad.
    The rejects file (CSV or XLSX by its suffix; written for a refused file too, when asked
    for: where every bad row the refusal does not list can be read) gives the reasons in
    English, or through `say` (a page's language: then its own columns are named in that
    language too)."""
    spec = kind_spec(kind)
    actor.require(Permission.import_data)
    actor.require(spec.permission)
    name = filename or path.name
    table = files.read_table(path, name)
    header, header_problems = columns.match_headers(kind, table.headers)
    report = ImportReport(kind=kind, rows=len(table.rows))
    if header_problems:
        report.errors = [RowError(1, column, reason) for column, reason in header_problems]
        below = _header_below(kind, table)
        if below is not None:  # a title above the columns' names, as bank reports have
            report.errors.insert(0, RowError(1, None, _title_row(below)))
        more = len(report.errors) - 1
        if more:
            raise FileRefused(
                "{file}: {problem} (and {more} more problem(s) with the header)",
                report,
                file=name,
                problem=report.errors[0].said(),
                more=more,
            )
        raise FileRefused("{file}: {problem}", report, file=name, problem=report.errors[0].said())

    rows = [parse_row(spec, number, cells, header) for number, cells in table.rows]
    _mark_duplicates(spec, rows)
    if skip_bad or not any(row.problems for row in rows):
        # Looking up addresses for a file that will be refused anyway would only cost time.
        _geocode(session, spec, rows, report)
    _write_rows(session, actor, spec, rows, report, keep=skip_bad)
    report.errors = [RowError(r.number, col, reason) for r in rows for col, reason in r.problems]
    bad = [row for row in rows if row.problems]
    if bad and not skip_bad:
        if rejects_path is not None:  # nothing imported; every bad row, with its reason
            _write_rejects(rejects_path, kind, table.headers, bad, say)
            report.rejects_path = str(rejects_path)
        raise FileRefused(
            "{file}: {bad} of {total} rows have errors, so nothing was imported; first: {first}",
            report,
            file=name,
            bad=len(bad),
            total=len(rows),
            first=report.errors[0].said(),
        )
    report.skipped = len(bad)
    if skip_bad and rejects_path is not None:
        _write_rejects(rejects_path, kind, table.headers, bad, say)
        report.rejects_path = str(rejects_path)
    return report


def _title_row(row: int) -> Reason:
    return Reason(
        "the column names are on row {row}: delete the rows above them (the first row must "
        "name the columns)",
        row=row,
    )


def _header_below(kind: str, table: files.Table) -> int | None:
    """The row (among the first few) that names the columns without a problem, when the
    first row does not: a report's title or date above its table."""
    for number, cells in table.rows[:5]:
        if not columns.match_headers(kind, cells)[1]:
            return number
    return None


def _mark_duplicates(spec: Kind, rows: list[Row]) -> None:
    first: dict[str, int] = {}
    for row in rows:
        if row.key in first:
            row.problems.append(
                (
                    spec.key,
                    Reason(
                        "{column} {key} already appears on row {row}",
                        column=spec.key,
                        key=row.key,
                        row=first[row.key],
                    ),
                )
            )
        elif row.key:
            first[row.key] = row.number


def _geocode(session: Session, spec: Kind, rows: list[Row], report: ImportReport) -> None:
    """Gives coordinates to merchants that come with an address but without lat/lng."""
    if spec.name != "merchants":
        return
    geocoder = Geocoder(session)
    for row in rows:
        data = row.data
        if row.problems or data.lat is not None or not data.address:
            continue
        stored = inventory.get_or_none(session, Merchant, code=row.key)
        if stored is not None and stored.address == data.address and stored.lat is not None:
            continue  # already placed, and the address has not changed
        point = geocoder.locate(data.address)
        if point is None:
            if data.address not in report.ungeocoded:
                report.ungeocoded.append(data.address)
            continue
        data.lat, data.lng = point
        row.fields |= {"lat", "lng"}
    geocoder.save()
    if geocoder.unavailable:
        report.warnings.append(geocoder.unavailable)


@dataclass
class _Known:
    """What one import looked up, so that it asks the database once a file and not once a
    row: the records stored before it, by the kind's key (no two good rows share one, so
    no other row creates a row's record meanwhile), and the records rows referred to by code
    (only those found: a code missing now may be created by a later row of the file)."""

    stored: dict[str, Any]
    refs: dict[tuple[type[Any], str, str], Any] = field(default_factory=dict)


_CHUNK = 500  # keys a query asks for at once


def _stored(session: Session, spec: Kind, keys: list[str]) -> dict[str, Any]:
    """The records of `spec` stored under `keys`, by key."""
    attribute = getattr(spec.table, spec.key)
    wanted = sorted({key for key in keys if key})
    found: dict[str, Any] = {}
    for start in range(0, len(wanted), _CHUNK):
        stmt = select(spec.table).where(attribute.in_(wanted[start : start + _CHUNK]))
        for record in session.execute(stmt).scalars():
            found[getattr(record, spec.key)] = record
    return found


class _Discarded(Exception):
    """Raised inside an `attempt` to undo its writes (rows with problems)."""


def _write_rows(
    session: Session, actor: Actor, spec: Kind, rows: list[Row], report: ImportReport, *, keep: bool
) -> None:
    """Writes the good rows inside one savepoint, kept only if all went well (or `keep`)."""
    by_key: dict[str, Row] = {}
    for row in rows:
        by_key.setdefault(row.key, row)
    known = _Known(stored=_stored(session, spec, [r.key for r in rows if not r.problems]))
    try:
        with attempt(session):
            for row in rows:
                if not row.problems:
                    _write_row(session, actor, spec, row, by_key, report, known)
            if not keep and any(row.problems for row in rows):
                raise _Discarded
    except _Discarded:
        pass


def _write_row(
    session: Session,
    actor: Actor,
    spec: Kind,
    row: Row,
    by_key: dict[str, Row],
    report: ImportReport,
    known: _Known,
) -> None:
    row.problems.extend(_missing_refs(session, actor, spec, row, by_key, known))
    if row.problems:
        return
    try:
        with attempt(session):
            try:
                outcome = _upsert(session, actor, spec, row, known.stored.get(row.key))
            except RowProblem as exc:
                row.problems.append((exc.column, exc.reason))
            except FleetError as exc:
                row.problems.append((None, Reason.of(exc)))
            except IntegrityError as exc:
                reason = str(exc.orig).splitlines()[0]
                row.problems.append(
                    (None, Reason("the database refused it: {reason}", reason=reason))
                )
            if row.problems:
                raise _Discarded
    except _Discarded:
        return
    setattr(report, outcome, getattr(report, outcome) + 1)


def _upsert(session: Session, actor: Actor, spec: Kind, row: Row, existing: Any) -> str:
    """Creates or updates the row's record (`existing`, the one stored before the import, if
    any); returns created, updated or unchanged."""
    if existing is None:
        spec.create(session, actor, row)
        return "created"
    if not is_visible(actor, existing, spec.label):
        raise RowProblem(spec.key, _outside(spec.label, row.key))
    before = existing.model_dump(exclude={"updated_at"})
    spec.update(session, actor, existing, row)
    return "unchanged" if existing.model_dump(exclude={"updated_at"}) == before else "updated"


def _missing_refs(
    session: Session, actor: Actor, spec: Kind, row: Row, by_key: dict[str, Row], known: _Known
) -> list[tuple[str | None, Reason]]:
    """A problem for every code the row refers to that neither the database nor the file has."""
    problems: list[tuple[str | None, Reason]] = []
    for column, (table, attribute, label) in spec.refs.items():
        value = row.values.get(column)
        if not value:
            continue
        found = known.refs.get((table, attribute, value))
        if found is None:
            found = inventory.get_or_none(session, table, **{attribute: value})
            if found is not None:  # once there, it stays for the rest of the import
                known.refs[(table, attribute, value)] = found
        if found is not None and is_visible(actor, found, label):
            continue
        try:
            visible(actor, None, what=label, key=value)
        except NotFound as exc:
            reason = Reason.of(exc)  # "branch ZZ not found", in words for each kind
        other = by_key.get(value) if table is spec.table else None
        if other is not None and other.number > row.number:
            reason = Reason(
                "{missing}; it is on row {row}: put it before the rows that refer to it",
                missing=reason,
                row=other.number,
            )
        elif other is not None and other is not row and other.problems:
            reason = Reason("{missing}; its row {row} has errors", missing=reason, row=other.number)
        problems.append((column, reason))
    return problems


def _outside(label: str, key: str) -> Reason:
    """The reason for a row whose record exists in a branch outside the actor's subtree."""
    match label:
        case "branch":
            return Reason("branch {key} already exists outside your branches", key=key)
        case "user":
            return Reason("user {key} already exists outside your branches", key=key)
        case "market":
            return Reason("market {key} already exists outside your branches", key=key)
        case "merchant":
            return Reason("merchant {key} already exists outside your branches", key=key)
        case _:
            return Reason("terminal {key} already exists outside your branches", key=key)


def _write_rejects(
    path: Path, kind: str, headers: list[str], bad: list[Row], say: Callable[[Reason], str] | None
) -> None:
    """The bad rows as they were, with why: CSV in UTF-8 with a BOM (so Excel opens it), or
    XLSX, by the path's suffix."""
    keep = [i for i, h in enumerate(headers) if not columns.is_reject_column(h)]
    extra = list(columns.REJECT_COLUMNS) if say is None else [say(w) for w in columns.REJECT_WORDS]
    out = []
    for row in bad:
        cells = [row.cells[i] if i < len(row.cells) else "" for i in keep]
        named = dict.fromkeys(column for column, _ in row.problems if column)
        if say is not None:
            named = dict.fromkeys(columns.column_word(kind, column) for column in named)
        reasons = "; ".join((say or str)(r) for _, r in row.problems)
        out.append([*cells, row.number, "; ".join(named), reasons])
    files.write_table(path, [headers[i] for i in keep] + extra, out, sheet="rejects")


def export_kind(
    session: Session, actor: Actor, kind: str, path: Path, *, with_contacts: bool = False
) -> int:
    """Writes every visible record of `kind` as CSV or XLSX (by suffix); returns the row count.
    Merchant phones and contact names are masked unless `with_contacts` and the actor's role
    may read them."""
    spec = kind_spec(kind)
    actor.require(spec.read_permission)
    files.file_format(path.name)
    headers = [column.name for column in columns.COLUMNS[kind]]
    records = EXPORTERS[kind](session, actor)
    if kind in WITH_CONTACTS and not contacts.shown(actor, asked=with_contacts):
        records = [contacts.masked_record(r) for r in records]
    files.write_table(path, headers, ([r.get(h) for h in headers] for r in records), sheet=kind)
    return len(records)
