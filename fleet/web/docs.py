"""The API's docs behind sign-in (FLEET_DOCS_SIGN_IN, on by default in production): /docs and
/openapi.json answer a signed-in user (session cookie or bearer token) only; a browser without
a session is sent to sign in, a script gets 401."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse

from fleet.auth.browser import BrowserCallerDep

OPENAPI_URL = "/openapi.json"
DOCS_URL = "/docs"
REDIRECT_URL = "/docs/oauth2-redirect"


def install(app: FastAPI) -> None:
    @app.get(OPENAPI_URL, include_in_schema=False)
    def openapi(_caller: BrowserCallerDep) -> JSONResponse:
        schema: dict[str, Any] = app.openapi()
        return JSONResponse(schema)

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui(_caller: BrowserCallerDep) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=REDIRECT_URL,
        )

    @app.get(REDIRECT_URL, include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
