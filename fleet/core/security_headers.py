"""Security headers on every answer (issue 14), in one middleware the app adds.

Every answer: X-Content-Type-Options nosniff, Referrer-Policy same-origin, X-Frame-Options
DENY (and CSP frame-ancestors 'none'), and Cache-Control no-store unless the answer set its
own (pages, API answers, maps and exports carry personal data; the static files under
/static and /pages/static stay cacheable).

Content-Security-Policy: pages run only fleet's own scripts and styles (no inline script; style
attributes are allowed, which Leaflet's markers and a few pages use); map pages set their own,
`nonce_policy`, with the tile servers on offer and a per-answer nonce for the inline scripts
folium writes (fleet.maps.page); the API docs pages (Swagger UI, ReDoc) load only fleet's own
files too, and may add styles (ReDoc writes its own <style> tags) and run ReDoc's search in a
worker; every other answer (JSON, CSV, files) gets `default-src 'none'`.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC_PREFIXES = ("/static/", "/pages/static/")
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
_BASE = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'; connect-src 'self'; font-src 'self'"
)
PAGE_POLICY = (
    f"{_BASE}; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:"
)
DOCS_POLICY = (
    f"{_BASE}; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "worker-src 'self' blob:"
)
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"


def nonce_policy(nonce: str, img_sources: list[str]) -> str:
    """The policy of a page whose own inline scripts and styles carry `nonce` (the map pages:
    folium writes them), loading images (tiles) from `img_sources` too."""
    images = " ".join(img_sources)
    return (
        f"{_BASE}; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
        f"style-src-attr 'unsafe-inline'; img-src 'self' data: {images}".rstrip()
    )


def _policy_for(path: str, content_type: str) -> str:
    if not content_type.startswith("text/html"):
        return DATA_POLICY
    return DOCS_POLICY if path in DOCS_PATHS else PAGE_POLICY


class SecurityHeaders:
    """Adds the headers above to every HTTP answer, keeping any the route set itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON.items():
                    headers.setdefault(name, value)
                if "content-security-policy" not in headers:
                    policy = _policy_for(path, headers.get("content-type", ""))
                    headers["content-security-policy"] = policy
                if not path.startswith(STATIC_PREFIXES):
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
