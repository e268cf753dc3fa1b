"""Operations endpoints and middleware: request ids and access logs, /readyz, /metrics.

/metrics answers an admin's bearer token, or FLEET_METRICS_TOKEN for a Prometheus scraper
(`authorization: Bearer <token>` in its scrape config); never an anonymous caller, since
route names and counts tell an outsider how the service is used.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from fleet.auth import service as auth
from fleet.auth.dependencies import oauth2
from fleet.auth.security import API_TOKEN_PREFIX, decode_access_token
from fleet.core import metrics
from fleet.core.access import Role
from fleet.core.config import get_settings
from fleet.core.db import get_engine
from fleet.core.errors import Forbidden, Unauthorized
from fleet.core.logs import request_id
from fleet.core.requests import SessionDep
from fleet.migrations import current_head

access_log = logging.getLogger("fleet.access")
router = APIRouter(tags=["health"])
_GOOD_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


def _route_of(request: Request) -> str:
    """The route template ("/api/v1/terminals/{terminal_id}"), so that metrics have one series
    per route, not per id; "unmatched" for a path no route answers."""
    route = request.scope.get("route")
    template = getattr(route, "path", None)
    if not isinstance(template, str):
        return "unmatched"
    # The matched route knows its path below the router prefix (/api/v1): the prefix is the
    # leading part of the actual path, which holds no parameters.
    actual = request.url.path.split("/")
    below = template.split("/")
    if ":path}" in template or len(actual) < len(below):
        return template
    return "/".join(actual[: len(actual) - len(below) + 1]) + template


def install(app: FastAPI) -> None:
    app.include_router(router)

    @app.middleware("http")
    async def _observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        given = request.headers.get("x-request-id", "")
        rid = given if _GOOD_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            response.headers["X-Request-ID"] = rid
            return response
        finally:
            seconds = time.perf_counter() - started
            route = _route_of(request)
            metrics.REQUESTS.labels(request.method, route, str(status)).inc()
            metrics.LATENCY.labels(request.method, route).observe(seconds)
            access_log.info(
                "%s %s %d",
                request.method,
                request.url.path,
                status,
                extra={
                    "request_id": rid,
                    "method": request.method,
                    "path": request.url.path,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                    "user": getattr(request.state, "username", None),
                },
            )
            request_id.reset(token)


def migration_state() -> tuple[bool, str]:
    """(ready, reason): the database answers and is at the newest migration."""
    try:
        with get_engine().connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except Exception as exc:
        return False, f"database not reachable or not migrated: {type(exc).__name__}"
    head = current_head()
    if rows != [head]:
        found = ", ".join(rows) or "none"
        return False, f"migrations not current: database at {found}, code at {head}"
    return True, "ok"


@router.get("/readyz")
def readyz() -> JSONResponse:
    """Ready for traffic: the database answers and its schema is at the newest migration;
    503 with the reason otherwise. Needs no sign-in (for load balancers)."""
    ready, reason = migration_state()
    body = {"status": "ready" if ready else "unavailable", "reason": reason}
    return JSONResponse(body, status_code=200 if ready else 503)


def _metrics_caller(session: SessionDep, token: Annotated[str | None, Depends(oauth2)]) -> None:
    if not token:
        raise Unauthorized("send 'Authorization: Bearer <admin or metrics token>'")
    wanted = get_settings().metrics_token
    if wanted and hmac.compare_digest(token.encode(), wanted.encode()):
        return
    if token.startswith(API_TOKEN_PREFIX):
        user = auth.user_for_api_token(session, token)
    else:
        user = auth.user_for_access_token(session, *decode_access_token(token))
    if user.role is not Role.admin:
        raise Forbidden("only an admin or the metrics scraper reads /metrics")


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(_metrics_caller)])
def metrics_endpoint() -> Response:
    """Prometheus metrics (text format)."""
    return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)
