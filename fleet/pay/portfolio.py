"""Portfolios by days held: which staff member each unit and each merchant counts for over a
period, in days, when a portfolio moved between people mid-period.

A merchant counts for its holder (fleet.inventory.holders) on each day of the holder's hold;
a unit counts for the holder of the merchant it was placed with on that day. A staff
member's share of a unit over a period is the days both were so, out of the unit's days
deployed in the period (for money and use) or out of the period's days (for a merchant's
units at the baseline): computed in SQL by fleet.pay.shares. Here: the placements' days and
the local midnight, for the reads that need them in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from fleet.core.config import get_settings
from fleet.inventory.models import Placement
from fleet.scoring.sql import local_day


def midnight(day: date) -> datetime:
    """The start of a local day, as a UTC moment."""
    zone = ZoneInfo(get_settings().feed_timezone)
    return datetime.combine(day, time(), zone).astimezone(UTC)


@dataclass(frozen=True)
class Span:
    """A unit at a merchant over days [first, after), clipped to the period asked about."""

    terminal_id: int
    merchant_id: int
    first: date
    after: date
    # The placement's own first day, unclipped.
    placed_on: date


def placements(session: Session, start: date, end: date) -> list[Span]:
    """Every placement's days within [start, end); a placement counts from its local day."""
    zone = get_settings().feed_timezone
    query = select(
        col(Placement.terminal_id),
        col(Placement.merchant_id),
        local_day(col(Placement.started_at), zone, start),
        local_day(col(Placement.ended_at), zone, start),
    ).where(
        col(Placement.started_at) < midnight(end),
        col(Placement.ended_at).is_(None) | (col(Placement.ended_at) > midnight(start)),
    )
    spans = []
    for terminal_id, merchant_id, placed_on, ended_on in session.execute(query):
        first = max(placed_on, start)
        after = min(ended_on, end) if ended_on is not None else end
        if after > first:
            spans.append(Span(terminal_id, merchant_id, first, after, placed_on))
    return spans
