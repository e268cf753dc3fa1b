"""The API's docs, Swagger UI at /docs and ReDoc at /redoc, with every file served by fleet
itself: they work on an intranet with no internet at all (issue 17).

Swagger UI and ReDoc come from npm at setup (maps/assets/package.json, swagger-ui-dist and
redoc, installed beside Leaflet and served at /static/vendor); the one line of our own that
starts Swagger UI is pages.static's api-docs.js, so the docs pages run no inline script.
Behind sign-in when FLEET_DOCS_SIGN_IN (on by default in production): /docs, /redoc and
/openapi.json then answer a signed-in user (session cookie or bearer token) only; a browser
without a session is sent to sign in, a script gets 401.
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse, JSONResponse

from fleet import __version__
from fleet.auth.browser import get_browser_caller
from fleet.core.errors import Unavailable
from fleet.maps import assets

log = logging.getLogger(__name__)

OPENAPI_URL = "/openapi.json"
DOCS_URL = "/docs"
REDOC_URL = "/redoc"
REDIRECT_URL = "/docs/oauth2-redirect"
STARTER_URL = f"/pages/static/api-docs.js?v={__version__}"

SWAGGER_CSS = "swagger-ui-dist/swagger-ui.css"
SWAGGER_JS = "swagger-ui-dist/swagger-ui-bundle.js"
REDOC_JS = "redoc/bundles/redoc.standalone.js"
FAVICON = "swagger-ui-dist/favicon-32x32.png"
REDIRECT_JS = "swagger-ui-dist/oauth2-redirect.js"


def _vendor(path: str) -> str:
    return f"{assets.VENDOR_URL}/{path}"


def check(*paths: str) -> None:
    """Refuses a docs page whose files are not installed, saying how to install them."""
    for path in paths:
        if not (assets.vendor_dir() / path).is_file():
            log.warning("API docs asset missing: %s", assets.vendor_dir() / path)
            raise Unavailable(
                "the API docs' files are not installed ({asset} is missing): run "
                "scripts/setup.sh, or npm ci --prefix maps/assets",
                asset=path,
            )


def swagger_page(title: str) -> str:
    """Swagger UI: its style and script from fleet, started by api-docs.js from data-*."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{_vendor(SWAGGER_CSS)}">
<link rel="icon" href="{_vendor(FAVICON)}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{OPENAPI_URL}" data-oauth2-redirect-url="{REDIRECT_URL}">
</div>
<script src="{_vendor(SWAGGER_JS)}"></script>
<script src="{STARTER_URL}"></script>
</body>
</html>
"""


def redoc_page(title: str) -> str:
    """ReDoc's standalone bundle from fleet, reading the schema from `spec-url`."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="icon" href="{_vendor(FAVICON)}">
</head>
<body>
<noscript>ReDoc needs JavaScript to show the API's documentation.</noscript>
<redoc spec-url="{OPENAPI_URL}"></redoc>
<script src="{_vendor(REDOC_JS)}"></script>
</body>
</html>
"""


# Where an OAuth2 sign-in started from Swagger UI comes back: Swagger UI's own script reads
# the answer and hands it to the window that opened it.
REDIRECT_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Swagger UI: OAuth2 redirect</title></head>
<body>
<script src="{_vendor(REDIRECT_JS)}"></script>
</body>
</html>
"""


def install(app: FastAPI, *, need_sign_in: bool) -> None:
    """/openapi.json, /docs (with its OAuth2 redirect) and /redoc; the first three behind
    sign-in when `need_sign_in`. The app is created with FastAPI's own docs turned off."""
    signed_in = [Depends(get_browser_caller)] if need_sign_in else []

    @app.get(OPENAPI_URL, include_in_schema=False, dependencies=signed_in)
    def openapi() -> JSONResponse:
        schema: dict[str, Any] = app.openapi()
        return JSONResponse(schema)

    @app.get(DOCS_URL, include_in_schema=False, dependencies=signed_in)
    def swagger_ui() -> HTMLResponse:
        check(SWAGGER_CSS, SWAGGER_JS)
        return HTMLResponse(swagger_page(f"{app.title} - Swagger UI"))

    @app.get(REDOC_URL, include_in_schema=False, dependencies=signed_in)
    def redoc() -> HTMLResponse:
        check(REDOC_JS)
        return HTMLResponse(redoc_page(f"{app.title} - ReDoc"))

    @app.get(REDIRECT_URL, include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return HTMLResponse(REDIRECT_PAGE)
