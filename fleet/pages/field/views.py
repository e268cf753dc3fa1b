"""Pages for field staff: today's route on a phone, one visit with its outcome form (proof of
visit with the user's consent), and for branch operations the outcomes flagged as recorded
far from the merchant.

Everything goes through the visits services the API uses: my_visits, visible_visit (a field
user's own visits only; another's answers 404), record_outcome (the same next steps as the
API), flagged_visits.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from fleet.auth.browser import PageCaller, PageCallerDep
from fleet.auth.models import User
from fleet.core.access import Role
from fleet.core.config import get_settings
from fleet.core.db import attempt
from fleet.core.errors import Conflict, Invalid
from fleet.core.i18n import N_, Texts
from fleet.core.requests import SessionDep
from fleet.core.words import word
from fleet.inventory import contacts
from fleet.inventory.models import Branch
from fleet.pages.field import contracts as contract_pages
from fleet.pages.field import scorecard as scorecard_pages
from fleet.pages.field.sketch import Point, route_sketch
from fleet.pages.names import Names
from fleet.pages.ops.plans import plans_url
from fleet.pages.render import redirect, render, texts_of
from fleet.scoring.service import today_local
from fleet.visits import corrections, outcomes, present
from fleet.visits.models import Visit, VisitPlan, VisitStatus
from fleet.visits.schemas import OutcomeRequest, VisitPublic

# Every page under /field (paths relative to it).
router = APIRouter(prefix="/field", include_in_schema=False)
FLAGS_PAGE_SIZE = 50

NEXT_STEP_LABELS = {
    "none": N_("No further step"),
    "follow_up": N_("Follow-up visit on {due}"),
    "repair_ticket": N_("Repair ticket raised"),
    "recovery_requested": N_("Recovery requested (awaiting approval)"),
    "recovered": N_("Unit recovered"),
    "in_stock": N_("Unit back in stock"),
    "recovery_withdrawn": N_("Recovery request withdrawn (outcome corrected)"),
}
# Service refusals that name a form field, said in the user's language next to that field.
FIELD_PROBLEMS = {
    "outcome": N_("This outcome cannot be recorded for this visit."),
    "follow_up_on": N_("The follow-up date must come after the visit."),
    "location": N_("The location could not be read. Try again, or untick sharing."),
}
PROOF_FIELDS = {"lat": "location", "lng": "location", "accuracy_m": "location"}
CONFIRM_RECENT_USE = N_(
    "Unit {sn} was used on {day}, within the last {days} days: is there really no need? "
    "Tick the box below to confirm, and a recovery request is raised."
)


def tel_link(phone: str | None) -> str | None:
    """tel: URI of a phone number as written (0539-1234567 -> tel:05391234567)."""
    digits = re.sub(r"[^\d+]", "", phone or "")
    return f"tel:{digits}" if digits else None


def next_step_text(t: Texts, step: dict[str, Any]) -> str:
    label = NEXT_STEP_LABELS.get(str(step.get("kind")))
    if label is None:
        return str(step.get("kind"))
    due = step.get("due_on")
    return t.gettext(label, due=t.date(date.fromisoformat(due)) if due else "")


def _labels(t: Texts) -> dict[str, Any]:
    """What the templates need to put enum values into words."""
    return {
        "outcome_label": lambda o: t.gettext(word("outcome", o)) if o else "",
        "kind_label": lambda k: t.gettext(word("visit_kind", k)),
        "usage_label": lambda s: t.gettext(word("usage", s)),
        "next_step": lambda step: next_step_text(t, step),
        "tel": tel_link,
    }


def _shown(session: Session, caller: PageCaller, visits: list[Visit]) -> list[VisitPublic]:
    return [contacts.masked(v, caller.actor) for v in present.visits_public(session, visits)]


def _route_map_url(session: Session, visits: list[Visit], day: date) -> str | None:
    plan = session.get(VisitPlan, visits[0].plan_id) if visits else None
    branch = session.get(Branch, plan.branch_id) if plan else None
    if branch is None:
        return None
    return "/maps/routes?" + urlencode({"branch_code": branch.code, "date": day.isoformat()})


def _sketch(session: Session, caller: PageCaller, t: Texts, stops: list[VisitPublic]) -> Any:
    home_branch = session.get(Branch, caller.user.branch_id)
    home = None
    if home_branch is not None and home_branch.lat is not None and home_branch.lng is not None:
        home = Point(0, home_branch.lat, home_branch.lng, home_branch.name)
    points = [
        Point(s.seq, s.lat, s.lng, s.merchant_name, done=s.status is not VisitStatus.planned)
        for s in stops
        if s.lat is not None and s.lng is not None
    ]
    return route_sketch(t.gettext("Sketch of today's route"), home, points)


@router.get("/today")
def today(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    t = texts_of(request, caller)
    day = today_local()
    visits = outcomes.my_visits(session, caller.actor, day)
    before = outcomes.my_visits(session, caller.actor, day - timedelta(days=1))
    stops = _shown(session, caller, visits)
    unfinished = _shown(session, caller, [v for v in before if v.status is VisitStatus.planned])
    return render(
        request,
        "field/today.html",
        caller,
        title=t.gettext("Today's visits"),
        day=day,
        stops=stops,
        done=sum(1 for s in stops if s.status is not VisitStatus.planned),
        unfinished=unfinished,
        sketch=_sketch(session, caller, t, stops),
        route_map=_route_map_url(session, visits, day),
        **_labels(t),
    )


def _back(t: Texts, caller: PageCaller, session: Session, visit: Visit) -> tuple[str, str]:
    """Where the visit page leads back to: the officer's day, or for operations (who come
    from the plans page, to correct an outcome) the plan of the visit's day and officer."""
    if caller.actor.role is Role.field:
        return f"/field/today#v{visit.id}", t.gettext("Back to today's visits")
    plan = session.get(VisitPlan, visit.plan_id)
    branch = session.get(Branch, plan.branch_id) if plan else None
    staff = session.get(User, visit.staff_id)
    if branch is None:
        return "/ops/plans", t.gettext("Back to the plans")
    url = plans_url(branch.code, visit.plan_date, staff.username if staff else None)
    return f"{url}#stops", t.gettext("Back to the plans")


