"""Admins' after-sales pages: contractors and their contracts (terms per outlet, per ticket,
penalty per breach; covered branches; technicians), and the SLA policies (area × priority:
business hours to respond, be on site, restore). Through the same services as the API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from fleet.aftersales import contractors, policies
from fleet.aftersales.models import Area, Priority
from fleet.auth.browser import PageCaller, PageCallerDep
from fleet.core.access import Permission
from fleet.core.db import attempt
from fleet.core.errors import Conflict, Invalid, NotFound
from fleet.core.i18n import N_
from fleet.core.requests import SessionDep
from fleet.pages import tickets as words
from fleet.pages.admin.forms import SUBMENU, problems, require_admin
from fleet.pages.names import Names
from fleet.pages.render import redirect, render, texts_of

router = APIRouter(include_in_schema=False)
AREA = {"town": N_("Town (within 5 km of a city or county branch)"), "rural": N_("Rural")}
KIND = {"company": N_("Company"), "person": N_("Person (e.g. a re-hired retiree)")}


def _require(caller: PageCaller) -> None:
    require_admin(caller)
    caller.actor.require(Permission.manage_contractors)


def _contractors_page(
    request: Request,
    caller: PageCaller,
    session: Session,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    t = texts_of(request, caller)
    rows = [contractors.public(session, c) for c in contractors.list_all(session, caller.actor)]
    return render(
        request,
        "admin/contractors.html",
        caller,
        status_code=status_code,
        title=t.gettext("Contractors"),
        submenu=SUBMENU,
        rows=rows,
        names=Names(session),
        kinds=[(k, t.gettext(v)) for k, v in KIND.items()],
        kind_label=lambda k: t.gettext(KIND.get(str(getattr(k, "value", k)), str(k))),
        form=form or {"annual_fee_per_outlet": "4000"},
        errors=errors or {},
    )


@router.get("/contractors")
def contractors_page(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    _require(caller)
    return _contractors_page(request, caller, session)


def _codes(text: str) -> list[str]:
    return [part.strip() for part in text.replace("，", ",").split(",") if part.strip()]


def _who_of(form: dict[str, str]) -> dict[str, object]:
    """A contractor's name, kind, branches and technicians as the form gives them."""
    return {
        "name": form.get("name", "").strip(),
        "kind": form.get("kind") or "company",
        "branch_codes": _codes(form.get("branch_codes", "")),
        "staff_usernames": _codes(form.get("staff_usernames", "")),
    }


def _rates_of(form: dict[str, str]) -> dict[str, object]:
    """A contractor's rates as the form gives them (an empty field is 0)."""
    return {name: form.get(name) or 0 for name in contractors.Rates.model_fields}


