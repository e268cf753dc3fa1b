"""Browser sign-in: a session cookie, a CSRF token for every form, and the action kept
across a sign-in when the session expired mid-task.

The cookie holds the same signed access token the API hands out (same lifetime, same
"sign out everywhere"), marked HttpOnly and SameSite=Lax. Signing out refuses that token from
then on (fleet.auth.service.sign_out), so a copy of the cookie stops working too. Every form
posts a CSRF token derived from the cookie, so a form from another site cannot act for the user.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

import jwt
from fastapi import Depends, Request
from sqlmodel import Session

from fleet.auth import service as auth
from fleet.auth.dependencies import Caller, get_caller, oauth2
from fleet.auth.keys import signing_key
from fleet.auth.security import decode_access_token
from fleet.core.db import utcnow
from fleet.core.errors import Forbidden, Unauthorized
from fleet.core.requests import SessionDep

COOKIE = "fleet_session"
LANG_COOKIE = "fleet_lang"
CSRF_FIELD = "csrf"
PENDING_FIELD = "pending"
PENDING_MINUTES = 60
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class LoginRequired(Exception):
    """No valid session: a GET goes to the sign-in page; a POST's form is kept for after it."""

    next_url: str
    pending: str | None = None
    reason: str = field(default="")


def csrf_token(session_token: str) -> str:
    key = signing_key().encode()
    return hmac.new(key, b"csrf|" + session_token.encode(), hashlib.sha256).hexdigest()[:32]


def sign_pending(path: str, form: list[tuple[str, str]]) -> str:
    """A signed, expiring record of a form post that found no session."""
    claims = {
        "path": path,
        "form": [[k, v] for k, v in form if k not in {CSRF_FIELD, PENDING_FIELD}],
        "exp": utcnow() + timedelta(minutes=PENDING_MINUTES),
    }
    return jwt.encode(claims, signing_key(), algorithm="HS256")


def read_pending(token: str) -> tuple[str, list[tuple[str, str]]] | None:
    """(path, form fields) of a pending post, or None when it is forged or too old."""
    try:
        claims = jwt.decode(token, signing_key(), algorithms=["HS256"])
        path, form = str(claims["path"]), [(str(k), str(v)) for k, v in claims["form"]]
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        return None
    return (path, form) if is_local_path(path) else None


def is_local_path(url: str) -> bool:
    """Only paths on this site may be a redirect target (no open redirect)."""
    parts = urlsplit(url)
    if not url.startswith("/") or url.startswith("//") or "\\" in url:
        return False  # browsers read "/\\host" as "//host"
    return not parts.scheme and not parts.netloc


def same_origin(request: Request) -> bool:
    """A browser's post says where its form came from; refuse another site's."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # not a browser form post (or a privacy setting); CSRF token still guards
    host = urlsplit(origin).netloc
    return host == request.headers.get("host", request.url.netloc)


@dataclass(frozen=True)
class PageCaller(Caller):
    """The signed-in user of a page request, with the CSRF token for its forms."""

    csrf: str = ""
    form: dict[str, Any] = field(default_factory=dict)


def caller_from_cookie(request: Request, session: Session) -> Caller | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        user = auth.user_for_access_token(session, *decode_access_token(token))
    except Unauthorized:
        return None
    request.state.username = user.username  # for the access log
    return Caller(user=user, actor=auth.actor_for(session, user))


async def get_page_caller(request: Request, session: SessionDep) -> PageCaller:
    """The page's user; for a form post also its fields, with the CSRF token checked."""
    caller = caller_from_cookie(request, session)
    form: dict[str, Any] = {}
    if request.method not in SAFE_METHODS:
        if not same_origin(request):
            raise Forbidden("this form came from another site")
        data = await request.form()
        items = [(k, v) for k, v in data.multi_items() if isinstance(v, str)]
        form = dict(items)
        if caller is None:
            raise LoginRequired(
                next_url=request.url.path, pending=sign_pending(request.url.path, items)
            )
        if not hmac.compare_digest(form.get(CSRF_FIELD, ""), csrf_token(request.cookies[COOKIE])):
            # An old tab from before the last sign-in: keep the action, confirm on sign-in.
            raise LoginRequired(
                next_url=request.url.path,
                pending=sign_pending(request.url.path, items),
                reason="stale_form",
            )
    elif caller is None:
        next_url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(next_url=next_url)
    return PageCaller(
        user=caller.user,
        actor=caller.actor,
        csrf=csrf_token(request.cookies[COOKIE]),
        form=form,
    )


PageCallerDep = Annotated[PageCaller, Depends(get_page_caller)]


def get_browser_caller(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2)]
) -> Caller:
    """For read-only pages that scripts fetch too (maps): a bearer token, else the session
    cookie; a browser without either is sent to sign in, a script gets 401."""
    if token:
        return get_caller(request, session, token)
    caller = caller_from_cookie(request, session)
    if caller is not None:
        return caller
    if "text/html" in request.headers.get("accept", ""):
        next_url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(next_url=next_url)
    return get_caller(request, session, None)


BrowserCallerDep = Annotated[Caller, Depends(get_browser_caller)]
