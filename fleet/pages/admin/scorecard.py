"""The weights of the five 五提升 measures in each role's points, set by an admin (the same
service as `fleet scorecard weights` and PUT /api/v1/scorecard/weights/{role})."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from fleet.auth.browser import PageCaller, PageCallerDep
from fleet.core import words
from fleet.core.db import attempt
from fleet.core.errors import Invalid, NotFound
from fleet.core.requests import SessionDep
from fleet.pages.admin.forms import SUBMENU, require_admin
from fleet.pages.render import redirect, render, texts_of
from fleet.pay import weights
from fleet.pay.scorecard_models import Measure
from fleet.pay.sheet import MEASURE_NAMES

router = APIRouter(include_in_schema=False)
ROLES = ("field", "service", "branch_ops", "marketing")


def _page(
    request: Request,
    caller: PageCaller,
    session: Session,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    t = texts_of(request, caller)
    table = weights.all_roles(session)
    rows = [
        {
            "role": role,
            "label": t.gettext(words.ROLE[role]),
            "weights": [
                (m.value, t.gettext(MEASURE_NAMES[m.value]), table[role][m]) for m in Measure
            ],
        }
        for role in ROLES
    ]
    return render(
        request,
        "admin/scorecard_weights.html",
        caller,
        status_code=status_code,
        title=t.gettext("Scorecard weights"),
        submenu=SUBMENU,
        rows=rows,
        errors=errors or {},
    )


@router.get("/scorecard-weights")
def weights_page(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_admin(caller)
    return _page(request, caller, session)


@router.post("/scorecard-weights/{role}")
def set_weights(
    request: Request, role: str, caller: PageCallerDep, session: SessionDep
) -> Response:
    require_admin(caller)
    t = texts_of(request, caller)
    if role not in ROLES:
        raise NotFound("{role} is not a role", role=role)
    try:
        given = {m.value: int(caller.form.get(m.value, "").strip()) for m in Measure}
        with attempt(session):
            weights.set_weights(session, caller.actor, role, given)
    except ValueError:
        said = {role: t.gettext("Enter a whole number from 0 to 100.")}
        return _page(request, caller, session, errors=said, status_code=422)
    except Invalid as exc:
        return _page(request, caller, session, errors={role: t.error(exc)}, status_code=422)
    return redirect("/admin/scorecard-weights", t.gettext("Weights saved."))
