"""Cell parsers: each turns the text of one cell into a value, or raises BadValue(reason)."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from fleet.core.errors import BadValue, Invalid, Listed, Reason
from fleet.core.geo import Datum, parse_datum
from fleet.core.i18n import catalogue

# China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact here
# and needs no tz database on the server.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

Parser = Callable[[str], Any]
# A number as Excel writes one it has shortened: 1.02370E+14, 1.02370153990123E+18.
_SHORTENED = re.compile(r"^[+-]?\d(\.\d+)?E\+?\d+$", re.IGNORECASE)
# Past 15 significant digits a spreadsheet's number has lost its last ones.
_EXACT_DIGITS = 1e15
# 1,200 or 12,500.5: thousands separators, as Excel shows numbers; "31,17" stays an error.
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def _plain(value: str) -> str:
    # Full-width digits and signs (１２３，－) are common in Chinese spreadsheets.
    return unicodedata.normalize("NFKC", value).strip()


def code(value: str) -> str:
    """A code (a branch's, a merchant's, a serial number, a user name): full-width letters and
    digits typed with a Chinese input method (ＬＹ０１) are the same code (LY01). A long number
    Excel turned into scientific notation (a 15-digit 商户号 saved as 1.02370E+14) has lost
    its digits: refused, saying what to do."""
    cleaned = _plain(value)
    if _SHORTENED.match(cleaned):
        raise BadValue(
            Reason(
                "{value!r} is a long number Excel turned into scientific notation, and the code "
                "is lost: format the column as Text and type the codes again",
                value=value,
            )
        )
    return cleaned


def text(value: str) -> str:
    """The cell as written. The readers (files.py) took off the spaces around it, but not those
    inside the quote that fleet's own exports put before a leading tab (core/sheets.py)."""
    return value


def number(value: str) -> float:
    """A decimal number."""
    cleaned = _plain(value)
    if _GROUPED.match(cleaned):
        cleaned = cleaned.replace(",", "")
    try:
        result = float(cleaned)
    except ValueError:
        raise BadValue(Reason("{value!r} is not a number", value=value)) from None
    if not math.isfinite(result):
        raise BadValue(Reason("{value!r} is not a number", value=value))
    return result


def whole(value: str) -> int:
    """A whole number; "12.0" (as Excel writes it) is accepted."""
    result = number(value)
    if not result.is_integer():
        raise BadValue(Reason("{value!r} is not a whole number", value=value))
    return int(result)


_TRUE = {"true", "yes", "y", "1", "是"}
_FALSE = {"false", "no", "n", "0", "否"}


def boolean(value: str) -> bool:
    """true/false, yes/no, 1/0 or 是/否."""
    key = _plain(value).lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise BadValue(
        Reason("{value!r} is not true or false (also accepted: yes/no, 1/0, 是/否)", value=value)
    )


def choice(what: Reason, values: type[StrEnum], words: Mapping[str, str], **also: str) -> Parser:
    """A parser for one of the `values` enum, case-insensitive: its code, or its word as the
    pages show it (`words`: the code's msgid, in English or from the Chinese catalogue), or
    one of `also` (other names people write -> code). Refused naming `what`."""
    zh = catalogue("zh")
    table: dict[str, str] = {}
    for member in values:
        msgid = words[member.value]
        for name in (member.value, msgid, zh.get(msgid, msgid)):
            table[_plain(name).lower()] = member.value
    table |= {_plain(name).lower(): code for name, code in also.items()}
    allowed = Listed(values)

    def parse(value: str) -> str:
        found = table.get(_plain(value).lower())
        if found is None:
            raise BadValue(
                Reason(
                    "{value!r} is not a valid {what}; use one of: {allowed}",
                    value=value,
                    what=what,
                    allowed=allowed,
                )
            )
        return found

    return parse


def named(what: Reason, names: Mapping[str, str]) -> Parser:
    """A parser for one of `names` (alias -> canonical value), case-insensitive."""
    table = {_plain(k).lower(): v for k, v in names.items()}
    allowed = ", ".join(dict.fromkeys(names.values()))

    def parse(value: str) -> str:
        found = table.get(_plain(value).lower())
        if found is None:
            raise BadValue(
                Reason(
                    "{value!r} is not a valid {what}; use one of: {allowed}",
                    value=value,
                    what=what,
                    allowed=allowed,
                )
            )
        return found

    return parse


# A day as people write it, with an optional clock time: 2026-11-01, 2026/11/1 9:05 (a CSV
# saved by Excel on Chinese Windows), 2026.11.1, 2026年11月1日 14:30 (as the pages show days).
_DAY = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)


def moment(value: str) -> datetime:
    """A date or date-time (ISO, or as `_DAY` reads); without an offset it is Beijing time.
    Returned in UTC."""
    cleaned = _plain(value)
    refused = BadValue(
        Reason(
            "{value!r} is not a date or date-time (use 2024-05-31 or 2024-05-31 14:30)",
            value=value,
        )
    )
    written = _DAY.match(cleaned)
    try:
        if written:
            year, month, day, hour, minute, second = (int(p or 0) for p in written.groups())
            parsed = datetime(year, month, day, hour, minute, second)
        else:
            parsed = datetime.fromisoformat(cleaned.replace("/", "-"))
    except ValueError:
        raise refused from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed.astimezone(UTC)


def local_text(moment_utc: datetime) -> str:
    """A stored UTC moment as Beijing time, the way `moment` reads it back."""
    return moment_utc.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def polygon(value: str) -> list[list[float]]:
    """A JSON list of [lat, lng] pairs."""
    message = BadValue(Reason("{value!r} is not a JSON list of [lat, lng] pairs", value=value))
    try:
        parsed = json.loads(_plain(value))
    except json.JSONDecodeError:
        raise message from None
    if not isinstance(parsed, list) or not all(
        isinstance(v, list) and len(v) == 2 and all(_is_number(x) for x in v) for v in parsed
    ):
        raise message
    return [[float(a), float(b)] for a, b in parsed]


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def datum(value: str) -> Datum:
    """wgs84, gcj02 or bd09 (and their aliases)."""
    try:
        return parse_datum(_plain(value))
    except Invalid as exc:
        raise BadValue(Reason.of(exc)) from None


def cell_text(value: Any) -> str:
    """Any cell value (from XLSX, or to be written to CSV) as the text a user would type."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if abs(value) >= _EXACT_DIGITS:
            return f"{value:.14E}"  # as Excel shows it: its digits past the 15th are gone
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()
