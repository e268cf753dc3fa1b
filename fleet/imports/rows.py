"""Turning one row of cells into a validated Create model, or into a list of problems.

Nothing here touches the database: references to other records are checked when writing.
A blank cell means "not given": a new record gets the model's default, a stored one keeps
its value.
"""

from __future__ import annotations

import unicodedata

from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from fleet.core.db import utcnow
from fleet.core.errors import BadValue, Invalid, Reason
from fleet.core.geo import Datum, to_wgs84
from fleet.imports.columns import Column, Header
from fleet.imports.kinds import Kind, Row, reason_of
from fleet.inventory import extent
from fleet.inventory.models import AT_MERCHANT, TerminalState

_CONTROL_NAMES = {"\x00": "NUL", "\x1a": "SUB", "\x1b": "ESC", "\x7f": "DEL"}


def parse_row(kind: Kind, number: int, cells: list[str], header: Header) -> Row:
    """The row's values, its Create model and the fields it gives, or its problems."""
    row = Row(number=number, cells=cells)
    for position, text in enumerate(cells):
        if text and (position in header.unnamed or position >= header.width):
            letter = get_column_letter(position + 1)
            row.problems.append(
                (
                    None,
                    Reason(
                        "cell {cell} has a value but its column has no header",
                        cell=letter + str(number),
                    ),
                )
            )
    for position, column in header.columns.items():
        _parse_cell(row, column, cells[position] if position < len(cells) else "")
    row.key = row.values.get(kind.key) or ""
    _coordinates(row)
    CHECKS.get(kind.name, _no_check)(row)
    _validate(kind, row)
    return row


def _control(text: str) -> str | None:
    """The first control character in `text` (a tab or a line break in a cell is allowed), by
    its name: databases refuse NUL in text, and none of them belongs in a record."""
    for char in text:
        if char not in "\t\n\r" and unicodedata.category(char) == "Cc":
            return _CONTROL_NAMES.get(char, f"U+{ord(char):04X}")
    return None


def _parse_cell(row: Row, column: Column, text: str) -> None:
    control = _control(text)
    if control is not None:
        row.problems.append(
            (
                column.name,
                Reason(
                    "contains an invisible control character ({char}); delete it and import again",
                    char=control,
                ),
            )
        )
        row.values[column.name] = None
        return
    if not text:
        if column.required:
            row.problems.append((column.name, Reason("a value is required")))
        row.values[column.name] = None
        return
    try:
        row.values[column.name] = column.parse(text)
    except BadValue as exc:
        row.problems.append((column.name, exc.reason))


def _coordinates(row: Row) -> None:
    """lat/lng (and a polygon) in the row's coord_system, converted to WGS-84."""
    values = row.values
    datum = values.pop("coord_system", None) or Datum.wgs84
    lat, lng = values.get("lat"), values.get("lng")
    if (lat is None) != (lng is None) and not _failed(row, "lat", "lng"):
        missing, given = ("lng", "lat") if lng is None else ("lat", "lng")
        row.problems.append(
            (
                missing,
                Reason("{missing} is missing while {given} is given", missing=missing, given=given),
            )
        )
    elif lat is not None and lng is not None:
        values["lat"], values["lng"] = to_wgs84(lat, lng, datum)
    if values.get("polygon"):
        values["polygon"] = [list(to_wgs84(a, b, datum)) for a, b in values["polygon"]]


def _failed(row: Row, *columns: str) -> bool:
    return any(column in columns for column, _ in row.problems)


def _no_check(row: Row) -> None:
    return None


def _check_market(row: Row) -> None:
    values = row.values
    if values.get("polygon"):
        try:
            extent.check_polygon(values["polygon"])
        except Invalid as exc:
            row.problems.append(("polygon", Reason.of(exc)))
    elif (
        {"lat", "polygon"} & values.keys()
        and values.get("lat") is None
        and not _failed(row, "lat", "lng", "polygon")
    ):
        row.problems.append(
            ("lat", Reason("a market needs lat and lng (with radius_m) or a polygon"))
        )


def _check_terminal(row: Row) -> None:
    values = row.values
    state, merchant = values.get("state"), values.get("merchant_code")
    if state is not None and not _failed(row, "merchant_code"):
        if state in AT_MERCHANT and not merchant:
            row.problems.append(
                (
                    "merchant_code",
                    Reason("a {state} terminal needs merchant_code", state=TerminalState(state)),
                )
            )
        elif state not in AT_MERCHANT and merchant:
            row.problems.append(
                (
                    "merchant_code",
                    Reason(
                        "a terminal that is {state} is at no merchant; leave merchant_code empty",
                        state=TerminalState(state),
                    ),
                )
            )
    deployed_at = values.get("deployed_at")
    if deployed_at is not None:
        if not merchant:
            row.problems.append(("deployed_at", Reason("deployed_at needs merchant_code")))
        if deployed_at > utcnow():
            row.problems.append(("deployed_at", Reason("deployed_at is in the future")))


CHECKS = {"markets": _check_market, "terminals": _check_terminal}


def _validate(kind: Kind, row: Row) -> None:
    """Builds the Create model from the given values; its complaints become problems."""
    fields = kind.create_model.model_fields
    given = {
        k: v
        for k, v in row.values.items()
        if v is not None and k in fields and k not in kind.create_only
    }
    try:
        row.data = kind.create_model(**given)
    except ValidationError as exc:
        for error in exc.errors():
            column = str(error["loc"][0]) if error["loc"] else None
            if column is None or not _failed(row, column):
                row.problems.append((column, reason_of(error)))
        return
    row.fields = set(given) - {kind.key}
