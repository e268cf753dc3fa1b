"""The FastAPI application: JSON API under /api/v1, OpenAPI docs at /docs and /redoc."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from sqlalchemy import text

from fleet import __version__, wiring
from fleet.core import http_errors as errors
from fleet.core import security_headers
from fleet.core.config import get_settings
from fleet.core.db import get_engine
from fleet.maps import views as map_views
from fleet.pages import views as page_views
from fleet.web import admission, docs, ops

DESCRIPTION = """
fleet runs a bank's fleet of transfer-phone terminals (转账电话): the inventory of
branches, staff, merchants, wholesale markets and terminals, and each terminal's lifecycle.

**Sign in**: `POST /api/v1/auth/token` with username and password (OAuth2 password flow),
then send `Authorization: Bearer <token>`. Scripts use a long-lived API token from
`POST /api/v1/auth/api-tokens`. You see and change only your branch's subtree; objects of
other branches answer 404. Errors are JSON: `{"error": {"code", "message", "details"}}`.
"""


def create_app() -> FastAPI:
    wiring.plug_in()
    app = FastAPI(
        title="fleet",
        version=__version__,
        description=DESCRIPTION,
        # FastAPI's own docs pages load Swagger UI and ReDoc from a CDN: fleet serves them
        # itself (fleet.web.docs), behind sign-in when FLEET_DOCS_SIGN_IN.
        docs_url=None,
        openapi_url=None,
        redoc_url=None,
    )
    errors.install(app)
    docs.install(app, need_sign_in=get_settings().docs_need_sign_in)

    # Every operation documents the error answers the one handler gives (errors.py).
    api = APIRouter(prefix="/api/v1", responses=errors.ERROR_RESPONSES)
    for router in wiring.API_ROUTERS:
        api.include_router(router)
    app.include_router(api)
    map_views.install(app)
    # Web pages for people (sign-in by cookie); their errors are HTML, the API's stay JSON.
    page_views.install(app)
    # No more requests in progress than the database pool serves (admission.py); added
    # before ops so that the access log's duration includes the wait.
    app.add_middleware(admission.InFlightLimit, limit=admission.limit_for(get_engine()))
    # Request ids, access log and request metrics; /readyz and /metrics.
    ops.install(app)
    # Security headers on every answer (CSP, framing, sniffing, referrer, no-store).
    app.add_middleware(security_headers.SecurityHeaders)

    @app.get("/healthz", tags=["health"], responses={503: errors.ERROR_RESPONSES[503]})
    def healthz() -> dict[str, str]:
        """Liveness and database reachability; needs no sign-in."""
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    return app