def _visit_page(
    request: Request,
    caller: PageCaller,
    session: Session,
    visit: Visit,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    confirm: str = "",
    correcting: bool = False,
) -> Response:
    t = texts_of(request, caller)
    stop = _shown(session, caller, [visit])[0]
    history = corrections.corrections(session, visit)
    names = Names(session).know(people=[h.actor_name for h in history])
    cancelled = visit.status is VisitStatus.cancelled
    replanned = t.error(outcomes.replanned_away(visit.id or 0)) if cancelled else ""
    choices = [(o.value, t.gettext(word("outcome", o))) for o in outcomes.outcomes_for(visit)]
    return render(
        request,
        "field/visit.html",
        caller,
        status_code=status_code,
        title=stop.merchant_name,
        stop=stop,
        outcome_options=[("", t.gettext("Choose…")), *choices],
        replanned=replanned,
        form=form or {},
        errors=errors or {},
        confirm=confirm,
        correcting=correcting,
        may_correct=corrections.may_correct(caller.actor, visit),
        back=_back(t, caller, session, visit),
        history=[
            {
                "at": h.at,
                "who": names.person(h.actor_name) or h.actor_name,
                "was": h.changes.get("outcome", [None, None])[0],
                "now": h.changes.get("outcome", [None, None])[1],
                "note": (h.changes.get("note") or [None, None])[1],
            }
            for h in history
        ],
        **_labels(t),
    )


def confirm_text(t: Texts, exc: Conflict) -> str:
    """What the page asks when "no need" would take back a unit in use, or "" for any other
    refusal (the service names the field confirm_recent_use)."""
    named = [d.get("field") for d in exc.details or [] if isinstance(d, dict)]
    if "confirm_recent_use" not in named:
        return ""
    day = exc.values.get("day")
    return t.gettext(
        CONFIRM_RECENT_USE,
        sn=exc.values.get("sn"),
        day=t.date(day) if isinstance(day, date) else day,
        days=exc.values.get("days"),
    )


@router.get("/visits/{visit_id}")
def visit_page(
    request: Request, visit_id: int, caller: PageCallerDep, session: SessionDep
) -> Response:
    visit = outcomes.visible_visit(session, caller.actor, visit_id)
    return _visit_page(request, caller, session, visit)


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def read_outcome_form(
    t: Texts, visit: Visit, form: dict[str, str]
) -> tuple[OutcomeRequest | None, dict[str, str]]:
    """The outcome form as the API's request, or the problems to show next to its fields.
    The location is taken only when the user ticked "share my location"."""
    errors: dict[str, str] = {}
    outcome = form.get("outcome", "")
    if outcome not in {o.value for o in outcomes.outcomes_for(visit)}:
        errors["outcome"] = t.gettext("Choose what happened.")
    note = form.get("note", "").strip()
    if len(note) > 1000:
        errors["note"] = t.gettext("Keep the note under 1000 characters.")
    follow_up_text = form.get("follow_up_on", "").strip()
    follow_up: date | None = None
    if follow_up_text:
        try:
            follow_up = date.fromisoformat(follow_up_text)
        except ValueError:
            errors["follow_up_on"] = t.gettext("Enter a date like 2026-12-05.")
    located: dict[str, float | None] = {"lat": None, "lng": None, "accuracy_m": None}
    if form.get("share_location") == "1":
        located = {k: _number(form.get(k)) for k in located}
        if located["lat"] is None or located["lng"] is None:
            located = dict.fromkeys(located)  # no fix from the phone: recorded without one
    if errors:
        return None, errors
    try:
        data = OutcomeRequest.model_validate(
            {
                "outcome": outcome,
                "note": note or None,
                "follow_up_on": follow_up,
                "confirm_recent_use": form.get("confirm_recent_use") == "1",
                **located,
            }
        )
    except ValidationError as exc:
        for problem in exc.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "_form"
            name = PROOF_FIELDS.get(name, name)
            errors[name] = t.gettext(FIELD_PROBLEMS.get(name, problem["msg"]))
        return None, errors
    return data, errors


