"""SLA policies (area × priority), deadlines, pauses, time left and breaches of a ticket.

A ticket's deadlines are set when it opens (or is confirmed): respond (assigned), on site and
restore, each a number of business hours (clock.py) after it opened. While it waits for
parts or sits at the vendor the clock stops: on resuming, the deadlines still ahead move
later by the business time spent paused.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from fleet.aftersales.clock import Clock
from fleet.aftersales.models import PAUSED, Area, Priority, Ticket, TicketState
from fleet.core.config import Settings
from fleet.core.errors import Invalid
from fleet.core.geo import distance_m
from fleet.inventory.models import Branch, BranchLevel, Merchant


def policy(settings: Settings, area: Area, priority: Priority) -> tuple[float, float, float]:
    """Business hours to respond, to be on site and to restore."""
    key = f"{area.value}:{priority.value}"
    hours = settings.service_sla.get(key)
    if hours is None:
        raise Invalid("no SLA policy for {key}; add it to FLEET_SERVICE_SLA", key=key)
    return hours


def area_of(session: Session, merchant: Merchant | None, settings: Settings) -> Area:
    """Town when the merchant is within the town radius of a city or county branch; rural
    when it is farther; town when its place is unknown (the stricter clock)."""
    if merchant is None or merchant.lat is None or merchant.lng is None:
        return Area.town
    centres = session.execute(
        select(Branch.lat, Branch.lng).where(
            col(Branch.level).in_([BranchLevel.city, BranchLevel.county]),
            col(Branch.lat).is_not(None),
        )
    ).all()
    reach = settings.service_town_radius_km * 1000
    for lat, lng in centres:
        near = lat is not None and lng is not None
        if near and distance_m((merchant.lat, merchant.lng), (lat, lng)) <= reach:
            return Area.town
    return Area.rural


def set_deadlines(ticket: Ticket, clock: Clock, settings: Settings, start: datetime) -> None:
    respond, on_site, restore = policy(settings, ticket.area, ticket.priority)
    ticket.respond_by = clock.add(start, respond)
    ticket.on_site_by = clock.add(start, on_site)
    ticket.restore_by = clock.add(start, restore)


def pause(ticket: Ticket, now: datetime) -> None:
    if ticket.paused_since is None:
        ticket.paused_since = now


def resume(ticket: Ticket, clock: Clock, now: datetime) -> None:
    """Moves the deadlines still ahead later by the business time spent paused."""
    if ticket.paused_since is None:
        return
    spent = max(0.0, clock.between(ticket.paused_since, now))
    if ticket.on_site_at is None and ticket.on_site_by is not None:
        ticket.on_site_by = clock.add(ticket.on_site_by, spent)
    if ticket.restore_by is not None:
        ticket.restore_by = clock.add(ticket.restore_by, spent)
    ticket.paused_hours += spent
    ticket.paused_since = None


def hours_left(ticket: Ticket, clock: Clock, now: datetime) -> float | None:
    """Business hours to the restore deadline (negative: late); frozen while paused."""
    if ticket.restore_by is None or ticket.restored_at is not None:
        return None
    at = ticket.paused_since if ticket.state in PAUSED and ticket.paused_since else now
    return round(clock.between(at, ticket.restore_by), 2)


def flag_breaches(ticket: Ticket, now: datetime) -> list[str]:
    """Sets the breach flags a ticket has earned by `now` and names them (a suspicion or a
    cancelled ticket earns none: no clock ran for it)."""
    if ticket.state in (TicketState.suspected, TicketState.cancelled):
        return breaches(ticket)

    def late(done: datetime | None, due: datetime | None) -> bool:
        if due is None:
            return False
        if done is not None:
            return done > due
        return now > due and ticket.state not in PAUSED

    ticket.breached_response = ticket.breached_response or late(
        ticket.responded_at, ticket.respond_by
    )
    ticket.breached_on_site = ticket.breached_on_site or late(ticket.on_site_at, ticket.on_site_by)
    ticket.breached_restore = ticket.breached_restore or late(ticket.restored_at, ticket.restore_by)
    return breaches(ticket)


def breaches(ticket: Ticket) -> list[str]:
    names = []
    if ticket.breached_response:
        names.append("response")
    if ticket.breached_on_site:
        names.append("on_site")
    if ticket.breached_restore:
        names.append("restore")
    return names
