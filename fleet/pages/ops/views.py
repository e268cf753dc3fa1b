"""Branch operations: the overview of a branch's KPIs (this module); the recovery queue,
search and unit history, revisit plans and feed imports live in this package's other
modules and mount here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from fleet.aftersales import spares
from fleet.auth.browser import PageCaller, PageCallerDep
from fleet.core.errors import NotFound
from fleet.core.i18n import Texts
from fleet.core.requests import SessionDep
from fleet.inventory.models import Branch
from fleet.pages.charts import Series, line_chart
from fleet.pages.ops import aftersales, imports, ingests, plans, search, tickets
from fleet.pages.ops import contracts as contract_pages
from fleet.pages.ops import recovery as recovery_pages
from fleet.pages.ops import scorecard as scorecard_pages
from fleet.pages.ops.common import branch_options, chosen_branch, render_ops, require_ops
from fleet.pages.render import texts_of
from fleet.recovery import kpi as recovery_kpi
from fleet.recovery import service as recovery
from fleet.scoring import kpi as scoring_kpi
from fleet.scoring.models import UsageStatus

# Every page under /ops: this module's and its parts' (their paths are relative to /ops).
router = APIRouter(prefix="/ops", include_in_schema=False)
for _part in (
    recovery_pages,
    search,
    plans,
    ingests,
    tickets,
    imports,
    aftersales,
    contract_pages,
    scorecard_pages,
):
    router.include_router(_part.router)

TREND_WEEKS = 12
RECOVERY_MONTHS = 6


@dataclass
class RecoveryMonth:
    month: str
    raised: int = 0
    approved: int = 0
    rejected: int = 0
    recovered: int = 0
    redeployed: int = 0


@dataclass
class RecoveryFigures:
    """A branch subtree's recoveries: this month's counts, recent months, the queue, stock."""

    this_month: RecoveryMonth
    months: list[RecoveryMonth] = field(default_factory=list)
    waiting: int = 0
    in_stock: int = 0


def recovery_figures(session: Session, caller: PageCaller, branch: Branch) -> RecoveryFigures:
    report = recovery_kpi.recovery_kpis(session, caller.actor, branch_id=branch.id)
    months: dict[str, RecoveryMonth] = defaultdict(lambda: RecoveryMonth(""))
    for row in report.rows:  # one row per branch and month: summed over the subtree
        entry = months[row.month]
        entry.month = row.month
        entry.raised += row.raised
        entry.approved += row.approved
        entry.rejected += row.rejected
        entry.recovered += row.recovered
        entry.redeployed += row.redeployed
    current = recovery.today().strftime("%Y-%m")
    _, waiting = recovery.list_requests(session, caller.actor, branch_id=branch.id, limit=1)
    return RecoveryFigures(
        this_month=months.get(current) or RecoveryMonth(current),
        months=[months[m] for m in sorted(months, reverse=True)[:RECOVERY_MONTHS]],
        waiting=waiting,
        in_stock=sum(s.units for s in report.stock),
    )


def trend_charts(t: Texts, report: scoring_kpi.KpiReport) -> list[object]:
    """Week by week: 动户率, 使用率 and activations of the whole subtree."""
    weeks = report.total.weeks
    labels = [t.date(p.as_of, "M/d") for p in weeks]
    return [
        line_chart(
            t.gettext("Active-terminal rate by week"),
            labels,
            [Series(t.gettext("Active-terminal rate"), [p.active_rate for p in weeks])],
            percent=True,
        ),
        line_chart(
            t.gettext("Usage rate by week (transactions per terminal per day)"),
            labels,
            [Series(t.gettext("Usage rate"), [p.usage_rate for p in weeks])],
        ),
        line_chart(
            t.gettext("Activations by week"),
            labels,
            [Series(t.gettext("Activations"), [p.activations for p in weeks])],
        ),
    ]


@router.get("")
def overview(
    request: Request, caller: PageCallerDep, session: SessionDep, branch: str | None = None
) -> Response:
    require_ops(request, caller)
    t = texts_of(request, caller)
    chosen = chosen_branch(session, caller, branch)
    try:
        report: scoring_kpi.KpiReport | None = scoring_kpi.kpis(
            session, caller.actor, group_by="branch", weeks=TREND_WEEKS, branch_id=chosen.id
        )
    except NotFound:  # nothing scored yet
        report = None
    return render_ops(
        request,
        "ops/overview.html",
        caller,
        title=t.gettext("Overview"),
        branch=chosen,
        branches=branch_options(session, caller),
        report=report,
        statuses=[s.value for s in UsageStatus],
        charts=trend_charts(t, report) if report and report.total.weeks else [],
        recoveries=recovery_figures(session, caller, chosen),
        down=spares.units_down(session, caller.actor, chosen.id or 0),
    )
