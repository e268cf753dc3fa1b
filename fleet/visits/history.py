"""Visits looked back on: one unit's visits, and the stored plans of a day in a subtree."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from fleet.core.access import Actor, Permission
from fleet.inventory import service as inventory
from fleet.scoring import service as scoring
from fleet.visits.models import Visit, VisitPlan, VisitStatus


def terminal_visits(session: Session, actor: Actor, terminal_id: int) -> list[Visit]:
    """Every visit planned for one unit (not those re-planned away), newest first; 404
    outside the actor's scope."""
    actor.require(Permission.read_visits)
    terminal = inventory.get_terminal(session, actor, terminal_id)
    stmt = (
        select(Visit)
        .where(col(Visit.terminal_id) == terminal.id, col(Visit.status) != VisitStatus.cancelled)
        .order_by(col(Visit.plan_date).desc(), col(Visit.seq).desc(), col(Visit.id).desc())
    )
    return list(session.execute(stmt).scalars())


def plans_on(
    session: Session, actor: Actor, day: date, *, branch_id: int | None = None
) -> list[VisitPlan]:
    """The stored plans of `day` for the branches in the actor's scope (narrowed to a
    subtree), by branch."""
    actor.require(Permission.read_visits)
    stmt = select(VisitPlan).where(col(VisitPlan.plan_date) == day)
    branch_ids = scoring.scope_branch_ids(session, actor, branch_id)
    if branch_ids is not None:
        stmt = stmt.where(col(VisitPlan.branch_id).in_(branch_ids))
    return list(session.execute(stmt.order_by(col(VisitPlan.branch_id))).scalars())
