"""The FastAPI application: JSON API under /api/v1, OpenAPI docs at /docs."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from sqlalchemy import text

from fleet import __version__
from fleet.auth import views as auth_views
from fleet.core.db import get_engine
from fleet.feeds import views as feed_views
from fleet.imports import views as import_views
from fleet.inventory import views as inventory_views
from fleet.jobs import views as job_views
from fleet.maps import views as map_views
from fleet.markets import views as market_views
from fleet.migrations import load_models
from fleet.pages import views as page_views
from fleet.pay import views as pay_views
from fleet.recovery import views as recovery_views
from fleet.scoring import views as scoring_views
from fleet.visits import views as visit_views
from fleet.web import admission, audit, errors, ops

DESCRIPTION = """
fleet runs a bank's fleet of transfer-phone terminals (转账电话): the inventory of
branches, staff, merchants, wholesale markets and terminals, and each terminal's lifecycle.

**Sign in**: `POST /api/v1/auth/token` with username and password (OAuth2 password flow),
then send `Authorization: Bearer <token>`. Scripts use a long-lived API token from
`POST /api/v1/auth/api-tokens`. You see and change only your branch's subtree; objects of
other branches answer 404. Errors are JSON: `{"error": {"code", "message", "details"}}`.
"""


def create_app() -> FastAPI:
    load_models()
    app = FastAPI(
        title="fleet",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
    )
    errors.install(app)

    # Every operation documents the error answers the one handler gives (errors.py).
    api = APIRouter(prefix="/api/v1", responses=errors.ERROR_RESPONSES)
    api.include_router(auth_views.router)
    # Before inventory: /markets/ranking must not be taken for /markets/{market_id}.
    api.include_router(market_views.router)
    api.include_router(inventory_views.router)
    api.include_router(audit.router)
    api.include_router(import_views.router)
    api.include_router(scoring_views.router)
    api.include_router(feed_views.router)
    api.include_router(recovery_views.router)
    api.include_router(visit_views.router)
    api.include_router(job_views.router)
    api.include_router(pay_views.router)
    app.include_router(api)
    map_views.install(app)
    # Web pages for people (sign-in by cookie); their errors are HTML, the API's stay JSON.
    page_views.install(app)
    # No more requests in progress than the database pool serves (admission.py); added
    # before ops so that the access log's duration includes the wait.
    app.add_middleware(admission.InFlightLimit, limit=admission.limit_for(get_engine()))
    # Request ids, access log and request metrics; /readyz and /metrics.
    ops.install(app)

    @app.get("/healthz", tags=["health"], responses={503: errors.ERROR_RESPONSES[503]})
    def healthz() -> dict[str, str]:
        """Liveness and database reachability; needs no sign-in."""
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    return app
