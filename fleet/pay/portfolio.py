"""Portfolios by days held: which staff member each unit and each merchant counts for over a
period, in days, when a portfolio moved between people mid-period.

A merchant counts for its holder (fleet.inventory.holders) on each day of the holder's hold;
a unit counts for the holder of the merchant it was placed with on that day. A staff
member's share of a unit over a period is the days both were so, out of the unit's days
deployed in the period (for money and use) or out of the period's days (for a merchant's
units at the baseline). Contracting (承包) reads the same shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from fleet.core.config import get_settings
from fleet.inventory import holders
from fleet.inventory.models import Placement
from fleet.pay.periods import Period
from fleet.scoring.sql import local_day

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


Held = dict[int, list[tuple[int, date, date]]]


def merchant_days(
    session: Session, period: Period, held: Held | None = None
) -> dict[int, dict[int, int]]:
    """merchant id → {staff id: days of the period held}. `held`: holds already read
    (fleet.inventory.holders.holds) over a range that takes in the period."""
    spans = held if held is not None else holders.holds(session, period.start, period.end)
    found: dict[int, dict[int, int]] = {}
    for merchant_id, holds in spans.items():
        days: dict[int, int] = {}
        for staff_id, first, after in holds:
            n = (min(after, period.end) - max(first, period.start)).days
            if n > 0:
                days[staff_id] = days.get(staff_id, 0) + n
        if days:
            found[merchant_id] = days
    return found


def unit_days(
    session: Session,
    period: Period,
    spans: list[Span] | None = None,
    held: Held | None = None,
) -> dict[int, dict[int, int]]:
    """terminal id → {staff id (NOBODY: unheld): days of the period deployed in their
    portfolio}; the values of one unit add up to its days deployed in the period."""
    if held is None:
        held = holders.holds(session, period.start, period.end)
    found: dict[int, dict[int, int]] = {}
    for span in spans if spans is not None else placements(session, period.start, period.end):
        first, after = max(span.first, period.start), min(span.after, period.end)
        if after <= first:
            continue
        shares = found.setdefault(span.terminal_id, {})
        covered = 0
        for staff_id, held_from, held_to in held.get(span.merchant_id, ()):
            days = (min(held_to, after) - max(held_from, first)).days
            if days > 0:
                shares[staff_id] = shares.get(staff_id, 0) + days
                covered += days
        if covered < (after - first).days:
            shares[NOBODY] = shares.get(NOBODY, 0) + (after - first).days - covered
    return found
