"""Portfolios by days held: which staff member each unit and each merchant counts for over a
period, in days, when a portfolio moved between people mid-period.

A merchant counts for its holder (fleet.inventory.holders) on each day of the holder's hold;
a unit counts for the holder of the merchant it was placed with on that day. A staff
member's share of a unit over a period is the days both were so, out of the unit's days
deployed in the period (for money and use) or out of the period's days (for a merchant's
units at the baseline). Contracting (承包) reads the same shares.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from fleet.core.config import get_settings
from fleet.inventory import holders
from fleet.inventory.models import Placement
from fleet.pay.periods import Period

# The key of the days a unit or merchant was held by nobody.
NOBODY = 0


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
    query = select(
        col(Placement.terminal_id),
        col(Placement.merchant_id),
        col(Placement.started_at),
        col(Placement.ended_at),
    ).where(
        col(Placement.started_at) < midnight(end),
        col(Placement.ended_at).is_(None) | (col(Placement.ended_at) > midnight(start)),
    )
    spans = []
    for terminal_id, merchant_id, started, ended in session.execute(query):
        placed_on = holders.local_day(started)
        first = max(placed_on, start)
        after = min(holders.local_day(ended), end) if ended is not None else end
        if after > first:
            spans.append(Span(terminal_id, merchant_id, first, after, placed_on))
    return spans


def merchant_days(session: Session, period: Period) -> dict[int, dict[int, int]]:
    """merchant id → {staff id: days of the period held}."""
    found: dict[int, dict[int, int]] = defaultdict(dict)
    for merchant_id, spans in holders.holds(session, period.start, period.end).items():
        for staff_id, first, after in spans:
            found[merchant_id][staff_id] = (
                found[merchant_id].get(staff_id, 0) + (after - first).days
            )
    return dict(found)


def unit_days(
    session: Session, period: Period, spans: list[Span] | None = None
) -> dict[int, dict[int, int]]:
    """terminal id → {staff id (NOBODY: unheld): days of the period deployed in their
    portfolio}; the values of one unit add up to its days deployed in the period."""
    held = holders.holds(session, period.start, period.end)
    found: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for span in spans if spans is not None else placements(session, period.start, period.end):
        shares = found[span.terminal_id]
        covered = 0
        for staff_id, first, after in held.get(span.merchant_id, ()):
            days = (min(after, span.after) - max(first, span.first)).days
            if days > 0:
                shares[staff_id] += days
                covered += days
        if covered < (span.after - span.first).days:
            shares[NOBODY] += (span.after - span.first).days - covered
    return {tid: dict(shares) for tid, shares in found.items()}
