"""The 五提升 league table for branch operations: the subtree's staff by points for a period,
with each one's points over the two periods before (the trend), the activation cohort and
score (Wilson-bound ones marked), 动户率 and its change, 使用率, revenue and 收益率 for roles
that may see pay, visits, and HR's workbook for download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response

from fleet.auth.browser import PageCallerDep
from fleet.core import files
from fleet.core.errors import Invalid
from fleet.core.requests import SessionDep
from fleet.inventory import service as inventory
from fleet.pages.ops.common import branch_options, render_ops, require_ops
from fleet.pages.render import texts_of
from fleet.pay import periods, sheet
from fleet.pay.periods import Period
from fleet.pay.scorecard import scorecard
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
        title=t.gettext("五提升 scorecard"),
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
