"""After-sales week by week (the KPI pages' trend): for each of the last weeks (Monday to
Sunday, local time), the faults opened, the tickets restored, the restore SLA met among them
and the mean time to restore in business hours (the paused time left out)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from pydantic import BaseModel
from sqlmodel import Session, col, select

from fleet.aftersales.clock import Clock
from fleet.aftersales.models import Ticket, TicketState
from fleet.core.access import Actor, Permission
from fleet.core.config import get_settings
from fleet.core.i18n import LOCAL_TZ
from fleet.inventory.scope import subtree_ids


class WeekRow(BaseModel):
    week_start: date
    opened: int
    restored: int
    sla_met_pct: float | None
    mean_restore_hours: float | None


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL_TZ)


def weekly(
    session: Session, actor: Actor, *, today: date, branch_id: int | None = None, weeks: int = 12
) -> list[WeekRow]:
    """The last `weeks` weeks up to the one holding `today`, oldest first."""
    actor.require(Permission.dispatch_tickets)
    clock = Clock(get_settings())
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    since = _start(first)
    scope = actor.branch_ids
    if branch_id is not None:
        below = subtree_ids(session, branch_id)
        scope = below if scope is None else scope & below
    live = col(Ticket.state).not_in([TicketState.cancelled, TicketState.suspected])
    stmt = select(Ticket).where(
        live, (col(Ticket.opened_at) >= since) | (col(Ticket.restored_at) >= since)
    )
    if scope is not None:
        stmt = stmt.where(col(Ticket.branch_id).in_(scope))
    tickets = list(session.execute(stmt).scalars())
    out = []
    for n in range(weeks):
        start_day = first + timedelta(days=7 * n)
        start, end = _start(start_day), _start(start_day + timedelta(days=7))
        opened = [t for t in tickets if start <= t.opened_at < end]
        done = [t for t in tickets if t.restored_at is not None and start <= t.restored_at < end]
        hours = [
            max(0.0, clock.between(t.opened_at, t.restored_at) - t.paused_hours)
            for t in done
            if t.restored_at is not None
        ]
        met = sum(1 for t in done if not t.breached_restore)
        out.append(
            WeekRow(
                week_start=start_day,
                opened=len(opened),
                restored=len(done),
                sla_met_pct=round(100 * met / len(done), 1) if done else None,
                mean_restore_hours=round(sum(hours) / len(hours), 2) if hours else None,
            )
        )
    return out
