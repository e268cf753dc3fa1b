"""Admin pages: users here; branches, feed sources and settings in admin_*.py. Admins only,
through the same services (and audit entries) as the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session, col, select

from fleet.auth import service as auth
from fleet.auth.browser import PageCaller, PageCallerDep
from fleet.auth.models import User, UserCreate, UserUpdate
from fleet.core.access import Role
from fleet.core.errors import Conflict, Invalid, NotFound
from fleet.core.i18n import Texts
from fleet.core.requests import SessionDep
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch
from fleet.pages.admin import aftersales, branches, feeds, settings
from fleet.pages.admin import scorecard as scorecard_weights
from fleet.pages.admin.forms import (
    ROLE_LABELS,
    SUBMENU,
    checked,
    optional,
    problems,
    require_admin,
    text,
)
from fleet.pages.render import redirect, render, texts_of

# Every page under /admin: this module's and its areas' (their paths are relative to /admin).
router = APIRouter(prefix="/admin", include_in_schema=False)
for _area in (branches, feeds, settings, aftersales, scorecard_weights):
    router.include_router(_area.router)

PAGE_SIZE = 25
LANGUAGE_LABELS = {"zh": "中文", "en": "English"}


def _choices(session: Session, caller: PageCaller, t: Texts) -> dict[str, Any]:
    """The role, branch and language options of the user form."""
    return {
        "roles": [(r.value, t.gettext(label)) for r, label in ROLE_LABELS.items()],
        "branches": [
            (b.code, "\u2003" * depth + f"{b.code} · {b.name}")
            for b, depth in inventory.branch_tree(session, caller.actor)
        ],
        "languages": [(code, LANGUAGE_LABELS[code]) for code in auth.LANGUAGES],
        "submenu": SUBMENU,
    }


def _form_page(
    request: Request,
    session: Session,
    caller: PageCaller,
    *,
    values: dict[str, Any],
    user: User | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    t = texts_of(request, caller)
    return render(
        request,
        "admin/user_form.html",
        caller,
        status_code=422 if errors else 200,
        target=user,
        values=values,
        errors=errors or {},
        **_choices(session, caller, t),
    )


def _values_of(form: dict[str, Any]) -> dict[str, Any]:
    """What the admin typed, kept to show again (never the password)."""
    return {
        "username": text(form, "username"),
        "full_name": text(form, "full_name"),
        "role": text(form, "role"),
        "branch_code": text(form, "branch_code"),
        "phone": text(form, "phone"),
        "language": text(form, "language"),
        "is_active": checked(form, "is_active"),
    }


def _language_problem(values: dict[str, Any], t: Texts) -> dict[str, str]:
    if values["language"] not in auth.LANGUAGES:
        return {"language": t.gettext("Choose one of the options.")}
    return {}


@router.get("/users")
def users(
    request: Request, caller: PageCallerDep, session: SessionDep, q: str = "", offset: int = 0
) -> Response:
    require_admin(caller)
    rows, total = auth.list_users(
        session, caller.actor, q=q or None, sort="username", limit=PAGE_SIZE, offset=max(offset, 0)
    )
    ids = {u.branch_id for u in rows}
    branches = {
        b.id: b for b in session.execute(select(Branch).where(col(Branch.id).in_(ids))).scalars()
    }
    return render(
        request,
        "admin/users.html",
        caller,
        rows=rows,
        branches=branches,
        role_labels=ROLE_LABELS,
        page={"total": total, "limit": PAGE_SIZE, "offset": max(offset, 0)},
        q=q,
        submenu=SUBMENU,
    )


@router.get("/users/new")
def new_user(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_admin(caller)
    values = {"role": Role.field.value, "language": "zh", "is_active": True}
    return _form_page(request, session, caller, values=values)


@router.post("/users/new")
def create_user(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_admin(caller)
    t = texts_of(request, caller)
    values = _values_of(caller.form)
    errors = _language_problem(values, t)
    try:
        data = UserCreate(
            **(values | {"phone": optional(caller.form, "phone")}),
            password=optional(caller.form, "password"),
        )
    except ValidationError as exc:
        errors = problems(exc, t) | errors
    if errors:
        return _form_page(request, session, caller, values=values, errors=errors)
    try:
        user = auth.create_user(session, caller.actor, data)
    except Conflict:
        errors = {"username": t.gettext("This username is taken.")}
    except NotFound:
        errors = {"branch_code": t.gettext("No such branch.")}
    if errors:
        return _form_page(request, session, caller, values=values, errors=errors)
    return redirect(
        f"/admin/users/{user.id}", flash=t.gettext("User {name} created.", name=user.username)
    )


@router.get("/users/{user_id}")
def edit_user(
    request: Request, caller: PageCallerDep, session: SessionDep, user_id: int
) -> Response:
    require_admin(caller)
    user = auth.get_user(session, caller.actor, user_id)
    branch = session.get(Branch, user.branch_id)
    values = {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role.value,
        "branch_code": branch.code if branch else "",
        "phone": user.phone or "",
        "language": user.language,
        "is_active": user.is_active,
    }
    return _form_page(request, session, caller, values=values, user=user)


@router.post("/users/{user_id}")
def save_user(
    request: Request, caller: PageCallerDep, session: SessionDep, user_id: int
) -> Response:
    require_admin(caller)
    t = texts_of(request, caller)
    user = auth.get_user(session, caller.actor, user_id)
    values = _values_of(caller.form) | {"username": user.username}
    errors = _language_problem(values, t)
    try:
        data = UserUpdate(
            full_name=values["full_name"],
            role=values["role"],
            branch_code=values["branch_code"],
            phone=optional(caller.form, "phone"),
            language=values["language"],
            is_active=values["is_active"],
            password=optional(caller.form, "password"),  # empty: unchanged
        )
    except ValidationError as exc:
        errors = problems(exc, t) | errors
    if not errors:
        try:
            auth.update_user(session, caller.actor, user, data)
        except NotFound:
            errors = {"branch_code": t.gettext("No such branch.")}
        except Invalid as exc:
            errors = {"_form": t.error(exc)}
    if errors:
        return _form_page(request, session, caller, values=values, user=user, errors=errors)
    return redirect(
        f"/admin/users/{user.id}", flash=t.gettext("Saved changes to {name}.", name=user.username)
    )


@router.post("/users/{user_id}/logout-all")
def sign_out_everywhere(
    request: Request, caller: PageCallerDep, session: SessionDep, user_id: int
) -> Response:
    require_admin(caller)
    t = texts_of(request, caller)
    user = auth.get_user(session, caller.actor, user_id)
    auth.logout_all(session, user, actor=caller.actor)
    return redirect(
        f"/admin/users/{user.id}",
        flash=t.gettext("{name} is signed out on every device.", name=user.username),
    )
