"""After-sales' nightly step, after scoring: suspected faults from the feed, restores verified
by their first transaction (or flagged for a call-back), and SLA breaches flagged."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.aftersales import sla, watch
from fleet.aftersales.models import LIVE, Ticket, TicketState
from fleet.core.config import Settings
from fleet.core.db import session_scope, utcnow
from fleet.core.errors import Reason
from fleet.core.jobs import Job, JobResult, job_actor
from fleet.scoring.service import today_local


def flag_breaches(session: Session) -> int:
    """Sets the breach flags live tickets have earned by now; how many tickets changed."""
    now = utcnow()
    changed = 0
    live = session.execute(
        select(Ticket).where(
            col(Ticket.state).in_(LIVE), col(Ticket.state) != TicketState.suspected
        )
    ).scalars()
    for ticket in live:
        before = sla.breaches(ticket)
        if sla.flag_breaches(ticket, now) != before:
            session.add(ticket)
            changed += 1
    session.flush()
    return changed


def nightly(engine: Engine) -> JobResult:
    """Yesterday's suspicions, verifications and call-backs, and breaches as of now."""
    day = today_local() - timedelta(days=1)
    with session_scope(engine) as session:
        raised = watch.raise_suspicions(session, job_actor("aftersales.nightly"), day)
        counts = watch.verify_restored(session)
        counts = {"suspected": len(raised), **counts, "breached": flag_breaches(session)}
    message = ", ".join(f"{v} {k}" for k, v in counts.items())
    return JobResult(counts, message)


def jobs(settings: Settings, engine: Engine) -> list[Job]:
    return [
        Job(
            "aftersales.nightly",
            nightly,
            settings.job_tickets_schedule,
            Reason("suspected faults, verified restores, SLA breaches"),
        )
    ]
