"""Sign-in, sign-out, language, the start page; and `install`, which mounts every page."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from fleet.auth import service as auth
from fleet.auth.browser import (
    COOKIE,
    LANG_COOKIE,
    LoginRequired,
    PageCaller,
    PageCallerDep,
    caller_from_cookie,
    csrf_token,
    is_local_path,
    read_pending,
)
from fleet.auth.security import create_access_token
from fleet.core import http_errors as errors
from fleet.core.config import get_settings
from fleet.core.db import session_scope
from fleet.core.errors import FleetError, TooManyRequests, Unauthorized, Unavailable
from fleet.core.requests import SessionDep
from fleet.pages.admin import views as admin
from fleet.pages.field import views as field
from fleet.pages.marketing import views as marketing
from fleet.pages.ops import views as ops
from fleet.pages.qr import views as qr
from fleet.pages.render import home_for, render, texts_of
from fleet.pages.service import views as service

router = APIRouter(include_in_schema=False)
# Paths answered with HTML pages (errors included) rather than the API's JSON.
PAGE_PREFIXES = (
    "/login", "/logout", "/settings", "/field", "/ops", "/marketing", "/admin", "/service",
    "/qr",
)  # fmt: skip


def is_page(request: Request) -> bool:
    path = request.url.path
    return path == "/" or path.startswith(PAGE_PREFIXES)


def _login_page(
    request: Request,
    *,
    next_url: str = "/",
    pending: str | None = None,
    username: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "login.html",
        status_code=status_code,
        next_url=next_url if is_local_path(next_url) else "/",
        pending=pending,
        username=username,
        errors=errors or {},
    )


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    response = _login_page(request, next_url=next)
    if lang := request.query_params.get("lang"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


@router.post("/login")
async def login(request: Request, session: SessionDep) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    username, password = form.get("username", "").strip(), form.get("password", "")
    next_url, pending = form.get("next", "/"), form.get("pending") or None
    t = texts_of(request)
    problems: dict[str, str] = {}
    status = 401
    if not username:
        problems["username"] = t.gettext("Enter your username.")
    if not password:
        problems["password"] = t.gettext("Enter your password.")
    if not problems:
        try:
            auth.throttle_sign_in(session, request.client.host if request.client else None)
            user = auth.authenticate(session, username, password)
        except Unauthorized:
            problems["_form"] = t.gettext("Wrong username or password, or the account is locked.")
        except TooManyRequests as exc:
            problems["_form"] = t.gettext(
                "Too many sign-in attempts from this computer. Try again in {n} seconds.",
                n=exc.retry_after,
            )
            status = 429
    if problems:
        return _login_page(
            request,
            next_url=next_url,
            pending=pending,
            username=username,
            errors=problems,
            status_code=status,
        )
    token, lifetime = create_access_token(user.id or 0, user.token_version)
    home = home_for(user.role)
    kept = read_pending(pending) if pending else None
    if kept:
        caller = PageCaller(user=user, actor=auth.actor_for(session, user), csrf=csrf_token(token))
        path, fields = kept
        response: Response = render(
            request, "resume.html", caller, path=path, fields=fields, home=home, confirm=False
        )
    else:
        target = next_url if is_local_path(next_url) and next_url != "/" else home
        response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=lifetime,
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
    )
    return response


@router.post("/logout")
def logout(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    # The cookie's token is refused from now on, not only dropped by this browser: a copy of
    # it (a stolen cookie) stops working too.
    auth.sign_out(session, request.cookies[COOKIE])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.post("/settings/language")
def choose_language(caller: PageCallerDep, session: SessionDep) -> Response:
    auth.set_own_language(session, caller.user, caller.form.get("language", ""))
    next_url = caller.form.get("next", "/")
    return RedirectResponse(next_url if is_local_path(next_url) else "/", status_code=303)


@router.get("/")
def home(caller: PageCallerDep) -> Response:
    return RedirectResponse(home_for(caller.actor.role), status_code=303)


def _login_required(request: Request, exc: LoginRequired) -> Response:
    if exc.reason == "stale_form" and exc.pending:
        with session_scope() as session:
            resumed = _resume_page(request, session, exc.pending)
        if resumed is not None:
            return resumed
    if exc.pending:
        return _login_page(request, next_url=exc.next_url, pending=exc.pending, status_code=401)
    return RedirectResponse(f"/login?next={quote(exc.next_url, safe='')}", status_code=303)


def _resume_page(request: Request, session: Session, pending: str) -> Response | None:
    """A form from before the last sign-in, shown again to be confirmed by a click."""
    caller = _cookie_page_caller(request, session)
    kept = read_pending(pending)
    if caller is None or kept is None:
        return None
    path, fields = kept
    home = home_for(caller.actor.role)
    return render(request, "resume.html", caller, path=path, fields=fields, home=home, confirm=True)


def _cookie_page_caller(request: Request, session: Session) -> PageCaller | None:
    caller = caller_from_cookie(request, session)
    if caller is None:
        return None
    return PageCaller(
        user=caller.user, actor=caller.actor, csrf=csrf_token(request.cookies[COOKIE])
    )


def _error_page(request: Request, exc: FleetError) -> Response:
    if not is_page(request):
        return errors.fleet_error_response(exc, request)
    if isinstance(exc, Unavailable):
        # An outage (of the database, or of what a map needs): the page says so without
        # asking the database who is signed in, which could fail or wait the same way.
        return _render_error(request, exc, None)
    try:
        with session_scope() as session:
            return _render_error(request, exc, _cookie_page_caller(request, session))
    except (FleetError, DBAPIError):  # the database went away meanwhile
        return _render_error(request, exc, None)


def _database_page(request: Request, exc: Exception) -> Response:
    return _error_page(request, errors.database_meaning(exc))


def _render_error(request: Request, exc: FleetError, caller: PageCaller | None) -> Response:
    t = texts_of(request, caller)
    headings = {
        403: t.gettext("Not allowed"),
        404: t.gettext("Not found"),
        409: t.gettext("Conflict"),
        422: t.gettext("Please check your input"),
        503: t.gettext("Service unavailable"),
    }
    response = render(
        request,
        "error.html",
        caller,
        status_code=exc.status_code,
        heading=headings.get(exc.status_code, t.gettext("Something went wrong")),
        message=t.error(exc),
    )
    # The same hint as the API's: when a retry is worth it (a busy or restarting database).
    if (seconds := errors.retry_after(exc)) is not None:
        response.headers["Retry-After"] = seconds
    return response


def install(app: FastAPI) -> None:
    app.mount(
        "/pages/static",
        StaticFiles(directory=Path(__file__).parent / "static"),
        name="page-static",
    )
    app.include_router(router)
    for module in (field, ops, marketing, admin, service, qr):
        app.include_router(module.router)
    app.add_exception_handler(LoginRequired, _login_required)  # type: ignore[arg-type]
    app.add_exception_handler(FleetError, _error_page)  # type: ignore[arg-type]
    # A database failure outside a unit of work: a page's HTML answer too, not the API's JSON.
    app.add_exception_handler(DBAPIError, _database_page)
    app.add_exception_handler(OverflowError, _database_page)
