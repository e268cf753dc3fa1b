"""Revisit plans of a day: a summary line per field officer (stops, done, not yet done,
distance, outcomes), one officer's stops per page with a form to move a stop to another
officer, and the day re-planned or its sheets printed from the page. The work is the
planner's (visits.plan, which solves outside the write lock), visits.move's and the
printable sheet's (visits.printable); this module only shows and asks."""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from fleet.auth.browser import PageCaller, PageCallerDep
from fleet.auth.models import User
from fleet.core.db import attempt
from fleet.core.errors import FleetError
from fleet.core.requests import SessionDep
from fleet.core.security_headers import nonce_policy
from fleet.inventory import contacts
from fleet.inventory.models import Branch
from fleet.pages.ops.common import branch_options, chosen_branch, render_ops, require_ops
from fleet.pages.render import redirect, texts_of
from fleet.scoring.service import today_local
from fleet.visits import exports, history, move, printable
from fleet.visits import plan as planning
from fleet.visits.models import VisitPlan, VisitStatus
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
    print_url: str
    routes: list[RouteTally]
    shown: RouteTally | None = None  # the officer whose stops the page lists
    previous: str | None = None  # usernames of the officers before and after
    following: str | None = None
    officers: list[tuple[int, str]] = field(default_factory=list)  # whom a stop may go to


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


def plans_url(branch: str, day: date, staff: str | None = None) -> str:
    query = {"branch": branch, "date": day.isoformat()} | ({"staff": staff} if staff else {})
    return f"/ops/plans?{urlencode(query)}"


def _view(
    session: Session, caller: PageCaller, plan: VisitPlan, day: date, staff: str | None
) -> PlanView:
    shown = plan_public(session, plan)
    code = shown.branch_code
    query = urlencode({"branch_code": code, "date": day.isoformat()})
    printed = urlencode({"branch": code, "date": day.isoformat()})
    view = PlanView(
        shown,
        f"/maps/routes?{query}",
        f"/ops/plans/print?{printed}",
        [_tally(r) for r in shown.routes],
    )
    names = [t.route.username for t in view.routes]
    if staff in names:
        at = names.index(staff)
        view.shown = view.routes[at]
        view.previous = names[at - 1] if at > 0 else None
        view.following = names[at + 1] if at + 1 < len(names) else None
        view.officers = [
            (u.id or 0, u.full_name or u.username)
            for u in move.officers(session, caller.actor, plan)
            if u.username != staff
        ]
    return view


def _page(
    request: Request,
    caller: PageCaller,
    session: Session,
    *,
    typed: str,
    branch_code: str | None,
    staff: str | None,
    flash: str | None = None,
    status_code: int = 200,
) -> Response:
    t = texts_of(request, caller)
    errors: dict[str, str] = {}
    day = today_local()
    if typed:
        try:
            day = date.fromisoformat(typed)
        except ValueError:
            errors["date"] = t.gettext("Give a date as YYYY-MM-DD.")
    branch = chosen_branch(session, caller, branch_code)
    views: list[PlanView] = []
    if not errors:
        for plan in history.plans_on(session, caller.actor, day, branch_id=branch.id):
            views.append(_view(session, caller, plan, day, staff))
    extra = {"flash": flash, "flash_kind": "error"} if flash else {}
    return render_ops(
        request,
        "ops/plans.html",
        caller,
        status_code=422 if errors else status_code,
        title=t.gettext("Revisit plans"),
        day=day,
        typed=typed or day.isoformat(),
        errors=errors,
        branch=branch,
        branches=branch_options(session, caller),
        plans=views,
        staff=staff,
        plans_url=plans_url,
        plannable=day >= today_local(),  # a day gone by is not planned (again)
        **extra,
    )