def refusal_errors(t: Texts, exc: Invalid) -> dict[str, str]:
    """A service refusal as form errors: next to the field it names, else above the form."""
    named = [d.get("field") for d in exc.details or [] if isinstance(d, dict)]
    found = {str(f): t.gettext(FIELD_PROBLEMS[str(f)]) for f in named if f in FIELD_PROBLEMS}
    return found or {"_form": t.error(exc)}


@router.post("/visits/{visit_id}/outcome")
def record_outcome(
    request: Request, visit_id: int, caller: PageCallerDep, session: SessionDep
) -> Response:
    t = texts_of(request, caller)
    visit = outcomes.visible_visit(session, caller.actor, visit_id)
    form = {k: str(v) for k, v in caller.form.items()}
    data, errors = read_outcome_form(t, visit, form)
    if data is not None:
        try:
            # A refusal undoes only the attempt; the page is then shown with the same session.
            with attempt(session):
                outcomes.record_outcome(session, caller.actor, visit_id, data)
        except Conflict as exc:
            if visit.status is VisitStatus.cancelled:  # the page says why, in its place
                return _visit_page(request, caller, session, visit, status_code=409)
            confirm = confirm_text(t, exc)
            if confirm:  # a unit in use: the same form again, asking to confirm (a question,
                # not an error)
                return _visit_page(request, caller, session, visit, form=form, confirm=confirm)
            flash = t.gettext("This outcome was recorded already.")
            return redirect(f"/field/visits/{visit_id}", flash)
        except Invalid as exc:
            errors = refusal_errors(t, exc)
            visit = outcomes.visible_visit(session, caller.actor, visit_id)
        else:
            name = present.visits_public(session, [visit])[0].merchant_name
            flash = t.gettext("Outcome recorded: {merchant}", merchant=name)
            return redirect(f"/field/today#v{visit_id}", flash)
    return _visit_page(request, caller, session, visit, form=form, errors=errors, status_code=422)


@router.post("/visits/{visit_id}/correction")
def correct_outcome(
    request: Request, visit_id: int, caller: PageCallerDep, session: SessionDep
) -> Response:
    """A recorded outcome corrected: by its author the same day, by branch operations later
    (fleet.visits.corrections says who, and undoes what the old outcome set going)."""
    t = texts_of(request, caller)
    visit = outcomes.visible_visit(session, caller.actor, visit_id)
    form = {k: str(v) for k, v in caller.form.items() if k != "share_location"}
    data, errors = read_outcome_form(t, visit, form)
    confirm = ""
    if data is not None:
        try:
            with attempt(session):
                corrections.correct_outcome(session, caller.actor, visit_id, data)
        except Conflict as exc:
            confirm = confirm_text(t, exc)
            errors = {} if confirm else {"_form": t.error(exc)}
        except Invalid as exc:
            errors = refusal_errors(t, exc)
        else:
            return redirect(f"/field/visits/{visit_id}", t.gettext("Outcome corrected."))
        visit = outcomes.visible_visit(session, caller.actor, visit_id)
    return _visit_page(
        request,
        caller,
        session,
        visit,
        form=form,
        errors=errors,
        confirm=confirm,
        correcting=True,
        status_code=200 if confirm else 422,
    )


@router.get("/flags")
def flags(
    request: Request, caller: PageCallerDep, session: SessionDep, offset: int = 0
) -> Response:
    t = texts_of(request, caller)
    visits, total = outcomes.flagged_visits(
        session, caller.actor, limit=FLAGS_PAGE_SIZE, offset=max(offset, 0)
    )
    rows = _shown(session, caller, visits)
    where = {
        r.visit_id: present.amap_marker(r.proof.lat, r.proof.lng, t.gettext("Where the phone was"))
        for r in rows
        if r.proof is not None
    }
    return render(
        request,
        "field/flags.html",
        caller,
        title=t.gettext("Visits recorded far from the shop"),
        rows=rows,
        where=where,
        page={"total": total, "limit": FLAGS_PAGE_SIZE, "offset": offset},
        names=Names(session).know(people=[r.staff_username for r in rows]),
        max_m=get_settings().visit_proof_max_m,
        **_labels(t),
    )


# The staff member's own contracts (承包): a part of this router, in its own module.
router.include_router(contract_pages.router)

# The staff member's own 五提升 scorecard, in its own module.
router.include_router(scorecard_pages.router)
