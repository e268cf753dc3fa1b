"""Admin: the branch tree, and creating or changing a branch (code, name, level, parent,
location) through the inventory service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from fleet.auth.browser import PageCaller, PageCallerDep
from fleet.core import words
from fleet.core.errors import Conflict, Invalid, NotFound
from fleet.core.requests import SessionDep
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch, BranchCreate, BranchLevel, BranchUpdate
from fleet.pages.admin.forms import SUBMENU, problems, require_admin, text
from fleet.pages.render import redirect, render, texts_of

router = APIRouter(include_in_schema=False)

LEVEL_LABELS = {level: words.LEVEL[level.value] for level in BranchLevel}
FIELDS = ("code", "name", "level", "parent_code", "address", "lat", "lng")


def _form_page(
    request: Request,
    session: Session,
    caller: PageCaller,
    *,
    values: dict[str, Any],
    branch: Branch | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    t = texts_of(request, caller)
    tree = inventory.branch_tree(session, caller.actor)
    return render(
        request,
        "admin/branch_form.html",
        caller,
        status_code=422 if errors else 200,
        target=branch,
        values=values,
        errors=errors or {},
        levels=[(level.value, t.gettext(label)) for level, label in LEVEL_LABELS.items()],
        parents=[("", t.gettext("None (top level)"))]
        + [
            (b.code, "\u2003" * depth + f"{b.code} · {b.name}")
            for b, depth in tree
            if branch is None or b.id != branch.id
        ],
        submenu=SUBMENU,
    )


def _values_of(form: dict[str, Any]) -> dict[str, Any]:
    return {name: text(form, name) for name in FIELDS}


def _located(values: dict[str, Any]) -> dict[str, Any]:
    """The form's values for the schema: empty address and coordinates are none."""
    return values | {k: values[k] or None for k in ("parent_code", "address", "lat", "lng")}


@router.get("/branches")
def branches(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_admin(caller)
    return render(
        request,
        "admin/branches.html",
        caller,
        tree=inventory.branch_tree(session, caller.actor),
        level_labels=LEVEL_LABELS,
        submenu=SUBMENU,
    )


@router.get("/branches/new")
def new_branch(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_admin(caller)
    values = dict.fromkeys(FIELDS, "") | {
        "level": BranchLevel.outlet.value,
        "parent_code": request.query_params.get("parent", ""),
    }
    return _form_page(request, session, caller, values=values)


@router.post("/branches/new")
def create_branch(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_admin(caller)
    t = texts_of(request, caller)
    values = _values_of(caller.form)
    errors: dict[str, str] = {}
    try:
        data = BranchCreate(**_located(values))
        branch = inventory.create_branch(session, caller.actor, data)
    except ValidationError as exc:
        errors = problems(exc, t)
    except Conflict:
        errors = {"code": t.gettext("This code is taken.")}
    except NotFound:
        errors = {"parent_code": t.gettext("No such branch.")}
    if errors:
        return _form_page(request, session, caller, values=values, errors=errors)
    return redirect("/admin/branches", flash=t.gettext("Branch {code} created.", code=branch.code))


@router.get("/branches/{branch_id}")
def edit_branch(
    request: Request, caller: PageCallerDep, session: SessionDep, branch_id: int
) -> Response:
    require_admin(caller)
    branch = inventory.get_branch(session, caller.actor, branch_id)
    parent = session.get(Branch, branch.parent_id) if branch.parent_id else None
    values = {
        "code": branch.code,
        "name": branch.name,
        "level": branch.level.value,
        "parent_code": parent.code if parent else "",
        "address": branch.address or "",
        "lat": "" if branch.lat is None else str(branch.lat),
        "lng": "" if branch.lng is None else str(branch.lng),
    }
    return _form_page(request, session, caller, values=values, branch=branch)


@router.post("/branches/{branch_id}")
def save_branch(
    request: Request, caller: PageCallerDep, session: SessionDep, branch_id: int
) -> Response:
    require_admin(caller)
    t = texts_of(request, caller)
    branch = inventory.get_branch(session, caller.actor, branch_id)
    values = _values_of(caller.form) | {"code": branch.code}
    errors: dict[str, str] = {}
    try:
        fields = _located(values)
        fields.pop("code")
        data = BranchUpdate(**fields)
        inventory.update_branch(session, caller.actor, branch, data)
    except ValidationError as exc:
        errors = problems(exc, t)
    except NotFound:
        errors = {"parent_code": t.gettext("No such branch.")}
    except Invalid:
        errors = {"parent_code": t.gettext("A branch cannot sit below itself.")}
    if errors:
        return _form_page(request, session, caller, values=values, branch=branch, errors=errors)
    return redirect("/admin/branches", flash=t.gettext("Saved branch {code}.", code=branch.code))