@router.post("/contractors")
def create_contractor(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    _require(caller)
    t = texts_of(request, caller)
    form = {k: str(v) for k, v in caller.form.items()}
    try:
        data = contractors.ContractorCreate.model_validate(
            {"code": form.get("code", "").strip(), **_who_of(form), **_rates_of(form)}
        )
    except ValidationError as exc:
        found = problems(exc, t)
        return _contractors_page(request, caller, session, form=form, errors=found, status_code=422)
    try:
        with attempt(session):
            made = contractors.create(session, caller.actor, data)
    except (Conflict, Invalid, NotFound) as exc:
        said = {"_form": t.error(exc)}
        return _contractors_page(request, caller, session, form=form, errors=said, status_code=422)
    return redirect("/admin/contractors", t.gettext("Contractor {name} added.", name=made.name))


def _contractor_page(
    request: Request,
    caller: PageCaller,
    session: Session,
    code: str,
    *,
    who: dict[str, str] | None = None,
    terms: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """One contractor: who it is (name, kind, branches, technicians) and its terms by month."""
    t = texts_of(request, caller)
    found = contractors.by_code(session, caller.actor, code)
    shown = contractors.public(session, found)
    signed = contractors.last_signed_month(session, found)
    first_open = _month_after(signed) if signed else None
    return render(
        request,
        "admin/contractor.html",
        caller,
        status_code=status_code,
        title=shown.name,
        submenu=SUBMENU,
        c=shown,
        names=Names(session),
        kinds=[(k, t.gettext(v)) for k, v in KIND.items()],
        signed=signed,
        who=who
        or {
            "name": shown.name,
            "kind": shown.kind.value,
            "branch_codes": ", ".join(shown.branch_codes),
            "staff_usernames": ", ".join(shown.staff_usernames),
        },
        terms=terms
        or {
            "from_month": max(_month_after(contractors.this_month()), first_open or ""),
            **{k: f"{getattr(shown, k):g}" for k in contractors.Rates.model_fields},
        },
        errors=errors or {},
    )


def _month_after(month: str) -> str:
    return contractors.next_month_start(month).strftime("%Y-%m")


@router.get("/contractors/{code}")
def contractor_page(
    request: Request, code: str, caller: PageCallerDep, session: SessionDep
) -> Response:
    _require(caller)
    return _contractor_page(request, caller, session, code)


@router.post("/contractors/{code}")
def change_contractor(
    request: Request, code: str, caller: PageCallerDep, session: SessionDep
) -> Response:
    _require(caller)
    t = texts_of(request, caller)
    form = {k: str(v) for k, v in caller.form.items()}
    try:
        who = contractors.Who.model_validate(_who_of(form))
    except ValidationError as exc:
        said = problems(exc, t)
        return _contractor_page(
            request, caller, session, code, who=form, errors=said, status_code=422
        )
    try:
        with attempt(session):
            changed = contractors.change(session, caller.actor, code, who)
    except (Conflict, Invalid, NotFound) as exc:
        said = {"_form": t.error(exc)}
        return _contractor_page(
            request, caller, session, code, who=form, errors=said, status_code=422
        )
    return redirect(
        f"/admin/contractors/{code}", t.gettext("Contractor {name} saved.", name=changed.name)
    )


@router.post("/contractors/{code}/terms")
def set_contractor_terms(
    request: Request, code: str, caller: PageCallerDep, session: SessionDep
) -> Response:
    _require(caller)
    t = texts_of(request, caller)
    form = {k: str(v) for k, v in caller.form.items()}
    try:
        data = contractors.TermsChange.model_validate(
            {"from_month": form.get("from_month", "").strip(), **_rates_of(form)}
        )
    except ValidationError as exc:
        said = problems(exc, t)
        if "from_month" in said:
            said["from_month"] = t.gettext("Write the month as 2027-01.")
        return _contractor_page(
            request, caller, session, code, terms=form, errors=said, status_code=422
        )
    try:
        with attempt(session):
            contractors.set_terms(session, caller.actor, code, data)
    except (Conflict, Invalid) as exc:
        said = {"from_month": t.error(exc)}
        return _contractor_page(
            request, caller, session, code, terms=form, errors=said, status_code=422
        )
    return redirect(
        f"/admin/contractors/{code}",
        t.gettext("New terms from {month} saved.", month=data.from_month),
    )


def _sla_page(
    request: Request,
    caller: PageCaller,
    session: Session,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    t = texts_of(request, caller)
    in_force = policies.in_force(session)
    rows = [
        {
            "area": a.value,
            "priority": p.value,
            "label": f"{t.gettext(AREA[a.value])} · {t.gettext(words.PRIORITY[p.value])}",
            "hours": in_force.get(f"{a.value}:{p.value}"),
        }
        for a in Area
        for p in Priority
    ]
    return render(
        request,
        "admin/sla.html",
        caller,
        status_code=status_code,
        title=t.gettext("SLA policies"),
        submenu=SUBMENU,
        rows=rows,
        errors=errors or {},
    )


@router.get("/sla")
def sla_page(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    _require(caller)
    return _sla_page(request, caller, session)


@router.post("/sla/{area}/{priority}")
def set_sla(
    request: Request, area: str, priority: str, caller: PageCallerDep, session: SessionDep
) -> Response:
    _require(caller)
    t = texts_of(request, caller)
    if area not in {a.value for a in Area} or priority not in {p.value for p in Priority}:
        raise NotFound("no SLA policy for {key}", key=f"{area}:{priority}")
    key = f"{area}:{priority}"
    try:
        hours = tuple(
            float(caller.form.get(name, "")) for name in ("respond", "on_site", "restore")
        )
        with attempt(session):
            policies.set_policy(session, caller.actor, Area(area), Priority(priority), hours)  # type: ignore[arg-type]
    except ValueError:
        said = {key: t.gettext("Enter a number, 0 or more.")}
        return _sla_page(request, caller, session, errors=said, status_code=422)
    except Invalid as exc:
        return _sla_page(request, caller, session, errors={key: t.error(exc)}, status_code=422)
    return redirect("/admin/sla", t.gettext("SLA policy saved; new tickets use it."))
