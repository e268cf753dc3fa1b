"""A period's scorecard plan, and the baseline it freezes when branch operations approve it.

Draft → approved (once; audited). Approving stores every unit deployed at the period's
first day in the branch's subtree as it then stood (merchant, in the activation cohort, used
in the 30 days before): the scorecard reads that instead of recomputing it, so a late feed
correction or a backdated handover does not move the baseline people are paid against.
"""

from __future__ import annotations

from sqlalchemy import insert
from sqlmodel import Session, col, select

from fleet.core import audit
from fleet.core.access import Actor, Permission
from fleet.core.db import utcnow
from fleet.core.errors import Conflict, Invalid, NotFound
from fleet.inventory import holders
from fleet.inventory import service as inventory
from fleet.inventory.scope import subtree_ids
from fleet.pay import figures
from fleet.pay.periods import Period
from fleet.pay.periods import parse as parse_period
from fleet.pay.scorecard_models import PlanState, ScorecardBaseline, ScorecardPlan


def list_plans(session: Session, actor: Actor, period: str | None = None) -> list[ScorecardPlan]:
    """The plans in the actor's scope, newest period first."""
    query = select(ScorecardPlan).order_by(col(ScorecardPlan.period).desc())
    if period:
        query = query.where(col(ScorecardPlan.period) == parse_period(period).text)
    return [p for p in session.exec(query) if actor.sees_branch(p.branch_id)]


def get_plan(session: Session, actor: Actor, plan_id: int) -> ScorecardPlan:
    plan = session.get(ScorecardPlan, plan_id)
    if plan is None or not actor.sees_branch(plan.branch_id):
        raise NotFound("scorecard plan {id} not found", id=plan_id)
    return plan


def create_plan(
    session: Session, actor: Actor, *, period: str, branch_code: str, k: int = 3
) -> ScorecardPlan:
    """A draft plan for a period and a branch's subtree (one per period and branch)."""
    actor.require(Permission.approve_scorecard)
    chosen = parse_period(period)
    if not 1 <= k <= 100:
        raise Invalid("k must be between 1 and 100, not {k}", k=k)
    branch = inventory.branch_by_code(session, actor, branch_code)
    taken = session.exec(
        select(ScorecardPlan).where(
            ScorecardPlan.period == chosen.text, ScorecardPlan.branch_id == branch.id
        )
    ).first()
    if taken is not None:
        raise Conflict(
            "a scorecard plan for {period} and {branch} exists already",
            period=chosen.text,
            branch=branch.code,
        )
    assert branch.id is not None
    plan = ScorecardPlan(period=chosen.text, branch_id=branch.id, k=k, created_by=actor.username)
    session.add(plan)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="scorecard_plan",
        entity_id=plan.id,
        branch_id=branch.id,
        changes={"period": chosen.text, "k": k},
    )
    return plan


def approve(session: Session, actor: Actor, plan_id: int) -> ScorecardPlan:
    """Approves a draft plan and freezes its baseline (the period must have begun)."""
    actor.require(Permission.approve_scorecard)
    plan = get_plan(session, actor, plan_id)
    if plan.state is PlanState.approved:
        raise Conflict("scorecard plan {id} is approved already", id=plan_id)
    period = parse_period(plan.period)
    today = holders.local_day(utcnow())
    if period.start > today:
        raise Invalid(
            "the baseline of {period} is {start}: approve its plan from that day on",
            period=plan.period,
            start=str(period.start),
        )
    units = figures.baseline_at(session, period.start, set(subtree_ids(session, plan.branch_id)))
    if units:
        session.execute(
            insert(ScorecardBaseline),
            [
                {
                    "plan_id": plan.id,
                    "terminal_id": tid,
                    "merchant_id": u.merchant_id,
                    "in_cohort": u.in_cohort,
                    "was_active": u.was_active,
                }
                for tid, u in units.items()
            ],
        )
    plan.state = PlanState.approved
    plan.approved_at = utcnow()
    plan.approved_by = actor.username
    session.add(plan)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="approve",
        entity="scorecard_plan",
        entity_id=plan.id,
        branch_id=plan.branch_id,
        changes={
            "state": [PlanState.draft, PlanState.approved],
            "units": len(units),
            "cohort": sum(u.in_cohort for u in units.values()),
        },
    )
    return plan


def _frozen_units(session: Session, period: Period) -> tuple[list[int], set[int], int]:
    """The approved plans of `period` (their units are in scorecard_baseline), the branches
    they cover, and their k (0 when none is approved)."""
    plans = session.exec(
        select(ScorecardPlan).where(
            ScorecardPlan.period == period.text, ScorecardPlan.state == PlanState.approved
        )
    ).all()
    if not plans:
        return [], set(), 0
    covered = {b for p in plans for b in subtree_ids(session, p.branch_id)}
    return [p.id for p in plans if p.id is not None], covered, plans[0].k


def frozen(session: Session, period: Period) -> tuple[figures.Frozen, figures.Frozen, int]:
    """The frozen baselines of `period` and of the period before (the approved plans, and the
    branches they cover), and the approved plan's k (0 when none is)."""
    plan_ids, covered, k = _frozen_units(session, period)
    before, covered_before, _ = _frozen_units(session, period.previous())
    return figures.Frozen(plan_ids, covered), figures.Frozen(before, covered_before), k
