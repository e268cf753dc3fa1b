"""Admin: the registered feed sources (URL, auth header, schedule, on or off), and pulling
one now. A stored auth header is never shown back: only whether one is set."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from fleet.auth.browser import PageCaller, PageCallerDep
from fleet.core.db import get_engine
from fleet.core.errors import Conflict, FleetError
from fleet.core.i18n import N_, Texts
from fleet.core.requests import SessionDep
from fleet.feeds import sources
from fleet.feeds.sources import FeedSourceCreate, FeedSourcePublic, FeedSourceUpdate
from fleet.pages.admin.forms import SUBMENU, checked, optional, problems, require_admin, text
from fleet.pages.render import redirect, render, texts_of

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


def _list_page(
    request: Request,
    session: Session,
    caller: PageCaller,
    *,
    offset: int = 0,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    rows, total = sources.list_sources(
        session, caller.actor, sort="name", limit=PAGE_SIZE, offset=max(offset, 0)
    )
    extra: dict[str, Any] = {"flash": problem, "flash_kind": "bad"} if problem else {}
    return render(
        request,
        "admin/feeds.html",
        caller,
        status_code=status_code,
        rows=rows,
        page={"total": total, "limit": PAGE_SIZE, "offset": max(offset, 0)},
        submenu=SUBMENU,
        **extra,
    )


def _form_page(
    request: Request,
    caller: PageCaller,
    *,
    values: dict[str, Any],
    source: FeedSourcePublic | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "admin/feed_form.html",
        caller,
        status_code=422 if errors else 200,
        target=source,
        # Only whether a secret is stored; its text (even masked) never reaches the page.
        auth_set=bool(source and source.auth_header),
        values=values,
        errors=errors or {},
        submenu=SUBMENU,
    )


def _values_of(form: dict[str, Any]) -> dict[str, Any]:
    """What the admin typed, to show again; the auth header is never sent back."""
    return {
        "name": text(form, "name"),
        "url": text(form, "url"),
        "schedule": text(form, "schedule"),
        "page_size": text(form, "page_size"),
        "enabled": checked(form, "enabled"),
    }


def _taken(t: Texts) -> dict[str, str]:
    return {"name": t.gettext("This name is taken.")}


@router.get("/feeds")
def feeds(
    request: Request, caller: PageCallerDep, session: SessionDep, offset: int = 0
) -> Response:
    require_admin(caller)
    return _list_page(request, session, caller, offset=offset)


@router.get("/feeds/new")
def new_feed(request: Request, caller: PageCallerDep) -> Response:
    require_admin(caller)
    values = {"name": "", "url": "", "schedule": "0 2 * * *", "page_size": "1000", "enabled": True}
    return _form_page(request, caller, values=values)


@router.post("/feeds/new")
def create_feed(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_admin(caller)
    t = texts_of(request, caller)
    values = _values_of(caller.form)
    errors: dict[str, str] = {}
    try:
        data = FeedSourceCreate(**values, auth_header=optional(caller.form, "auth_header"))
        created = sources.create_source(session, caller.actor, data)
    except ValidationError as exc:
        errors = problems(exc, t)
    except Conflict:
        errors = _taken(t)
    if errors:
        return _form_page(request, caller, values=values, errors=errors)
    return redirect("/admin/feeds", flash=t.gettext("Feed source {name} added.", name=created.name))


@router.get("/feeds/{source_id}")
def edit_feed(
    request: Request, caller: PageCallerDep, session: SessionDep, source_id: int
) -> Response:
    require_admin(caller)
    source = sources.get_source(session, caller.actor, source_id)
    values = source.model_dump(include={"name", "url", "schedule", "page_size", "enabled"})
    return _form_page(request, caller, values=values, source=source)


@router.post("/feeds/{source_id}")
def save_feed(
    request: Request, caller: PageCallerDep, session: SessionDep, source_id: int
) -> Response:
    require_admin(caller)
    t = texts_of(request, caller)
    source = sources.get_source(session, caller.actor, source_id)
    values = _values_of(caller.form)
    changes: dict[str, Any] = dict(values)
    # An empty field keeps the stored header; only the box removes it.
    if checked(caller.form, "clear_auth"):
        changes["auth_header"] = None
    elif optional(caller.form, "auth_header"):
        changes["auth_header"] = optional(caller.form, "auth_header")
    errors: dict[str, str] = {}
    try:
        sources.update_source(session, caller.actor, source_id, FeedSourceUpdate(**changes))
    except ValidationError as exc:
        errors = problems(exc, t)
    except Conflict:
        errors = _taken(t)
    if errors:
        return _form_page(request, caller, values=values, source=source, errors=errors)
    return redirect(
        "/admin/feeds", flash=t.gettext("Saved feed source {name}.", name=values["name"])
    )


@router.post("/feeds/{source_id}/enabled")
def switch_feed(
    request: Request, caller: PageCallerDep, session: SessionDep, source_id: int
) -> Response:
    """Turns a source on or off (its scheduled pulls with it)."""
    require_admin(caller)
    t = texts_of(request, caller)
    on = caller.form.get("enabled") == "1"
    source = sources.update_source(session, caller.actor, source_id, FeedSourceUpdate(enabled=on))
    message = N_("Feed source {name} is on.") if on else N_("Feed source {name} is off.")
    return redirect("/admin/feeds", flash=t.gettext(message, name=source.name))


@router.post("/feeds/{source_id}/pull")
def pull_feed(
    request: Request, caller: PageCallerDep, session: SessionDep, source_id: int
) -> Response:
    """Pulls the source now, from its saved cursor (as the API's pull does); the outcome is
    said on the list, the run is in the import history."""
    require_admin(caller)
    t = texts_of(request, caller)
    try:
        report = sources.pull_source(get_engine(), caller.actor, source_id)
    except FleetError as exc:
        problem = t.gettext("The pull failed: {reason}", reason=t.error(exc))
        return _list_page(request, session, caller, problem=problem, status_code=exc.status_code)
    return redirect(
        "/admin/feeds",
        flash=t.gettext(
            "Pulled: {received} received, {accepted} accepted, {rejected} rejected.",
            received=report.received,
            accepted=report.accepted,
            rejected=report.rejected,
        ),
    )
