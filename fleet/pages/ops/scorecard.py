"""The 五提升 league table for branch operations: the subtree's staff by points for a period,
with each one's points over the two periods before (the trend), the activation cohort and
score (Wilson-bound ones marked), 动户率 and its change, 使用率, revenue and 收益率 for roles
that may see pay, visits, and HR's workbook for download. And the period plans: a form to
draft one for a period and a branch, and approving it, which freezes its baseline (through
fleet.pay.plans, as the API and `fleet scorecard plan|approve` do)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import Integer, func
from sqlmodel import Session, col, select

from fleet.auth.browser import PageCaller, PageCallerDep
from fleet.auth.models import User
from fleet.core import files
from fleet.core.db import attempt
from fleet.core.errors import FleetError, Invalid
from fleet.core.requests import SessionDep
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch
from fleet.pages.ops.common import branch_options, render_ops, require_ops
from fleet.pages.render import redirect, texts_of
from fleet.pay import periods, plans, sheet
from fleet.pay.periods import Period
from fleet.pay.scorecard import scorecard
from fleet.pay.scorecard_models import ScorecardBaseline
from fleet.scoring.service import today_local

router = APIRouter(include_in_schema=False)
TREND = 2


def _period(text: str | None) -> Period:
    return periods.parse(text or f"{today_local():%Y-%m}")


@router.get("/scorecard")
def league(
    request: Request,
    caller: PageCallerDep,
    session: SessionDep,
    period: Annotated[str | None, Query()] = None,
    branch: Annotated[str | None, Query()] = None,
) -> Response:
    require_ops(request, caller)
    t = texts_of(request, caller)
    error = None
    try:
        chosen = _period(period)
    except Invalid as exc:
        chosen, error = _period(None), t.error(exc)
    branch_id = inventory.branch_by_code(session, caller.actor, branch).id if branch else None
    card = scorecard(session, caller.actor, period=chosen, branch_id=branch_id)
    before: list[Period] = []
    for _ in range(TREND):
        before.insert(0, (before[0] if before else chosen).previous())
    trend: dict[str, list[float | None]] = {r.key: [] for r in card.rows}
    for earlier in before:
        found = {
            r.key: r.points
            for r in scorecard(session, caller.actor, period=earlier, branch_id=branch_id).rows
        }
        for key, points in trend.items():
            points.append(found.get(key))
    return render_ops(
        request,
        "ops/scorecard.html",
        caller,
        title=t.gettext("Five-improvements scorecard"),
        card=card,
        period=chosen,
        before=before,
        trend=trend,
        branch=branch or "",
        branches=branch_options(session, caller),
        error=error,
    )


@router.get("/scorecard.xlsx")
def workbook(
    request: Request,
    caller: PageCallerDep,
    session: SessionDep,
    period: Annotated[str | None, Query()] = None,
    branch: Annotated[str | None, Query()] = None,
) -> FileResponse:
    require_ops(request, caller)
    chosen = _period(period)
    branch_id = inventory.branch_by_code(session, caller.actor, branch).id if branch else None
    card = scorecard(session, caller.actor, period=chosen, branch_id=branch_id)
    return files.download(
        f"scorecard-{chosen.text}.xlsx", lambda path: sheet.write(card, path, caller.user.language)
    )


def _plans_page(
    request: Request,
    caller: PageCaller,
    session: Session,
    *,
    values: dict[str, str] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    t = texts_of(request, caller)
    found = plans.list_plans(session, caller.actor)
    ids = [p.id for p in found]
    frozen = {
        plan_id: (int(units), int(cohort or 0))
        for plan_id, units, cohort in session.execute(
            select(
                col(ScorecardBaseline.plan_id),
                func.count(),
                func.sum(func.cast(col(ScorecardBaseline.in_cohort), Integer)),
            )
            .where(col(ScorecardBaseline.plan_id).in_(ids))
            .group_by(col(ScorecardBaseline.plan_id))
        )
    }
    branches = {
        b.id: b
        for b in session.exec(
            select(Branch).where(col(Branch.id).in_({p.branch_id for p in found}))
        )
    }
    approvers = dict(
        session.execute(
            select(col(User.username), col(User.full_name)).where(
                col(User.username).in_({p.approved_by for p in found if p.approved_by})
            )
        ).all()
    )
    return render_ops(
        request,
        "ops/scorecard_plans.html",
        caller,
        title=t.gettext("Scorecard plans"),
        plans=found,
        frozen=frozen,
        plan_branches=branches,
        approvers=approvers,
        branches=branch_options(session, caller),
        values=values or {"period": f"{today_local():%Y-%m}", "k": "3"},
        problem=problem,
        status_code=status_code,
    )


@router.get("/scorecard/plans")
def plans_page(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_ops(request, caller)
    return _plans_page(request, caller, session)


@router.post("/scorecard/plans")
def create_plan(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    """Drafts a plan for a period and a branch; a refusal is said above the form."""
    require_ops(request, caller)
    t = texts_of(request, caller)
    values = {key: str(caller.form.get(key, "")).strip() for key in ("period", "branch", "k")}
    try:
        k = int(values["k"] or 3)
    except ValueError:
        k = 0  # refused by the service, in words
    try:
        with attempt(session):
            made = plans.create_plan(
                session, caller.actor, period=values["period"], branch_code=values["branch"], k=k
            )
    except FleetError as exc:
        return _plans_page(
            request,
            caller,
            session,
            values=values,
            problem=t.error(exc),
            status_code=exc.status_code,
        )
    flash = t.gettext(
        "Plan for {period} drafted: approve it to freeze the baseline.", period=made.period
    )
    return redirect("/ops/scorecard/plans", flash=flash)


@router.post("/scorecard/plans/{plan_id}/approve")
def approve_plan(
    request: Request, caller: PageCallerDep, session: SessionDep, plan_id: int
) -> Response:
    """Approves a draft plan and freezes its baseline; a refusal is said on the page."""
    require_ops(request, caller)
    t = texts_of(request, caller)
    try:
        with attempt(session):
            done = plans.approve(session, caller.actor, plan_id)
    except FleetError as exc:
        if exc.status_code == 404:
            raise
        return _plans_page(
            request, caller, session, problem=t.error(exc), status_code=exc.status_code
        )
    flash = t.gettext("Plan for {period} approved: its baseline is frozen.", period=done.period)
    return redirect("/ops/scorecard/plans", flash=flash)