@router.get("/plans")
def plans_page(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_ops(request, caller)
    q = request.query_params
    return _page(
        request,
        caller,
        session,
        typed=q.get("date") or "",
        branch_code=q.get("branch"),
        staff=q.get("staff") or None,
    )


def _day_of(caller: PageCaller) -> date | None:
    try:
        return date.fromisoformat(caller.form.get("date", ""))
    except ValueError:
        return None


@router.post("/plans/replan")
def replan(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    """Plans the branch's day again (the planner keeps the visits done)."""
    require_ops(request, caller)
    t = texts_of(request, caller)
    code, day = caller.form.get("branch", ""), _day_of(caller)
    if day is None:
        return _page(request, caller, session, typed="", branch_code=code, staff=None,
                     flash=t.gettext("Give a date as YYYY-MM-DD."), status_code=422)  # fmt: skip
    if day < today_local():  # a mistyped date: stops on a day over, that nobody would make
        return _page(request, caller, session, typed=day.isoformat(), branch_code=code,
                     staff=None, flash=t.gettext("A day gone by cannot be planned again."),
                     status_code=422)  # fmt: skip
    try:
        with attempt(session):
            plan = planning.plan_day(session, caller.actor, branch_code=code, plan_date=day)
    except FleetError as exc:
        return _page(
            request,
            caller,
            session,
            typed=day.isoformat(),
            branch_code=code,
            staff=None,
            flash=t.error(exc),
            status_code=exc.status_code,
        )
    return redirect(
        plans_url(code, day),
        flash=t.gettext("The day was planned again: {n} stops.", n=_stops(session, plan)),
    )


def _stops(session: Session, plan: VisitPlan) -> int:
    return sum(len(r.stops) for r in plan_public(session, plan).routes)


@router.post("/plans/move")
def move_stop(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    """Moves a planned stop to another field officer of the plan's branches."""
    require_ops(request, caller)
    t = texts_of(request, caller)
    form = caller.form
    code, day, staff = form.get("branch", ""), _day_of(caller), form.get("staff") or None
    try:
        visit_id, to_staff = int(form.get("visit", "")), int(form.get("to", ""))
    except ValueError:
        visit_id, to_staff = 0, 0
    if day is None or not visit_id or not to_staff:
        return _page(request, caller, session, typed=form.get("date", ""), branch_code=code,
                     staff=staff, flash=t.gettext("Choose whom the stop goes to."),
                     status_code=422)  # fmt: skip
    try:
        with attempt(session):
            visit = move.move_stop(session, caller.actor, visit_id, to_staff)
    except FleetError as exc:
        return _page(
            request,
            caller,
            session,
            typed=day.isoformat(),
            branch_code=code,
            staff=staff,
            flash=t.error(exc),
            status_code=exc.status_code,
        )
    taker = session.get(User, visit.staff_id)
    name = (taker.full_name or taker.username) if taker else ""
    return redirect(
        plans_url(code, day, staff),
        flash=t.gettext("Stop moved to {name}, as stop {seq} of the route.", name=name,
                        seq=visit.seq),
    )  # fmt: skip


@router.get("/plans/print")
def print_sheets(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    """The day's printable sheets (one page per officer, or one officer's with `staff`),
    contacts in clear for those who may read them."""
    require_ops(request, caller)
    q = request.query_params
    try:
        day = date.fromisoformat(q.get("date") or "")
    except ValueError:
        day = today_local()
    branch: Branch = chosen_branch(session, caller, q.get("branch"))
    plan = planning.get_plan(session, caller.actor, branch_code=branch.code, plan_date=day)
    staff = q.get("staff")
    staff_id = next(
        (r["staff_id"] for r in plan.routes if _username(session, r["staff_id"]) == staff), None
    )
    shown = plan_public(session, plan, staff_id=staff_id)
    if not contacts.shown(caller.actor):
        shown = exports.with_contacts_masked(shown)
    nonce = secrets.token_urlsafe(16)
    page = printable.html_text(shown, texts_of(request, caller))
    html = page.replace("<style>", f'<style nonce="{nonce}">', 1)
    return HTMLResponse(html, headers={"content-security-policy": nonce_policy(nonce, [])})


def _username(session: Session, user_id: int) -> str | None:
    user = session.get(User, user_id)
    return user.username if user else None
