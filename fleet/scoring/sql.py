"""SQL pieces that differ by database: the local day of a timestamp, a day as a number."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class _LocalDay(FunctionElement[date]):
    type = Date()
    name = "local_day"
    inherit_cache = True


@compiles(_LocalDay)
def _fixed_offset(element: _LocalDay, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps UTC text and knows no time zones: shift by the zone's offset on the day.
    # Whole seconds only: SQLite rounds 23:59:59.9996 up into the next day.
    stamp, _zone, modifier = list(element.clauses)
    text = f"substr({compiler.process(stamp, **kw)}, 1, 19)"
    return f"date({text}, {compiler.process(modifier, **kw)})"


@compiles(_LocalDay, "postgresql")
def _with_zone(element: _LocalDay, compiler: SQLCompiler, **kw: Any) -> str:
    stamp, zone, _modifier = list(element.clauses)
    return (
        f"CAST(timezone({compiler.process(zone, **kw)}, {compiler.process(stamp, **kw)}) AS DATE)"
    )


def local_day(stamp: Any, zone: str, around: date) -> _LocalDay:
    """The calendar day in `zone` of a UTC timestamp column.

    PostgreSQL applies the zone's rules; SQLite uses the zone's UTC offset on `around`, which
    is exact for zones without daylight saving time, such as Asia/Shanghai.
    """
    offset = ZoneInfo(zone).utcoffset(datetime.combine(around, time(12)))
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    return _LocalDay(stamp, literal(zone), literal(f"{minutes:+d} minutes"))


class _DayNumber(FunctionElement[int]):
    type = Integer()
    name = "day_number"
    inherit_cache = True


@compiles(_DayNumber)
def _sqlite_day_number(element: _DayNumber, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps a day as text 'YYYY-MM-DD'; its Julian day number counts whole days.
    (day,) = list(element.clauses)
    return f"CAST(julianday({compiler.process(day, **kw)}) AS INTEGER)"


@compiles(_DayNumber, "postgresql")
def _pg_day_number(element: _DayNumber, compiler: SQLCompiler, **kw: Any) -> str:
    (day,) = list(element.clauses)
    return f"({compiler.process(day, **kw)} - DATE '1970-01-01')"


def day_number(day: Any) -> _DayNumber:
    """A date column as a count of days (consecutive days differ by 1): what a window's
    `RANGE BETWEEN n PRECEDING` orders by, on SQLite (julianday) and PostgreSQL alike."""
    return _DayNumber(day)
