"""SQL pieces that differ by database: the local day of a timestamp, a day some days later."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, literal
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


class _DaysAfter(FunctionElement[date]):
    type = Date()
    name = "days_after"
    inherit_cache = True


@compiles(_DaysAfter)
def _sqlite_days_after(element: _DaysAfter, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps a day as text 'YYYY-MM-DD'; date() adds days and gives that text back.
    day, modifier, _days = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, {compiler.process(modifier, **kw)})"


@compiles(_DaysAfter, "postgresql")
def _pg_days_after(element: _DaysAfter, compiler: SQLCompiler, **kw: Any) -> str:
    day, _modifier, days = list(element.clauses)
    return f"({compiler.process(day, **kw)} + CAST({compiler.process(days, **kw)} AS INTEGER))"


def days_after(day: Any, days: int) -> _DaysAfter:
    """A date column `days` days later (date + integer on PostgreSQL, date() on SQLite)."""
    return _DaysAfter(day, literal(f"{days:+d} days"), literal(int(days)))
