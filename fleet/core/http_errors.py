"""One JSON shape for every error: {"error": {"code", "message", "details"}}.

`install` maps every failure to it (domain errors, bad input, unknown routes, an unreachable
database), and `ERROR_RESPONSES` documents it in the OpenAPI schema for every operation, so
that a client (and schemathesis) knows each status the API may answer.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fleet.core.db import database_failure
from fleet.core.errors import Busy, FleetError, TooManyRequests, Unauthorized, Unavailable
from fleet.core.i18n import first_wish, texts_for

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = "5"
BUSY_RETRY_AFTER_SECONDS = "2"  # another writer's lock: it is usually gone in a moment


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """The body of every error answer."""

    error: ErrorDetail


def _documented(description: str) -> dict[str, Any]:
    # Errors are JSON even where the success is a page or a file: say so explicitly, or
    # FastAPI documents them in the route's own media type (text/html for a map).
    json = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    return {"model": ErrorBody, "description": description, "content": json}


# The statuses any operation under /api/v1 may answer (one handler makes them all).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _documented("Not signed in, or the token is invalid, expired or revoked"),
    403: _documented("Your role may not do this"),
    404: _documented("No such object, or it belongs to a branch outside yours"),
    409: _documented("Conflicts with what is stored (a duplicate, a refused state change)"),
    422: _documented("Bad input: `details` lists each field and its reason"),
    503: _documented("The database (or an outside service it needs) is unreachable; retry"),
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _where(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "request"


def message_for(request: Request | None, exc: FleetError) -> str:
    """The error's message in Chinese when the client asks for it first (Accept-Language: zh…),
    else in English, the API's language; `code` is the same in both, for programs."""
    first = first_wish(request.headers.get("accept-language", "")) if request else ""
    return texts_for("zh").error(exc) if first.startswith("zh") else exc.message


def retry_after(exc: FleetError) -> str | None:
    """Seconds worth waiting before a retry (a busy or restarting database, a rate limit), for
    the Retry-After header of the API's answers and the pages' alike."""
    if isinstance(exc, Busy):
        return BUSY_RETRY_AFTER_SECONDS
    if isinstance(exc, Unavailable):
        return RETRY_AFTER_SECONDS
    if isinstance(exc, TooManyRequests):
        return str(exc.retry_after)
    return None


def fleet_error_response(exc: FleetError, request: Request | None = None) -> JSONResponse:
    """The JSON answer for a domain error (the web pages answer theirs as HTML)."""
    headers = None
    if isinstance(exc, Unauthorized):
        headers = {"WWW-Authenticate": "Bearer"}
    elif (seconds := retry_after(exc)) is not None:
        headers = {"Retry-After": seconds}
    return JSONResponse(
        error_body(exc.code, message_for(request, exc), exc.details),
        status_code=exc.status_code,
        headers=headers,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(FleetError)
    def _fleet_error(request: Request, exc: FleetError) -> JSONResponse:
        return fleet_error_response(exc, request)

    @app.exception_handler(RequestValidationError)
    def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{_where(tuple(e['loc']))}: {e['msg']}" for e in exc.errors()]
        details = [{"field": _where(tuple(e["loc"])), "reason": e["msg"]} for e in exc.errors()]
        return JSONResponse(error_body("invalid", "; ".join(problems), details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI's "error parsing the body" (bytes that are not UTF-8, a broken form):
            # bad input like any other, answered as every bad input is.
            return JSONResponse(error_body("invalid", str(exc.detail)), status_code=422)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(OverflowError, database_error)


def database_meaning(exc: Exception) -> FleetError:
    """A lost or refused connection is an outage (503, retry), a value that does not fit is
    bad input (422); anything else is a bug, re-raised for the 500 handler and its traceback."""
    meaning = database_failure(exc)
    if meaning is None:
        raise exc
    log.warning("database refused a request: %s", str(exc).strip().splitlines()[:1])
    return meaning


def database_error(request: Request, exc: Exception) -> JSONResponse:
    return fleet_error_response(database_meaning(exc), request)
