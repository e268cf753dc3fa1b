"""Revisit plans of a day: each staff member's stops, what is done and undone, the outcomes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fleet.auth.browser import PageCallerDep
from fleet.core.requests import SessionDep
from fleet.pages.ops.common import branch_options, chosen_branch, render_ops, require_ops
from fleet.pages.render import texts_of
from fleet.scoring.service import today_local
from fleet.visits import history
from fleet.visits.models import VisitStatus
from fleet.visits.present import plan_public
from fleet.visits.schemas import PlanPublic, RoutePublic

router = APIRouter(include_in_schema=False)


@dataclass
class RouteTally:
    route: RoutePublic
    done: int = 0
    undone: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


@dataclass
class PlanView:
    plan: PlanPublic
    map_url: str
    routes: list[RouteTally]


def _tally(route: RoutePublic) -> RouteTally:
    tally = RouteTally(route)
    for stop in route.stops:
        if stop.status is VisitStatus.done:
            tally.done += 1
        elif stop.status is VisitStatus.planned:
            tally.undone += 1
        if stop.outcome is not None:
            tally.outcomes[stop.outcome.value] += 1
    return tally


@router.get("/plans")
def plans_page(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_ops(request, caller)
    t = texts_of(request, caller)
    typed = request.query_params.get("date") or ""
    errors: dict[str, str] = {}
    day = today_local()
    if typed:
        try:
            day = date.fromisoformat(typed)
        except ValueError:
            errors["date"] = t.gettext("Give a date as YYYY-MM-DD.")
    branch = chosen_branch(session, caller, request.query_params.get("branch"))
    views: list[PlanView] = []
    if not errors:
        for plan in history.plans_on(session, caller.actor, day, branch_id=branch.id):
            shown = plan_public(session, plan)
            query = urlencode({"branch_code": shown.branch_code, "date": day.isoformat()})
            tallies = [_tally(r) for r in shown.routes]
            views.append(PlanView(shown, f"/maps/routes?{query}", tallies))
    return render_ops(
        request,
        "ops/plans.html",
        caller,
        status_code=422 if errors else 200,
        title=t.gettext("Revisit plans"),
        day=day,
        typed=typed or day.isoformat(),
        errors=errors,
        branch=branch,
        branches=branch_options(session, caller),
        plans=views,
    )
